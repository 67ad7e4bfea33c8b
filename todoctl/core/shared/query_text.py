"""Other sessions' SQL, safe to show: every constant and comment masked by PostgreSQL's own lexer.

    mask_literals("ALTER ROLE app PASSWORD 'hunter2'")  == "ALTER ROLE app PASSWORD '…'"
    mask_literals("SELECT * FROM t WHERE id = 42")       == "SELECT * FROM t WHERE id = ?"

Query text from ``pg_stat_activity`` or ``pg_stat_statements`` can carry passwords and tokens in
string literals. The text is tokenised by libpg_query's scanner (pglast), the same lexer the server
uses, so dollar quotes, ``E''`` escapes, ``U&''`` strings and quotes inside comments are told
apart exactly; no regex guesses where a literal ends. Text the scanner cannot read to the end
(cut by ``track_activity_query_size`` inside a quote, or not SQL at all) is shown only up to the
first point it cannot read, followed by "…": when in doubt, hide more.
"""

from __future__ import annotations

STRING_TOKENS = frozenset({"SCONST", "USCONST", "BCONST", "XCONST"})  # '', E'', $$ $$, U&'', B'', X''
NUMBER_TOKENS = frozenset({"ICONST", "FCONST"})
# Comments may carry anything (sqlcommenter tags, a pasted token): shown as an empty comment.
COMMENT_TOKENS = frozenset({"C_COMMENT", "SQL_COMMENT"})

STRING_MASK = "'…'"
NUMBER_MASK = "?"
COMMENT_MASK = "/*…*/"
CUT = "…"


def _masked(sql: str, tokens) -> str:
    out: list[str] = []
    position = 0
    for token in tokens:
        # pglast gives character offsets, end inclusive.
        out.append(sql[position : token.start])
        if token.name in STRING_TOKENS:
            out.append(STRING_MASK)
        elif token.name in NUMBER_TOKENS:
            out.append(NUMBER_MASK)
        elif token.name in COMMENT_TOKENS:
            out.append(COMMENT_MASK)
        else:
            out.append(sql[token.start : token.end + 1])
        position = token.end + 1
    # Only whitespace can follow the last token: anything else was not scanned, so it is not shown.
    tail = sql[position:]
    out.append(tail if not tail.strip() else CUT)
    return "".join(out)


def mask_literals(sql: str | None) -> str | None:
    """``sql`` with string, number, bit-string literals and comments replaced by placeholders."""
    if sql is None or not sql.strip():
        return sql
    from pglast import parser

    try:
        return _masked(sql, parser.scan(sql))
    except parser.ParseError as exc:
        # The scanner reports where it stopped (e.g. an unterminated quote at the end of a truncated
        # query): what comes before that point scans, what comes after is not shown.
        stop = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        if 0 < stop < len(sql):
            prefix = mask_literals(sql[:stop])
            return prefix.rstrip(CUT).rstrip() + " " + CUT if prefix and prefix.strip() else CUT
        return CUT
    except Exception:  # noqa: BLE001 — a lexer crash must not leak the text it failed on
        return CUT

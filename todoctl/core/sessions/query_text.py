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


def _setting_values(sql: str, tokens) -> set[int]:
    """Indexes of the tokens that are a setting's value (``SET x = secret``, ``ALTER ROLE r SET x TO
    secret``, ``SET ROLE r``): unquoted, they are identifiers to the lexer, yet they may be secrets.

    The statement is parsed; every value of every SET in it (at any depth: ALTER ROLE/DATABASE/
    SYSTEM/FUNCTION ... SET) is hidden, from its first value to the end of its statement. Text that
    does not parse (cut short) hides everything after ``SET name =``/``TO`` in each statement.
    """
    import json

    from pglast import parser

    ends = [t.start for t in tokens if t.name == "ASCII_59"] + [len(sql)]  # ';' ends a statement
    starts: list[int] = []
    try:
        tree = json.loads(parser.parse_sql_json(sql))
    except Exception:  # noqa: BLE001 - cut short or not SQL: fall back on the tokens
        tree = None
    if tree is not None:
        encoded_offsets = _byte_to_char(sql)
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if str(node.get("kind", "")).startswith("VAR_SET") and node.get("args"):
                    locations = [a.get(next(iter(a)), {}).get("location") for a in node["args"] if isinstance(a, dict)]
                    found = [encoded_offsets.get(loc, loc) for loc in locations if isinstance(loc, int) and loc >= 0]
                    if found:
                        starts.append(min(found))
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    else:
        begin = 0
        for index, token in enumerate(tokens):
            if token.name == "ASCII_59":
                begin = index + 1
            elif token.name == "SET" and any(t.name in ("SET", "ALTER", "RESET") for t in tokens[begin : index + 1][:1]):
                after = next((t for t in tokens[index + 1 :] if t.name in ("ASCII_61", "TO", "ASCII_59")), None)
                if after is not None and after.name != "ASCII_59":
                    starts.append(after.end + 1)
                elif index + 1 < len(tokens) and tokens[index + 1].name in ("ROLE", "SESSION"):
                    starts.append(tokens[index + 1].end + 1)
    hidden: set[int] = set()
    for start in starts:
        end = next(e for e in ends if e >= start)
        hidden.update(i for i, t in enumerate(tokens) if start <= t.start < end and t.name not in ("ASCII_44",))
    return hidden


def _byte_to_char(sql: str) -> dict[int, int]:
    """libpg_query's locations are byte offsets into the UTF-8 text; pglast's scanner gives characters."""
    offsets, position = {}, 0
    for index, char in enumerate(sql):
        offsets[position] = index
        position += len(char.encode("utf-8"))
    return offsets


def _masked(sql: str, tokens) -> str:
    out: list[str] = []
    position = 0
    tokens = list(tokens)
    values = _setting_values(sql, tokens)
    for index, token in enumerate(tokens):
        # pglast gives character offsets, end inclusive.
        out.append(sql[position : token.start])
        if index in values and token.name not in STRING_TOKENS | NUMBER_TOKENS | COMMENT_TOKENS:
            out.append(CUT)  # a setting's value, unquoted: an identifier to the lexer, maybe a secret
        elif token.name in STRING_TOKENS:
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

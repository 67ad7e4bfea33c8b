"""Health check on sequences: how much of its range each sequence (serial, identity or plain) has used.

A sequence that reaches its maximum makes every insert fail (``nextval: reached maximum value``),
and one that feeds a narrower column fails earlier, on the column's range: a ``bigint`` sequence
behind an ``integer`` column stops at 2,147,483,647 (``integer out of range``). So the limit is
the sequence's own bound or its column's type bound, whichever comes first.
"""

from __future__ import annotations

from todoctl.core.health.registry import Check, Context, Status, above, check, grade, query

TYPE_BOUNDS = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}

# Every sequence outside the catalogs, with the column that owns it (serial: dependency 'a';
# identity: 'i'), if any. last_value is NULL before the first nextval, or without the privilege to read it.
SEQUENCES_SQL = """
SELECT s.schemaname, s.sequencename, s.data_type::text AS data_type, s.last_value, s.min_value,
       s.max_value, s.increment_by, s.cycle, col.table_name, col.column_name, col.column_type
FROM pg_sequences s
JOIN pg_namespace n ON n.nspname = s.schemaname
JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = n.oid
LEFT JOIN LATERAL (
    SELECT t.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, NULL) AS column_type
    FROM pg_depend d
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    LIMIT 1
) col ON true
WHERE s.schemaname <> 'information_schema' AND s.schemaname NOT LIKE 'pg\\_%'
"""


def headroom(row) -> dict:
    """One sequence's share of its range used, judged by the tighter of its own and its column's bound."""
    ascending = row.increment_by > 0
    low, high = row.min_value, row.max_value
    column_bounds = TYPE_BOUNDS.get(row.column_type or "")
    if column_bounds:
        low, high = max(low, column_bounds[0]), min(high, column_bounds[1])
    limited_by = "column" if column_bounds and (high < row.max_value if ascending else low > row.min_value) else "sequence"
    limit = high if ascending else low
    if row.last_value is None:
        used = 0.0
    else:
        start, span = (row.min_value, high - row.min_value) if ascending else (row.max_value, row.max_value - low)
        used = 100 * abs(row.last_value - start) / span if span > 0 else 100.0
    return {
        "sequence": f"{row.schemaname}.{row.sequencename}",
        "schema": row.schemaname,
        "name": row.sequencename,
        "table": row.table_name,
        "column_name": row.column_name,
        "type": row.data_type,
        "column": f"{row.table_name}.{row.column_name}" if row.column_name else None,
        "column_type": row.column_type,
        "last_value": row.last_value,
        "limit": limit,
        "limited_by": limited_by,
        "cycle": row.cycle,
        "percent_used": round(min(used, 100.0), 2),
    }


@check("sequences", "share of its type's range each sequence (serial, identity) has used")
def _sequences(ctx: Context) -> Check:
    t = ctx.thresholds
    threshold = above(t.sequence_warn_pct, t.sequence_fail_pct, "% of range")
    found = sorted((headroom(r) for r in query(ctx, SEQUENCES_SQL)), key=lambda s: -s["percent_used"])
    if not found:
        return Check("sequences", Status.OK, "no sequences", threshold, None, {"sequences": [], "fullest": None})
    fullest = found[0]
    status = grade(fullest["percent_used"], t.sequence_warn_pct, t.sequence_fail_pct)
    over = [s for s in found if s["percent_used"] > t.sequence_warn_pct]
    of = f"{fullest['column']} ({fullest['column_type']})" if fullest["limited_by"] == "column" else fullest["type"]
    value = (
        f"{len(found)} sequence{'s' if len(found) != 1 else ''}; fullest {fullest['sequence']} "
        f"{fullest['percent_used']:g}% of {of} (at {fullest['last_value']} of {fullest['limit']})"
    )
    hint = None
    details = {"sequences": over, "fullest": fullest}
    if status is not Status.OK:
        details["sql"] = widen_sql(fullest)
        hint = f"widen the column and its sequence before they run out: {details['sql']}"
    return Check("sequences", status, value, threshold, hint, details)


def widen_sql(sequence: dict) -> str:
    """The statements that give a sequence (and the column it feeds) bigint's range."""
    from todoctl.core.sql_names import ident, qualified

    statements = []
    if sequence["column_name"] and sequence["column_type"] != "bigint":
        statements.append(
            f"ALTER TABLE {qualified(sequence['schema'], sequence['table'])} "
            f"ALTER COLUMN {ident(sequence['column_name'])} TYPE bigint;"
        )
    if sequence["type"] != "bigint":
        statements.append(f"ALTER SEQUENCE {qualified(sequence['schema'], sequence['name'])} AS bigint;")
    if not statements:  # already bigint: the range itself is running out
        statements.append(f"ALTER SEQUENCE {qualified(sequence['schema'], sequence['name'])} NO MAXVALUE;")
    return " ".join(statements)

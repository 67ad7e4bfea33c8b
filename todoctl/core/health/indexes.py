"""Health checks on indexes: invalid ones anywhere, unused and duplicate ones on the app's tables."""

from __future__ import annotations

from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    check,
    number,
    query,
    read_only,
)
import todoctl.core.catalog.index_overlap as index_overlap
from todoctl.core.catalog.details import IndexDetail, index_details
from todoctl.core.catalog.snapshot import key_sql, named_sql
from todoctl.core.sql_names import ident, qualified
from todoctl.project import app_tables


@check("invalid-indexes", "indexes left INVALID, e.g. by a failed CREATE INDEX CONCURRENTLY")
def _invalid_indexes(ctx: Context) -> Check:
    from todoctl.core.catalog.index_builds import invalid_indexes

    with read_only(ctx) as conn:
        states = invalid_indexes(conn)
    found = [{"schema": s.schema, "table": s.table, "index": s.index} for s in states if not s.being_built]
    # An index another live session is building is invalid until its build ends: not a failure.
    building = [
        {"schema": s.schema, "table": s.table, "index": s.index, "pid": s.building_pid, "phase": s.phase}
        for s in states if s.being_built
    ]
    if not found:
        value = "none" + (
            "; " + ", ".join(s.describe() for s in states if s.being_built) if building else ""
        )
        return Check("invalid-indexes", Status.OK, value, "none", None, {"indexes": [], "building": building})
    names = ", ".join(f"{r['index']} on {r['table']}" for r in found)
    return Check(
        "invalid-indexes",
        Status.FAIL,
        f"{len(found)}: {names}",
        "none",
        "an invalid index is maintained on every write but never used: DROP INDEX CONCURRENTLY it, "
        "fix the data, then rebuild it (`todoctl migrate up` for the app's own)",
        {"indexes": found, "building": building},
    )


def _size(nbytes: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return str(nbytes)  # pragma: no cover


@check("unused-indexes", "indexes on the app's tables never scanned, once their table is in use")
def _unused_indexes(ctx: Context) -> Check:
    t = ctx.thresholds
    rows = query(
        ctx,
        f"SELECT {key_sql('s.schemaname', 's.relname')} AS table, s.indexrelname AS index, s.idx_scan AS scans, "
        "pg_relation_size(s.indexrelid) AS bytes, "
        "coalesce(u.seq_scan, 0) + coalesce(u.idx_scan, 0) AS table_scans "
        "FROM pg_stat_user_indexes s JOIN pg_index x ON x.indexrelid = s.indexrelid "
        "JOIN pg_stat_user_tables u ON u.relid = s.relid "
        f"WHERE {named_sql(':tables', 's.schemaname', 's.relname')} "
        "AND NOT x.indisunique AND NOT x.indisprimary AND x.indisvalid "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1, 2",
        tables=app_tables(),
    )
    unused = [
        {"table": r.table, "index": r.index, "size_bytes": r.bytes, "table_scans": r.table_scans}
        for r in rows
        if r.scans == 0 and r.table_scans >= t.unused_index_min_scans
    ]
    judged = sum(1 for r in rows if r.table_scans >= t.unused_index_min_scans)
    threshold = f"0 scans (table >= {number(t.unused_index_min_scans)} scans)"
    if not unused:
        value = "none" if judged else f"none judged yet (no table scanned {number(t.unused_index_min_scans)} times)"
        return Check("unused-indexes", Status.OK, value, threshold, None, {"indexes": [], "judged": judged})
    names = ", ".join(f"{u['index']} ({_size(u['size_bytes'])})" for u in unused)
    # An index lives in its table's schema: named as the table is (schema.name outside the default one).
    sql = " ".join(f"DROP INDEX CONCURRENTLY {_index_ref(u['table'], u['index'])};" for u in unused)
    return Check(
        "unused-indexes",
        Status.WARN,
        f"{len(unused)}: {names}",
        threshold,
        "counts run since the last stats reset (on Neon, since the compute started): "
        f"confirm on production, then drop the index in a migration: {sql}",
        {"indexes": unused, "judged": judged, "sql": sql},
    )


def _index_ref(table: str, index: str) -> str:
    return qualified(table.split(".", 1)[0], index) if "." in table else ident(index)


def find_duplicates(indexes: list[IndexDetail]) -> list[dict]:
    """Indexes another one makes unnecessary: the same rule as `schema lint` (core/catalog/index_overlap.py)."""
    from todoctl.core.review.lint_rules import drop_index_sql

    return [
        {
            "table": o.index.table,
            "index": o.index.name,
            "covered_by": o.covered_by.name,
            "kind": o.kind,
            "size_bytes": o.index.size_bytes,
            "sql": drop_index_sql(o.index),
        }
        for o in index_overlap.overlaps(indexes)
    ]


@check("duplicate-indexes", "indexes on the app's tables covered by another index")
def _duplicate_indexes(ctx: Context) -> Check:
    with read_only(ctx) as conn:
        tables = set(app_tables())
        indexes = [i for i in index_details(conn) if i.table in tables]
    duplicates = find_duplicates(indexes)
    if not duplicates:
        return Check("duplicate-indexes", Status.OK, "none", "none", None, {"indexes": []})
    names = ", ".join(f"{d['index']} (covered by {d['covered_by']})" for d in duplicates)
    sql = " ".join(d["sql"] for d in duplicates)
    return Check(
        "duplicate-indexes",
        Status.WARN,
        f"{len(duplicates)}: {names}",
        "none",
        f"a duplicate costs writes and memory for nothing: drop it in a migration: {sql}",
        {"indexes": duplicates, "sql": sql},
    )

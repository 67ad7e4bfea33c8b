"""Catalog facts explain needs about the tables in a plan: row estimates, valid indexes, stale
statistics, and the indexes a named query relies on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from todoctl import named_queries
import todoctl.core.explain.plan as plan_nodes
from todoctl.core.explain.findings import Finding
from todoctl.core.explain.plan import PlanNode
from todoctl.core.sql_names import ident

if TYPE_CHECKING:
    pass
from todoctl.core.explain.transaction import _rollback, catalog_first

_INDEX_COLUMNS = """
SELECT c.relname, i.relname,
       array(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k),
       x.indpred IS NOT NULL, coalesce(pg_get_expr(x.indpred, x.indrelid, true), '')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
WHERE x.indisvalid AND c.oid IN (SELECT to_regclass(quote_ident(r)) FROM unnest(%s::text[]) AS r)
ORDER BY 1, 2
"""


def _catalog(raw, root: PlanNode) -> tuple[dict[str, float], dict[str, list[plan_nodes.IndexInfo]]]:
    """pg_class.reltuples and the valid indexes of the tables in a plan (for findings and budgets)."""
    relations = sorted({n.relation for n in root.walk() if n.relation})
    if not relations:
        return {}, {}
    try:
        with raw.cursor() as cur:
            catalog_first(cur)
            cur.execute(
                "SELECT r, (SELECT reltuples FROM pg_class WHERE oid = to_regclass(quote_ident(r))) "
                "FROM unnest(%s::text[]) AS r",
                [relations],
            )
            rows = {name: float(n) for name, n in cur.fetchall() if n is not None}
            cur.execute(_INDEX_COLUMNS, [relations])
            indexes: dict[str, list[plan_nodes.IndexInfo]] = {}
            for table, index, columns, partial, predicate in cur.fetchall():
                indexes.setdefault(table, []).append(plan_nodes.IndexInfo(index, list(columns), partial, predicate))
    finally:
        _rollback(raw)
    return rows, indexes


# Stale: never analyzed, or changed by more than autovacuum's own trigger (50 rows + 10%) since.
_STATISTICS = """
SELECT c.relname, c.reltuples, s.n_live_tup, s.n_mod_since_analyze, s.n_tup_ins + s.n_tup_upd + s.n_tup_del,
       coalesce(s.last_analyze, s.last_autoanalyze) IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_stats p WHERE p.schemaname = n.nspname AND p.tablename = c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid IN (SELECT to_regclass(quote_ident(r)) FROM unnest(%s::text[]) AS r)
"""


def _stale_tables(raw, root: PlanNode) -> list[str]:
    """The tables in a plan whose planner statistics are stale, so that ANALYZE would change them."""
    relations = sorted({n.relation for n in root.walk() if n.relation})
    if not relations:
        return []
    try:
        with raw.cursor() as cur:
            catalog_first(cur)
            cur.execute(_STATISTICS, [relations])
            rows = cur.fetchall()
    finally:
        _rollback(raw)
    stale = []
    for name, reltuples, live, modified, changes, analyzed, has_stats in rows:
        live, modified, changes = live or 0, modified or 0, changes or 0
        threshold = 50 + 0.1 * max(reltuples, 0)
        never = reltuples < 0 or (not has_stats and reltuples > 0)
        # Live rows are counted only since the last ANALYZE was recorded here: a database copied from
        # a template, or after pg_stat_reset, starts from zero (n_mod_since_analyze still counts).
        drifted = analyzed and abs(live - max(reltuples, 0)) > threshold
        # A load that ANALYZEs inside its own transaction (todoctl seed) reports its inserts after
        # the ANALYZE: every change ever made counts as "since", yet the statistics counted them all.
        loaded_then_analyzed = analyzed and not drifted and modified >= 0.9 * changes
        if never or drifted or (modified > threshold and not loaded_then_analyzed):
            stale.append(name)
    return stale


def relied_on_index_ddl(name: str) -> str:
    """``CREATE INDEX CONCURRENTLY ...`` for an index the app's models declare."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex
    from todoctl.project import app_metadata

    for table in app_metadata().tables.values():
        for index in table.indexes:
            if index.name == name:
                ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
                # Built beside live traffic, as the migrations do (no long write lock on the table).
                return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", ddl)
    raise KeyError(name)


def _missing_indexes(raw, named: named_queries.NamedQuery) -> list[Finding]:
    """The indexes the registry says this query relies on that are missing or invalid, with the fix."""
    if not named.indexes:
        return []
    try:
        with raw.cursor() as cur:
            catalog_first(cur)
            cur.execute(
                "SELECT r, x.indisvalid AND x.indisready FROM unnest(%s::text[]) AS r "
                "LEFT JOIN pg_index x ON x.indexrelid = to_regclass(quote_ident(r))",
                [list(named.indexes)],
            )
            state = dict(cur.fetchall())
    finally:
        _rollback(raw)
    found = []
    for index in named.indexes:
        if state.get(index) is None:
            found.append(
                Finding(
                    "missing-index",
                    index,
                    f"{index} does not exist; {named.name} relies on it",
                    f"re-create {index}: {relied_on_index_ddl(index)}",
                    relied_on_index_ddl(index),
                )
            )
        elif not state[index]:
            found.append(
                Finding(
                    "missing-index",
                    index,
                    f"{index} is INVALID (a failed concurrent build): the planner ignores it; {named.name} relies on it",
                    f"rebuild {index}: REINDEX INDEX CONCURRENTLY {ident(index)}",
                    f"REINDEX INDEX CONCURRENTLY {ident(index)}",
                )
            )
    return found

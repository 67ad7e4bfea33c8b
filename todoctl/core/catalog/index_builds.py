"""INVALID indexes, each told apart: failed (debris of a concurrent build that ended) or being
built right now by another live session (``CREATE INDEX CONCURRENTLY`` or ``REINDEX
CONCURRENTLY`` keeps its index INVALID until its last phase).

Used by `migrate status`, `migrate up` (which repairs only failed ones) and `health`
(invalid-indexes fails only on failed ones), so the three agree.

Which session builds an index: ``pg_stat_progress_create_index`` names it (pid, index). A role
without ``pg_read_all_stats`` sees only its own sessions' rows there; for such a role a build by
another role shows in ``pg_locks`` instead (visible to everyone): a concurrent build holds SHARE
UPDATE EXCLUSIVE on the table for all its phases, so another live session holding that lock on
an INVALID index's table is taken to be building it.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.core.catalog.snapshot import key_sql, named_sql


@dataclass(frozen=True)
class InvalidIndexState:
    schema: str
    table: str
    index: str
    building_pid: int | None  # a live session building it now; None: the build failed or was interrupted
    phase: str | None = None  # the build's phase, when the progress view shows it

    @property
    def being_built(self) -> bool:
        return self.building_pid is not None

    def describe(self) -> str:
        if self.building_pid is None:
            return f"{self.index} on {self.table}"
        phase = f", {self.phase}" if self.phase else ""
        return f"{self.index} on {self.table} (being built by pid {self.building_pid}{phase})"


# Every INVALID index in the schemas chosen by ``where`` (a condition on n, the table's namespace,
# and t, the table), with the session building it if one is.
_SQL = """
SELECT n.nspname, {table_key}, i.relname, coalesce(p.pid, l.pid), p.phase
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_stat_progress_create_index p ON p.index_relid = x.indexrelid
LEFT JOIN LATERAL (
    SELECT min(k.pid) AS pid FROM pg_catalog.pg_locks k
    WHERE k.locktype = 'relation' AND k.relation = x.indrelid AND k.mode = 'ShareUpdateExclusiveLock'
      AND k.granted AND k.pid <> pg_catalog.pg_backend_pid()
      AND k.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
      AND NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER)
      AND NOT pg_catalog.pg_has_role(CURRENT_USER, 'pg_read_all_stats', 'USAGE')
) AS l ON true
WHERE NOT x.indisvalid AND {where}
ORDER BY 1, 2, 3
"""

APP_SCHEMA = named_sql("%s", name="t.relname")
_TABLE_KEY = key_sql(name="t.relname")  # the table as MetaData names it (schema.name outside the default schema)
USER_SCHEMAS = "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'"


def invalid_indexes(conn, *, tables: list[str] | None = None) -> list[InvalidIndexState]:
    """Every INVALID index (on the app's ``tables``, named as MetaData keys them, or in every user schema), failed or
    being built; ``conn`` is a psycopg or a SQLAlchemy connection."""
    execute = getattr(conn, "exec_driver_sql", None) or conn.execute
    if tables is None:
        rows = execute(_SQL.format(where=USER_SCHEMAS, table_key=_TABLE_KEY)).fetchall()
    else:
        rows = execute(_SQL.format(where=APP_SCHEMA, table_key=_TABLE_KEY), (list(tables),)).fetchall()
    return [InvalidIndexState(*row) for row in rows]

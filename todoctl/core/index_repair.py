"""INVALID indexes left by a failed or interrupted concurrent build: found, explained, repaired.

A ``CREATE INDEX CONCURRENTLY`` (or ``DROP INDEX CONCURRENTLY``) that fails or is cancelled
leaves an INVALID index: maintained on every write, never used. `migrate up` repairs each
one against the revision the database ends at:

- the revision defines an index of that name: drop it and build it again, CONCURRENTLY, from
  the revision's definition. PostgreSQL's documentation gives drop-and-recreate as the
  recovery for a failed CREATE INDEX CONCURRENTLY (14-18); REINDEX INDEX CONCURRENTLY would
  also work, but a failed one adds a second invalid ``*_ccnew`` index, and it rebuilds what
  the catalog says rather than what the revision says.
- it does not (debris of an interrupted build in another revision, such as a failed
  downgrade's): ``DROP INDEX CONCURRENTLY``.

What a revision defines: at head, the models (SQLModel metadata, the single source of truth
that `migrate check` already holds the database to; cheap and needs no privilege). At any
other revision the models say nothing, so the history is replayed up to that revision on a
throwaway database and its indexes read back from the server. That costs a second or two and
CREATEDB, and only happens for `migrate up TARGET` short of head with an INVALID index left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from todoctl.core.migration_settings import Timeouts, timeout_statements
from todoctl.db.url import DatabaseURL
from todoctl.models import APP_TABLES

# An index being built concurrently right now is invalid until its build ends: not debris.
_LEFTOVER_SQL = (
    "SELECT t.relname, i.relname FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
    "JOIN pg_namespace n ON n.oid = t.relnamespace "
    "WHERE NOT x.indisvalid AND n.nspname = current_schema() AND t.relname = ANY(%s) "
    "AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = x.indexrelid) "
    "ORDER BY 1, 2"
)


@dataclass(frozen=True)
class IndexRepair:
    table: str
    index: str
    action: str  # "rebuild" | "drop"
    revision: str  # the revision the decision was made against
    done: bool = False

    def describe(self) -> str:
        verb = {("rebuild", True): "rebuilt", ("drop", True): "dropped"}.get((self.action, self.done), self.action)
        why = "defined" if self.action == "rebuild" else "not defined"
        return f"{verb} INVALID index {self.index} on {self.table} ({why} at {self.revision})"


def leftover_invalid(conn) -> list[tuple[str, str]]:
    """(table, index) of every INVALID index on the app's tables (a psycopg or SQLAlchemy connection)."""
    execute = getattr(conn, "exec_driver_sql", None) or conn.execute
    return [tuple(row) for row in execute(_LEFTOVER_SQL, (list(APP_TABLES),)).fetchall()]


def _concurrently(index) -> str:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    options = index.dialect_options["postgresql"]
    before = options["concurrently"]
    options["concurrently"] = True  # compiled once, restored at once: the metadata stays as declared
    try:
        return str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    finally:
        options["concurrently"] = before


def definitions_at_head() -> dict[str, str]:
    """index name -> CREATE INDEX CONCURRENTLY statement, from the models."""
    from sqlmodel import SQLModel

    import todoctl.models  # noqa: F401  (registers the tables)

    return {
        index.name: _concurrently(index)
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
    }


def definitions_at(url: DatabaseURL, revision: str, *, migrations: Path | str | None) -> dict[str, str]:
    """index name -> CREATE INDEX CONCURRENTLY statement, replayed on a throwaway database."""
    from todoctl.core.migrate import RunOptions, upgrade
    from todoctl.db.engine import psycopg_connection
    from todoctl.db.scratch import scratch_database

    with scratch_database(url, "indexes") as scratch:
        upgrade(scratch, revision, migrations=migrations, options=RunOptions(lock_wait=10))
        with psycopg_connection(scratch, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace",
                (list(APP_TABLES),),
            ).fetchall()
    # pg_get_indexdef always starts "CREATE [UNIQUE ]INDEX name ON": the server's own wording.
    return {name: re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", sql) for name, sql in rows}


def plan(leftovers: list[tuple[str, str]], defined: dict[str, str], revision: str) -> list[IndexRepair]:
    return [
        IndexRepair(table, index, "rebuild" if index in defined else "drop", revision) for table, index in leftovers
    ]


class RepairFailed(Exception):
    """A repair statement failed; ``done`` holds the repairs finished before it."""

    def __init__(self, repair: IndexRepair, done: list[IndexRepair], error: BaseException) -> None:
        super().__init__(str(error))
        self.repair, self.done, self.error = repair, done, error


def repair(
    url: DatabaseURL,
    revision: str,
    *,
    is_head: bool,
    migrations: Path | str | None,
    timeouts: Timeouts,
) -> list[IndexRepair]:
    """Rebuild or drop every INVALID app index, under the caller's migration lock and these timeouts."""
    import psycopg
    from psycopg import sql

    from todoctl.db.engine import psycopg_connection

    with psycopg_connection(url, autocommit=True, application_name="todoctl migrate (index repair)") as conn:
        leftovers = leftover_invalid(conn)
        if not leftovers:
            return []
        defined = definitions_at_head() if is_head else definitions_at(url, revision, migrations=migrations)
        for statement in timeout_statements(timeouts):
            conn.execute(statement)
        done: list[IndexRepair] = []
        for item in plan(leftovers, defined, revision):
            try:
                conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(item.index)))
                if item.action == "rebuild":
                    conn.execute(defined[item.index])
            except psycopg.Error as exc:
                raise RepairFailed(item, done, exc) from exc
            done.append(IndexRepair(item.table, item.index, item.action, revision, done=True))
        return done

"""INVALID indexes left by a failed or interrupted concurrent build: found, explained, repaired.

A ``CREATE INDEX CONCURRENTLY`` (or ``DROP INDEX CONCURRENTLY``) that fails or is cancelled
leaves an INVALID index: maintained on every write, never used. `migrate up` repairs each
one against the revision the database ends at:

- the revision does not define an index of that name (debris of a build in another revision,
  such as a failed downgrade's, or a ``*_ccnew`` left by a failed REINDEX): DROP INDEX
  CONCURRENTLY.
- it does: REINDEX INDEX CONCURRENTLY, which PostgreSQL's documentation (12 and later, so
  14-18) gives beside drop-and-recreate as the recovery for a failed concurrent build. It is
  chosen because it never leaves the index missing: until the swap at its very end the old
  (invalid) index stays, so a REINDEX that fails or is interrupted leaves that index, and at
  worst an invalid ``*_ccnew``, for the next `migrate up` to find again; a drop followed by a
  failed CREATE would leave nothing to find. It rebuilds the catalog's definition, which is
  the revision's: like migration_ops.create_index_concurrently, this relies on an index name
  meaning one definition throughout the history.

What a revision defines (names are enough): at head, the models (the app's metadata, the
single source of truth that `migrate check` already holds the database to; cheap, and needs
no privilege). At any other revision the models say nothing, so the history is replayed up to
that revision on a throwaway database and its index names read back from the server. That
costs a second or two and CREATEDB, and only happens for `migrate up TARGET` short of head
with an INVALID index left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from todoctl.core.migrate.settings import Timeouts, timeout_statements
from todoctl.db.url import DatabaseURL
from todoctl.errors import TodoctlError
from todoctl.core.catalog.snapshot import named_sql
from todoctl.project import app_metadata, app_tables



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
    """(table, index) of every INVALID index on the app's tables left by a build that ended (a psycopg
    or SQLAlchemy connection); one another live session is building now is not debris, and is left alone."""
    from todoctl.core.catalog.index_builds import invalid_indexes

    return [(i.table, i.index) for i in invalid_indexes(conn, tables=app_tables()) if not i.being_built]


def names_at_head() -> set[str]:
    """The indexes the models define."""
    return {index.name for table in app_metadata().tables.values() for index in table.indexes}


def plan(leftovers: list[tuple[str, str]], defined: set[str], revision: str) -> list[IndexRepair]:
    """Drops first: a ``*_ccnew`` leftover goes before its index is rebuilt (which makes a new one)."""
    repairs = [
        IndexRepair(table, index, "rebuild" if index in defined else "drop", revision) for table, index in leftovers
    ]
    return sorted(repairs, key=lambda r: r.action != "drop")


LOCK_NOT_AVAILABLE = "55P03"


class RepairFailed(Exception):
    """A repair statement failed; ``done`` holds the repairs finished before it.

    ``blockers``: after a ``lock_timeout``, the sessions holding locks on the app's tables (what the
    repair waited for is among them), as the migration runner names them for a revision; None when
    the failure was no lock wait, or they could not be read.
    """

    def __init__(
        self, repair: IndexRepair, done: list[IndexRepair], error: BaseException, blockers: list | None = None
    ) -> None:
        super().__init__(str(error))
        self.repair, self.done, self.error, self.blockers = repair, done, error, blockers

    @property
    def held_by(self) -> str:
        """``; held by pid 123 (...)`` for the error message, or nothing."""
        if self.blockers is None:
            return ""
        if not self.blockers:
            return "; no session holds a lock on the app's tables any more"
        return "; held by " + "; ".join(b.describe() for b in self.blockers)

    @property
    def hint(self) -> str | None:
        """How to end the blockers, when there are any."""
        from todoctl.core.sessions.others import how_to_end

        if not self.blockers:
            return None
        return how_to_end([b.pid for b in self.blockers]) + "; then run `todoctl migrate up` again"


def _blockers(conn) -> list | None:
    """Who holds locks on the app's tables, read on the repair's own connection once its wait gave up."""
    from todoctl.core.sessions.others import holding_app_locks

    try:
        return holding_app_locks(conn)
    except Exception:  # the connection is gone too: report the failure without them
        return None


def repair(
    url: DatabaseURL,
    revision: str,
    *,
    defined: Callable[[], set[str]],
    timeouts: Timeouts,
) -> list[IndexRepair]:
    """Rebuild or drop every INVALID app index, under the caller's migration lock and these timeouts.

    ``defined()``: the indexes ``revision`` defines (the runner's: at head the models say, else the
    history replayed on a throwaway database), asked only when INVALID indexes are left."""
    import psycopg
    from psycopg import sql

    from todoctl.db.engine import psycopg_connection

    with psycopg_connection(url, autocommit=True, application_name="todoctl migrate (index repair)") as conn:
        leftovers = leftover_invalid(conn)
        if not leftovers:
            return []
        try:
            names = defined()
        except TodoctlError as exc:
            raise TodoctlError(
                f"INVALID indexes are left ({', '.join(index for _, index in leftovers)}), and to know which of "
                f"them {revision} defines todoctl replays the history on a throwaway database: {exc.message}",
                hint="`todoctl migrate up` to head repairs them without one (the models say what head defines)",
                exit_code=exc.exit_code,
            ) from None
        for statement in timeout_statements(timeouts):
            conn.execute(statement)
        done: list[IndexRepair] = []
        for item in plan(leftovers, names, revision):
            verb = "REINDEX INDEX CONCURRENTLY {}" if item.action == "rebuild" else "DROP INDEX CONCURRENTLY IF EXISTS {}"
            try:
                schema = item.table.rpartition(".")[0]  # the index lives in its table's schema
                conn.execute(sql.SQL(verb).format(sql.Identifier(*filter(None, [schema, item.index]))))
            except psycopg.Error as exc:
                blockers = _blockers(conn) if getattr(exc, "sqlstate", None) == LOCK_NOT_AVAILABLE else None
                raise RepairFailed(item, done, exc, blockers) from exc
            done.append(IndexRepair(item.table, item.index, item.action, revision, done=True))
        return done

"""One rule for every command that needs a migrated database: the schema at head, or exit 1
with "run `todoctl migrate up`" (docs/exit-codes.md).

Used by explain, seed, health's query checks and the schema commands, so a database at base
or behind head is reported the same way everywhere, before any query can fail on a missing
table or column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from todoctl.errors import ExitCode, TodoctlError
from todoctl.results import human_only


@dataclass(frozen=True)
class RevisionState:
    database: str = human_only()
    current: list[str]  # empty at base
    heads: list[str]
    pending: list[str] = field(default_factory=list)  # oldest first
    unknown: list[str] = field(default_factory=list)  # revisions the scripts do not know

    @property
    def at_head(self) -> bool:
        return not self.pending and not self.unknown and sorted(self.current) == sorted(self.heads)


def _rows(conn, sql: str) -> list[tuple]:
    """Run a catalog query on a SQLAlchemy or a plain psycopg connection."""
    if hasattr(conn, "exec_driver_sql"):
        return list(conn.exec_driver_sql(sql).fetchall())
    return list(conn.execute(sql).fetchall())


def database_revisions(conn) -> list[str]:
    """The revisions recorded in ``alembic_version`` (empty when the table is missing: at base).

    The table is Alembic's, found where Alembic finds it (its default schema: the search path), so
    todoctl and `alembic current` agree; only the catalog function is named by its schema.
    """
    present = _rows(conn, "SELECT pg_catalog.to_regclass('alembic_version') IS NOT NULL")[0][0]
    if not present:
        return []
    return sorted(row[0] for row in _rows(conn, "SELECT version_num FROM alembic_version"))


def revision_state(conn, database: str, *, migrations: Path | str | None = None) -> RevisionState:
    """Where ``conn``'s database stands against the migration scripts."""
    from todoctl.core.history import script_directory

    script = script_directory(migrations)
    heads = sorted(script.get_heads())
    current = database_revisions(conn)
    unknown = []
    for rev in current:
        try:
            known = script.get_revision(rev) is not None
        except Exception:  # the revision map raises several types for an unknown id
            known = False
        if not known:
            unknown.append(rev)
    pending: list[str] = []
    if not unknown:
        lower = tuple(current) if current else "base"
        pending = [r.revision for r in reversed(list(script.iterate_revisions("heads", lower))) if r.revision not in current]
    return RevisionState(database, current, heads, pending, unknown)


def require_head(conn, database: str, what: str, *, migrations: Path | str | None = None) -> RevisionState:
    """Raise exit 1 with "run `todoctl migrate up`" unless the database is at head.

    ``what`` names the work that needs the schema, e.g. "seed" or "explain task-list".
    """
    state = revision_state(conn, database, migrations=migrations)
    if state.at_head:
        return state
    details = {"current": state.current, "heads": state.heads, "pending": state.pending, "unknown": state.unknown}
    head = ", ".join(state.heads) or "base"
    if state.unknown:
        raise TodoctlError(
            f"{database} is at revision {', '.join(state.unknown)}, which these migration scripts do not know; "
            f"{what} needs the schema at head ({head})",
            hint="the database was migrated by a newer or different checkout: update this one",
            exit_code=ExitCode.CHECK_FAILED,
            details=details,
        )
    where = "at base (no migrations applied)" if not state.current else f"at revision {', '.join(state.current)}"
    count = len(state.pending)
    raise TodoctlError(
        f"{database} is {where}, behind head {head} ({count} pending: {', '.join(state.pending)}); "
        f"{what} needs the schema at head",
        hint="run `todoctl migrate up`",
        exit_code=ExitCode.CHECK_FAILED,
        details=details,
    )

"""Where a database stands: its revisions, pending ones, untracked tables and INVALID indexes (`migrate status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from todoctl.core.drift.vocabulary import BEHIND_HISTORY, UNKNOWN_REVISION, SchemaDifference
from todoctl.core.history import Revision, revision_of, script_directory
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.project import app_tables
from todoctl.results import human_only

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class InvalidIndex:
    table: str
    index: str
    repair: str | None = None  # what `migrate up` will do with it: "rebuild" | "drop" (index_repair.py)
    building_pid: int | None = None  # being built right now by this live session: not failed, left alone


@dataclass(frozen=True)
class RevisionState:
    """One line of Django's showmigrations / dbmate's status: is this revision applied?"""

    revision: str
    message: str
    applied: bool | None  # None: the database is at a revision these scripts do not know
    current: bool


@dataclass
class MigrationStatus:
    database: str = human_only()
    current: list[str]
    heads: list[str]
    pending: list[Revision]
    unknown: list[str] = field(default_factory=list)
    untracked_tables: list[str] = field(default_factory=list)
    invalid_indexes: list[InvalidIndex] = field(default_factory=list)
    # Behind or unknown, in the vocabulary `migrate check` and `schema diff` share (core/drift/vocabulary.py).
    differences: list = field(default_factory=list)
    # Every revision, oldest first, applied or not (`migrate status` draws it as [X] / [ ]).
    revisions: list[RevisionState] = field(default_factory=list)

    __json_properties__ = ("at_head", "hints")

    @property
    def at_head(self) -> bool:
        return not self.pending and not self.unknown and sorted(self.current) == sorted(self.heads)

    @property
    def hints(self) -> dict[str, str]:
        from todoctl.core.drift.vocabulary import hints_for

        return hints_for(self.differences)


def current_revisions(conn: "Connection") -> list[str]:
    heads = list(MigrationContext.configure(conn).get_current_heads())
    conn.commit()
    return heads


def present_app_tables(conn: "Connection") -> list[str]:
    from todoctl.core.catalog.snapshot import key_sql, named_sql

    rows = conn.execute(
        text(
            f"SELECT {key_sql('schemaname', 'tablename')} FROM pg_tables "
            f"WHERE {named_sql(':names', 'schemaname', 'tablename')}"
        ),
        {"names": app_tables()},
    )
    return sorted(row[0] for row in rows)


def invalid_indexes(conn: "Connection") -> list[InvalidIndex]:
    """The INVALID indexes on the app's tables: failed ones, and those another session is building."""
    from todoctl.core.catalog.index_builds import invalid_indexes as find

    return [InvalidIndex(i.table, i.index, building_pid=i.building_pid) for i in find(conn, tables=app_tables())]


def unknown_revisions(script: ScriptDirectory, current: list[str]) -> list[str]:
    unknown = []
    for rev in current:
        try:
            if script.get_revision(rev) is None:
                unknown.append(rev)
        except Exception:
            unknown.append(rev)
    return unknown


def _pending(script: ScriptDirectory, current: list[str]) -> list[Revision]:
    lower = tuple(current) if current else "base"
    revisions = [r for r in script.iterate_revisions("heads", lower) if r.revision not in current]
    return [revision_of(script, r) for r in reversed(revisions)]


def _revision_states(script: ScriptDirectory, current: list[str], unknown: list[str]) -> list[RevisionState]:
    if unknown:
        applied = None
    else:
        applied = {r.revision for r in script.iterate_revisions(tuple(current), "base")} if current else set()
    states = []
    for rev in reversed(list(script.walk_revisions())):
        known = None if applied is None else rev.revision in applied
        states.append(RevisionState(rev.revision, (rev.doc or "").strip(), known, rev.revision in current))
    return states


def _with_planned_repair(broken: list[InvalidIndex], heads: list[str]) -> list[InvalidIndex]:
    """`migrate up` goes to head, and at head the models say which indexes exist (index_repair.py)."""
    if not any(b.building_pid is None for b in broken) or len(heads) != 1:
        return broken
    from todoctl.core.migrate.index_repair import names_at_head

    defined = names_at_head()
    return [
        b if b.building_pid is not None else InvalidIndex(b.table, b.index, "rebuild" if b.index in defined else "drop")
        for b in broken
    ]


def status(url: DatabaseURL, *, migrations: Path | str | None = None) -> MigrationStatus:
    script = script_directory(migrations)
    heads = list(script.get_heads())
    with connection(url) as conn:
        current = current_revisions(conn)
        unknown = unknown_revisions(script, current)
        pending = [] if unknown else _pending(script, current)
        tables = present_app_tables(conn) if not current else []
        broken = _with_planned_repair(invalid_indexes(conn), heads)
    result = MigrationStatus(
        database=url.display,
        current=current,
        heads=heads,
        pending=pending,
        unknown=unknown,
        untracked_tables=tables,
        invalid_indexes=broken,
        revisions=_revision_states(script, current, unknown),
    )
    result.differences = revision_differences(result)
    return result


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def revision_differences(status: MigrationStatus) -> list[SchemaDifference]:
    """Unknown revisions, else one ``behind_history`` difference per pending revision."""
    if status.unknown:
        return [
            SchemaDifference(
                UNKNOWN_REVISION,
                "unknown_revision",
                "",
                revision,
                f"the database is at revision {revision}, which these migration scripts do not know",
            )
            for revision in status.unknown
        ]
    return [
        SchemaDifference(
            BEHIND_HISTORY,
            "pending_revision",
            "",
            rev.revision,
            f"revision {rev.revision} is not applied" + (f": {_first_line(rev.message)}" if rev.message else ""),
        )
        for rev in status.pending
    ]


def revision_notes(status: MigrationStatus) -> list[str]:
    if status.untracked_tables:
        return [
            f"app tables exist ({', '.join(status.untracked_tables)}) but no revision is recorded: "
            "if they match a revision, `todoctl migrate stamp REVISION`"
        ]
    return []

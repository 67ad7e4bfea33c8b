"""Alembic's own verbs on todoctl's history: `current`, `heads`, `upgrade/downgrade --sql`, step counts.

Users coming from Alembic type its words; these give the same answers in todoctl's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from todoctl.core.migrate.offline import OfflineSQL
from todoctl.core.history import Revision, alembic_config, check_target, history, script_directory
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error
from todoctl.results import human_only


@dataclass
class CurrentRevision:
    database: str = human_only()
    current: list[str]
    heads: list[str]

    __json_properties__ = ("at_head",)

    @property
    def at_head(self) -> bool:
        return sorted(self.current) == sorted(self.heads)


def current(url: DatabaseURL, *, migrations: Path | str | None = None) -> CurrentRevision:
    """The revision the database records, like `alembic current` (nothing else is read)."""
    from todoctl.core.migrate.state import current_revisions
    from todoctl.db.engine import connection

    heads = sorted(script_directory(migrations).get_heads())
    with connection(url) as conn:
        revisions = current_revisions(conn)
    return CurrentRevision(url.display, revisions, heads)


def heads(*, migrations: Path | str | None = None) -> list[Revision]:
    """The head revisions of the history, like `alembic heads` (no database)."""
    return [rev for rev in history(migrations=migrations) if rev.is_head]


def reject_step_count(target: str, direction: str, *, migrations: Path | str | None = None) -> None:
    """`down 2` means two steps in Alembic only as `-2`; a bare number that is no revision is a usage error."""
    if not target.isdigit():
        return
    script = script_directory(migrations)
    try:
        check_target(script, target)
        return  # a revision id that happens to be digits (0005)
    except Exception:
        pass
    sign = "+" if direction == "up" else "-"
    steps = "one step" if target == "1" else f"{target} steps"
    raise usage_error(
        f"{target!r} is neither a revision nor a step count",
        f"for {steps} {'forward' if direction == 'up' else 'back'} write `todoctl migrate {direction} {sign}{target}`,"
        " or give a revision id (`todoctl migrate history`)",
    )


def offline_sql(url: DatabaseURL | None, target: str, direction: str, *, migrations=None) -> OfflineSQL:
    """What `up TARGET`/`down TARGET` would run, as SQL (Alembic's `upgrade TARGET --sql`).

    TARGET may be a range FROM:TO (no database needed); otherwise it starts at the revision the
    database records. Relative targets (+N, -N) are Alembic's own.
    """
    import todoctl.core.migrate.environment as environment

    if ":" in target:
        rev_range = target
    else:
        if url is None:
            raise usage_error("no range and no database", "pass a range such as base:head")
        now = current(url, migrations=migrations).current
        if len(now) > 1:
            raise usage_error("the database records several revisions", "pass a range FROM:TO")
        rev_range = f"{now[0] if now else 'base'}:{target}"
    start, _, end = rev_range.partition(":")
    script = script_directory(migrations)
    for rev in (start, end):
        check_target(script, rev)  # exit 2 on an unknown id, before Alembic says it in its words
    if _same_revision(script, start, end):
        return OfflineSQL(rev_range, "")
    older = "older to newer" if direction == "up" else "newer to older"
    sql = environment.offline_sql(alembic_config(migrations), rev_range, direction, range_hint=f"ranges go from {older}: A:B")
    return OfflineSQL(rev_range, sql)


def _same_revision(script, start: str, end: str) -> bool:
    def resolve(rev: str):
        if rev in ("head", "heads"):
            heads = script.get_heads()
            return heads[0] if len(heads) == 1 else rev
        return None if rev == "base" else rev

    return resolve(start) == resolve(end)

"""`migrate sql`: the SQL a migration would run, offline (Alembic's --sql mode), with todoctl's SETs."""

from __future__ import annotations

from dataclasses import dataclass

import todoctl.core.migrate.environment as environment
from todoctl.core.history import alembic_config, script_directory, single_head
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error


@dataclass
class OfflineSQL:
    range: str
    sql: str
    direction: str = "up"  # "down" when the range goes from newer to older


def _known(script, rev: str) -> None:
    if rev in ("base", "head", "heads"):
        return
    try:
        found = script.get_revision(rev)
    except Exception:  # alembic's CommandError / ResolutionError for unknown ids
        found = None
    if found is None:
        raise usage_error(f"unknown revision {rev!r}", "see `todoctl migrate history`")


def resolve_range(url: DatabaseURL | None, rev_range: str | None, migrations) -> str:
    script = script_directory(migrations)
    head = single_head(script)
    if rev_range:
        if ":" not in rev_range:
            rev_range = f"{rev_range}:head"
        start, _, end = rev_range.partition(":")
        for rev in (start, end):
            _known(script, rev)
        return rev_range
    if url is None:
        raise usage_error("no range and no database", "pass a range such as base:head")
    from todoctl.core.migrate.state import current_revisions

    with connection(url) as conn:
        current = current_revisions(conn)
    return f"{current[0] if current else 'base'}:{head}"


def _position(script, rev: str) -> int:
    """How far from base a revision is (base -1, head the highest): which way a range goes."""
    order = [r.revision for r in reversed(list(script.walk_revisions()))]
    if rev == "base":
        return -1
    if rev in ("head", "heads"):
        return len(order) - 1
    return order.index(script.get_revision(rev).revision)


def _one_revision(script, rev_id: str, down: bool) -> str:
    """Django's sqlmigrate: the range that is exactly one revision, up or down."""
    if rev_id == "base":
        raise usage_error("base is not a revision: it has no SQL of its own", "give a revision id, e.g. 0005, or head")
    rev = script.get_revision(rev_id if rev_id not in ("heads",) else "head")
    parents = rev._normalized_down_revisions
    parent = parents[0] if parents else "base"
    return f"{rev.revision}:{parent}" if down else f"{parent}:{rev.revision}"


def offline_sql(
    url: DatabaseURL | None, rev_range: str | None = None, *, migrations=None, down: bool = False
) -> OfflineSQL:
    """The SQL a migration would run, offline (Alembic's --sql mode), with todoctl's session SETs.

    no range   what `migrate up` would apply to the database (its pending revisions)
    REV        that one revision's upgrade, like Django's sqlmigrate; ``down=True``: its downgrade
    FROM:TO    the revisions between; TO older than FROM is the downgrade SQL, as in Alembic
               (``alembic downgrade 0007:0006 --sql``)
    """
    script = script_directory(migrations)
    single_head(script)
    if rev_range and ":" not in rev_range:
        _known(script, rev_range)
        rev_range = _one_revision(script, rev_range, down)
    elif down and not rev_range:
        raise usage_error("--down needs a revision or a range", "e.g. todoctl migrate sql 0007 --down")
    rev_range = resolve_range(url, rev_range, migrations)
    start, _, end = rev_range.partition(":")
    direction = "down" if _position(script, end) < _position(script, start) else "up"
    if down and direction == "up" and _position(script, end) != _position(script, start):
        raise usage_error(
            f"--down with {rev_range}, which goes up", f"a downgrade range goes from newer to older: {end}:{start}"
        )
    if _position(script, start) == _position(script, end):
        return OfflineSQL(rev_range, "", direction)
    sql = environment.offline_sql(
        alembic_config(migrations), rev_range, direction, range_hint="see `todoctl migrate history`"
    )
    return OfflineSQL(rev_range, sql, direction)

"""`--dry-run` of up, down, reset and stamp: what would run, read without the lock, nothing changed.

The plan is made by the runner's own code (its target resolution and refusals), so a dry run
refuses exactly what the real run would refuse: an unknown revision, untracked tables, a
protected database without the override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from todoctl.core.migrate.runner import RunOptions, _absolute_target, _plan, _refuse_unknown, _refuse_untracked
from todoctl.core.history import RELATIVE_TARGET, check_target, script_directory, single_head
from todoctl.core.migrate.state import InvalidIndex, _with_planned_repair, current_revisions, invalid_indexes
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error
from todoctl.results import human_only

# What each move is called when a protected database refuses it (the runner's words).
_GUARDED = {"down": "roll back migrations", "reset": "reset it", "stamp": "stamp a revision"}


@dataclass(frozen=True)
class PlannedStep:
    revision: str
    message: str
    direction: str  # "up" | "down"


@dataclass
class MigrationPlan:
    database: str = human_only()
    direction: str  # up | down | reset | stamp
    target: str
    before: list[str]
    after: list[str]
    steps: list[PlannedStep]
    repairs: list[InvalidIndex] = field(default_factory=list)  # INVALID indexes `up` would repair
    losses: list = field(default_factory=list)  # losses.Loss: what a down (or reset) would drop that holds rows
    dry_run: bool = True


def _steps(script, direction: str, target: str, before: list[str]) -> tuple[list[PlannedStep], list[str]]:
    if direction == "down" and not before:
        return [], before
    moves = _plan(script, direction, target, before)
    if not moves:
        return [], before
    steps = [PlannedStep(m.revision.revision, (m.revision.doc or "").strip(), direction) for m in moves]
    end = _absolute_target(direction, moves)
    return steps, ([] if end == "base" else [end])


def plan(
    url: DatabaseURL,
    direction: str,
    target: str,
    *,
    migrations: Path | str | None = None,
    options: RunOptions | None = None,
) -> MigrationPlan:
    """What ``migrate DIRECTION TARGET`` would do on ``url`` now (direction: up, down, reset, stamp)."""
    import todoctl.core.safety.protect as protect

    options = options or RunOptions()
    script = script_directory(migrations)
    if direction != "stamp":
        single_head(script)
    check_target(script, target)
    if direction == "stamp" and RELATIVE_TARGET.match(target):
        raise usage_error(f"stamp needs a revision, not {target!r}", "use a revision id, head or base")
    with connection(url) as conn:
        if direction in _GUARDED:
            protect.guard(conn, url, _GUARDED[direction], yes=options.yes)
        before = current_revisions(conn)
        if direction != "stamp":
            _refuse_unknown(script, before, url)
        _refuse_untracked(conn, before, "up" if direction == "reset" else direction, url)
        repairs: list[InvalidIndex] = []
        if direction == "stamp":
            steps = []
            after = [] if target == "base" else [script.get_revision(target).revision]
        elif direction == "reset":
            down, _ = _steps(script, "down", "base", before)
            steps, after = _steps(script, "up", "head", [])
            steps = down + steps
        else:
            steps, after = _steps(script, direction, target, before)
        losses: list = []
        if direction in ("down", "reset") and before:
            from todoctl.core.migrate.losses import downgrade_losses

            end = "base" if direction == "reset" else (after[0] if after else "base")
            if end not in before:
                losses = [x for x in downgrade_losses(conn, before, end, migrations=migrations, timeouts=options.timeouts)
                          if x.rows]
        if direction == "up":
            # An index another session is building now is not repaired: `up` leaves it alone.
            repairs = [r for r in _with_planned_repair(invalid_indexes(conn), list(script.get_heads()))
                       if r.building_pid is None]
        conn.rollback()
    return MigrationPlan(url.display, direction, target, before, after, steps, repairs, losses)

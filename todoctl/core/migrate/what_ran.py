"""What a migration run did, read from the database and the script directory's graph rather than
from todoctl's ``on_version_apply`` hook alone: an app's own env.py passes no hook, and may run
every revision in one transaction."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from todoctl.core.migrate.outcome import Journal, Step
from todoctl.core.migrate.state import current_revisions


def steps_taken(script: ScriptDirectory, direction: str, before: list[str], after: list[str], recorded: list[Step]) -> list[Step]:
    """The revisions that ran, derived from where the database stood before and after and the
    script directory's graph: an app's own env.py need not pass todoctl's ``on_version_apply``.
    The hook's timings are kept where it fired; a revision it did not see has no duration."""
    if sorted(before) == sorted(after):
        return []
    try:
        if direction == "up":
            path = script._upgrade_revs(after[0], tuple(before) or "base") if len(after) == 1 else None
        else:
            path = script._downgrade_revs(after[0] if after else "base", tuple(before) or None) if len(after) <= 1 else None
    except CommandError:
        path = None
    if path is None:  # several heads after: the hook's record is all there is
        return list(recorded)
    timed = {step.revision: step.duration_ms for step in recorded}
    return [
        Step(rev.revision, (rev.doc or "").strip(), direction, timed.get(rev.revision))
        for rev in (p.revision for p in path)
    ]


def where_it_failed(conn, journal: Journal, exc: BaseException):
    """The revision that failed and the steps committed before it, without relying on the steps
    todoctl's hook records (an app's own env.py passes no hook, and may run every revision in one
    transaction): the failing revision is the plan's file in the traceback, else the one after where
    the version table stands; committed is what the version table holds now."""
    plan, steps = journal.plan, journal.steps
    try:
        now = current_revisions(conn)
        conn.rollback()
    except Exception:
        return plan[min(len(steps), len(plan) - 1)], steps
    ids = [p.revision.revision for p in plan]
    current = now[0] if len(now) == 1 else None
    if journal.direction == "up":
        done = ids.index(current) + 1 if current in ids else 0
    else:
        done = ids.index(current) if current in ids else len(ids)
    done = min(done, len(plan) - 1)
    timed = {step.revision: step.duration_ms for step in steps}
    committed = [
        Step(p.revision.revision, (p.revision.doc or "").strip(), journal.direction, timed.get(p.revision.revision))
        for p in plan[:done]
    ]
    return _revision_in_traceback(plan, exc) or plan[done], committed


def _revision_in_traceback(plan, exc: BaseException):
    """The plan entry whose revision file raised ``exc`` (its upgrade() or downgrade() is in the traceback)."""
    import os

    files = {os.path.realpath(p.revision.path): p for p in plan if p.revision.path}
    found = None
    while exc is not None and found is None:
        tb = exc.__traceback__
        while tb is not None:
            found = files.get(os.path.realpath(tb.tb_frame.f_code.co_filename)) or found
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return found

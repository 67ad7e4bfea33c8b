"""Moving the database: `migrate up`, `down` and `stamp` under the migration lock, one transaction per revision."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError

import todoctl.core.migrate.environment as environment
from todoctl.core.migrate.outcome import (
    LOCK_NOT_AVAILABLE,
    Journal,
    Step,
    connection_lost,
    failed_revision,
    interrupted,
    is_connection_lost,
    is_interrupt,
    rollback_quietly,
)
from todoctl.core.history import (
    RELATIVE_TARGET,
    alembic_config,
    check_target,
    script_directory,
    single_head,
)
from todoctl.core.migrate.settings import Timeouts
from todoctl.core.migrate.what_ran import steps_taken, where_it_failed
from todoctl.core.migrate.state import (
    current_revisions,
    present_app_tables,
    unknown_revisions,
)
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, usage_error
from todoctl.core.catalog.snapshot import named_sql
from todoctl.project import app_tables
from todoctl.results import human_only


@dataclass
class MigrationRun:
    database: str = human_only()
    direction: str
    target: str
    before: list[str]
    after: list[str]
    steps: list[Step]
    repairs: list = field(default_factory=list)  # index_repair.IndexRepair, done by `migrate up`
    losses: list = field(default_factory=list)  # losses.Loss: what a downgrade dropped that held rows


def _refuse_unknown(script: ScriptDirectory, current: list[str], url: DatabaseURL) -> None:
    unknown = unknown_revisions(script, current)
    if unknown:
        raise TodoctlError(
            f"{url.display} is at revision {', '.join(unknown)}, which these migration scripts do not know",
            hint="the database was migrated by a newer or different checkout: update this one, "
            "or `todoctl migrate stamp` if you know where it really stands",
            exit_code=ExitCode.CHECK_FAILED,
        )


def _plan(script: ScriptDirectory, direction: str, target: str, current: list[str]):
    source = tuple(current) if current else None
    try:
        if direction == "up":
            return script._upgrade_revs(target, source or "base")
        return script._downgrade_revs(target, source)
    except CommandError as exc:
        message = mask(str(exc))
        if "didn't produce" in message or "not a valid" in message or "relative" in message.lower():
            where = ", ".join(current) or "base"
            raise usage_error(
                f"cannot go {direction} to {target!r} from {where}: {message}",
                "see `todoctl migrate status` for where the database stands",
            ) from None
        raise usage_error(message, "see `todoctl migrate history`") from None


@dataclass(frozen=True)
class RunOptions:
    """How a schema change behaves: timeouts, the lock, retries, and the production override."""

    timeouts: Timeouts | None = None
    lock_wait: float | None = None  # seconds; TODOCTL_LOCK_WAIT, default 60
    lock_retries: int = 3  # re-tries of a revision that hit lock_timeout
    retry_base: float = 0.5  # seconds; doubled each retry, with jitter
    yes: bool = False  # with TODOCTL_ALLOW_PRODUCTION=1: allowed on a protected database
    drop_rows: bool = False  # the rows a downgrade drops were confirmed (--yes, or asked on a terminal)


def _absolute_target(direction: str, plan) -> str:
    """Pin a relative target (+N/-N) to a revision id, so a retry cannot overshoot."""
    last = plan[-1]
    if direction == "up":
        return last.revision.revision
    downs = last.revision._normalized_down_revisions
    return downs[0] if downs else "base"


def _refuse_untracked(conn, before: list[str], direction: str, url: DatabaseURL) -> None:
    if direction == "up" and not before:
        tables = present_app_tables(conn)
        if tables:
            raise TodoctlError(
                f"{url.display} has the app's tables ({', '.join(tables)}) but no recorded revision",
                hint="if they match a revision, record it with `todoctl migrate stamp REVISION`, then migrate up",
                exit_code=ExitCode.CHECK_FAILED,
            )


def _run(
    url: DatabaseURL,
    direction: str,
    target: str,
    *,
    migrations: Path | str | None,
    options: RunOptions,
) -> MigrationRun:
    script = script_directory(migrations)
    single_head(script)
    check_target(script, target)
    journal = Journal(direction)
    try:
        return _move(url, target, script, migrations, options, journal)
    except BaseException as exc:
        if is_interrupt(exc):
            # The lock and the migration's connection are closed by now: report from a fresh one.
            raise interrupted(url, journal) from None
        if not isinstance(exc, TodoctlError) and is_connection_lost(exc):
            raise connection_lost(url, journal, exc) from None
        raise


def _move(url, target, script, migrations, options: RunOptions, journal: Journal) -> MigrationRun:
    from todoctl.core.migrate.lock import migration_lock

    with migration_lock(url, options.lock_wait):
        return _move_locked(url, target, script, migrations, options, journal)


def _move_locked(url, target, script, migrations, options: RunOptions, journal: Journal) -> MigrationRun:
    """One move, the caller holding the migration lock (`reset` holds it across two)."""
    import todoctl.core.safety.protect as protect

    direction = journal.direction
    timeouts = options.timeouts or Timeouts.from_env()
    with connection(url) as conn:
        journal.phase = "setup"
        if direction == "down":
            protect.guard(conn, url, "roll back migrations", yes=options.yes)
        before = current_revisions(conn)
        _refuse_unknown(script, before, url)
        _refuse_untracked(conn, before, direction, url)
        plan = [] if direction == "down" and not before else _plan(script, direction, target, before)
        dropped: list = []
        if plan:
            target = _absolute_target(direction, plan)
            if direction == "down":
                dropped = _confirmed_losses(conn, url, before, target, migrations, options, timeouts)
            journal.phase, journal.plan = "revisions", plan
            _apply(url, conn, target, migrations, options, timeouts, journal)
        after = current_revisions(conn)
        steps = steps_taken(script, direction, before, after, journal.steps)
        repairs: list = []
        if direction == "up" and after and _has_invalid_indexes(conn):
            journal.phase = "repair"
            repairs = _repair(url, after, script, migrations, timeouts, steps)
    return MigrationRun(url.display, direction, target, before, after, steps, repairs, dropped)


def _confirmed_losses(conn, url, before, target, migrations, options: RunOptions, timeouts) -> list:
    """What going down to ``target`` drops that holds rows; exit 4 unless that was confirmed."""
    from todoctl.core.migrate.losses import downgrade_losses, refusal, total

    found = downgrade_losses(conn, before, target, migrations=migrations, timeouts=timeouts)
    if total(found) and not options.drop_rows:
        raise refusal(url.display, f"migrate down to {target}", found)
    return [loss for loss in found if loss.rows]


def _apply(url, conn, target, migrations, options: RunOptions, timeouts: Timeouts, journal: Journal) -> None:
    config = alembic_config(
        migrations,
        connection=conn,
        on_version_apply=journal.on_version_apply,
        timeouts=timeouts,
        todoctl_progress=journal.concurrent,  # filled by todoctl/migration_ops.py
    )
    attempt = 0
    while True:
        journal.start()
        try:
            if journal.direction == "up":
                environment.upgrade(config, target)
            else:
                environment.downgrade(config, target)
            return
        except TodoctlError:
            rollback_quietly(conn)
            raise
        except DBAPIError as exc:
            if is_connection_lost(exc):
                raise  # not the revision's fault: _run says the connection was lost (exit 3)
            rollback_quietly(conn)
            code = getattr(exc.orig, "sqlstate", None)
            if code == LOCK_NOT_AVAILABLE and attempt < options.lock_retries:
                attempt += 1
                time.sleep(options.retry_base * 2 ** (attempt - 1) * (0.5 + random.random()))
                continue
            failed, steps = where_it_failed(conn, journal, exc)
            committed = [p["step"] for p in journal.concurrent if p["done"]]
            raise failed_revision(
                url, journal.direction, failed, steps, exc, lock_retries=attempt, committed=committed
            ) from exc
        except CommandError as exc:
            raise TodoctlError(mask(str(exc)), hint="see `todoctl migrate status`") from exc
        except Exception as exc:  # the revision's own Python failed (a NameError, a bad import)
            rollback_quietly(conn)
            failed, steps = where_it_failed(conn, journal, exc)
            committed = [p["step"] for p in journal.concurrent if p["done"]]
            raise failed_revision(url, journal.direction, failed, steps, exc, committed=committed) from exc


def _has_invalid_indexes(conn) -> bool:
    import todoctl.core.migrate.index_repair as index_repair

    found = index_repair.leftover_invalid(conn)
    conn.rollback()
    return bool(found)


def _repair(url, after: list[str], script, migrations, timeouts: Timeouts, steps: list[Step]) -> list:
    import todoctl.core.migrate.index_repair as index_repair

    revision = after[0]
    try:
        at_head = revision in script.get_heads()
        return index_repair.repair(
            url,
            revision,
            defined=index_repair.names_at_head if at_head else lambda: _index_names_at(url, revision, migrations),
            timeouts=timeouts,
        )
    except index_repair.RepairFailed as failed:
        error = mask(str(failed.error)).strip().splitlines()[0]
        done = "; ".join(r.describe() for r in failed.done)
        lock = getattr(failed.error, "sqlstate", None) == LOCK_NOT_AVAILABLE
        applied = [s.revision for s in steps]
        raise TodoctlError(
            f"the database is at {revision}, but repairing INVALID index {failed.repair.index} "
            f"({failed.repair.action}) failed: {error}" + failed.held_by
            + (f"; already done: {done}" if done else "")
            + f"; applied: {', '.join(applied) or 'none'}",
            hint=failed.hint
            or "a long transaction holds a lock on the table, or the build took longer than statement_timeout: "
            "run `todoctl migrate up` again later (raise --lock-timeout/--statement-timeout if needed)",
            exit_code=ExitCode.BUSY if lock else ExitCode.CHECK_FAILED,
            details={
                "applied": applied,
                "current": [revision],
                "failed_repair": _jsonable_repair(failed.repair),
                "repairs": [_jsonable_repair(r) for r in failed.done],
                "error": error,
                "blockers": [b.as_dict() for b in failed.blockers or []],
            },
        ) from failed.error


def _jsonable_repair(repair) -> dict:
    return {"table": repair.table, "index": repair.index, "action": repair.action, "revision": repair.revision}


def upgrade(
    url: DatabaseURL, target: str = "head", *, migrations: Path | str | None = None, options: RunOptions | None = None
) -> MigrationRun:
    """Apply revisions up to ``target`` (``head``, a revision id, or ``+N``)."""
    return _run(url, "up", target, migrations=migrations, options=options or RunOptions())


def downgrade(
    url: DatabaseURL, target: str = "-1", *, migrations: Path | str | None = None, options: RunOptions | None = None
) -> MigrationRun:
    """Roll back to ``target`` (``-N``, a revision id, or ``base``); one step by default."""
    if target.startswith("+"):
        raise usage_error(f"'{target}' goes up, not down", "use -N, a revision id or base")
    return _run(url, "down", target, migrations=migrations, options=options or RunOptions())


def stamp(
    url: DatabaseURL, revision: str, *, migrations: Path | str | None = None, options: RunOptions | None = None
) -> MigrationRun:
    """Record ``revision`` as the current one without running anything (under the lock)."""
    from todoctl.core.migrate.lock import migration_lock
    import todoctl.core.safety.protect as protect

    options = options or RunOptions()
    script = script_directory(migrations)
    check_target(script, revision)
    if RELATIVE_TARGET.match(revision):
        raise usage_error(f"stamp needs a revision, not {revision!r}", "use a revision id, head or base")
    with migration_lock(url, options.lock_wait), connection(url) as conn:
        protect.guard(conn, url, "stamp a revision", yes=options.yes)
        before = current_revisions(conn)
        config = alembic_config(migrations, connection=conn, timeouts=options.timeouts or Timeouts.from_env())
        environment.stamp(config, revision, purge=True)
        after = current_revisions(conn)
    return MigrationRun(url.display, "stamp", revision, before, after, [])


def reset(url: DatabaseURL, *, migrations: Path | str | None = None, options: RunOptions | None = None) -> MigrationRun:
    """Down to base, then up to head, under one hold of the migration lock (Prisma's `migrate reset`).

    Each revision is its own transaction, as in `down` and `up`; an interrupt reports where the
    database stands (exit 130) exactly as they do. Refused on a protected database like `down`.
    """
    from todoctl.core.migrate.lock import migration_lock

    options = options or RunOptions()
    script = script_directory(migrations)
    single_head(script)
    journal = Journal("down")
    try:
        with migration_lock(url, options.lock_wait):
            down = _move_locked(url, "base", script, migrations, options, journal)
            journal = Journal("up")
            up = _move_locked(url, "head", script, migrations, options, journal)
    except BaseException as exc:
        if is_interrupt(exc):
            raise interrupted(url, journal) from None
        if not isinstance(exc, TodoctlError) and is_connection_lost(exc):
            raise connection_lost(url, journal, exc) from None
        raise
    return MigrationRun(
        url.display, "reset", "head", down.before, up.after, down.steps + up.steps, up.repairs, down.losses
    )


def _index_names_at(url: DatabaseURL, revision: str, migrations: Path | str | None) -> set[str]:
    """The indexes on the app's tables at ``revision``, replayed on a throwaway database."""
    from todoctl.db.engine import psycopg_connection
    from todoctl.db.scratch import scratch_database

    with scratch_database(url, "indexes") as scratch:
        upgrade(scratch, revision, migrations=migrations, options=RunOptions(lock_wait=10))
        with psycopg_connection(scratch, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT i.relname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                f"JOIN pg_namespace n ON n.oid = t.relnamespace WHERE {named_sql('%s', name='t.relname')}",
                (app_tables(),),
            ).fetchall()
    return {row[0] for row in rows}

"""Migrations: Alembic run in-process on a connection todoctl opens, reported as data."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from todoctl import paths
from todoctl.core.migration_settings import Timeouts
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, usage_error
from todoctl.models import APP_TABLES

if TYPE_CHECKING:
    from sqlalchemy import Connection

_RELATIVE = re.compile(r"^[+-]\d+$")


@dataclass(frozen=True)
class Revision:
    id: str
    message: str
    down_revisions: tuple[str, ...]
    is_head: bool
    filename: str


@dataclass(frozen=True)
class InvalidIndex:
    table: str
    index: str
    repair: str | None = None  # what `migrate up` will do with it: "rebuild" | "drop" (index_repair.py)


@dataclass
class MigrationStatus:
    database: str
    current: list[str]
    heads: list[str]
    pending: list[Revision]
    unknown: list[str] = field(default_factory=list)
    untracked_tables: list[str] = field(default_factory=list)
    invalid_indexes: list[InvalidIndex] = field(default_factory=list)
    # Behind or unknown, in the vocabulary `migrate check` and `schema diff` share (core/drift.py).
    differences: list = field(default_factory=list)

    __json_properties__ = ("at_head", "hints")

    @property
    def at_head(self) -> bool:
        return not self.pending and not self.unknown and sorted(self.current) == sorted(self.heads)

    @property
    def hints(self) -> dict[str, str]:
        from todoctl.core.drift import hints_for

        return hints_for(self.differences)


@dataclass(frozen=True)
class Step:
    revision: str
    message: str
    direction: str  # "up" | "down"
    seconds: float


@dataclass
class MigrationRun:
    database: str
    direction: str
    target: str
    before: list[str]
    after: list[str]
    steps: list[Step]
    repairs: list = field(default_factory=list)  # index_repair.IndexRepair, done by `migrate up`


@dataclass(frozen=True)
class NewRevision:
    revision: str
    message: str
    path: str
    operations: list[str]


# ---------------------------------------------------------------- configuration


def _migrations(migrations: Path | str | None) -> Path:
    return Path(migrations).resolve() if migrations else paths.migrations_dir()


def alembic_config(migrations: Path | str | None = None, **attributes) -> Config:
    """An Alembic Config for todoctl's migrations (or another directory, for tests)."""
    location = _migrations(migrations)
    if not (location / "env.py").exists():
        raise usage_error(f"no Alembic environment in {location}", "pass a directory that holds env.py and versions/")
    ini = location.parent / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(location))
    config.attributes["todoctl"] = True
    config.attributes.update(attributes)
    return config


def script_directory(migrations: Path | str | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(migrations))


def _revision(script: ScriptDirectory, rev) -> Revision:
    heads = set(script.get_heads())
    return Revision(
        id=rev.revision,
        message=(rev.doc or "").strip(),
        down_revisions=tuple(rev._normalized_down_revisions),
        is_head=rev.revision in heads,
        filename=Path(rev.path).name,
    )


def _single_head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) > 1:
        raise TodoctlError(
            f"the migration history has {len(heads)} heads: {', '.join(sorted(heads))}",
            hint="join them with `todoctl migrate merge -m 'merge ...'`, then review the new revision",
            exit_code=ExitCode.CHECK_FAILED,
        )
    return heads[0] if heads else "base"


def _check_target(script: ScriptDirectory, target: str) -> None:
    if target in ("head", "heads", "base") or _RELATIVE.match(target):
        return
    try:
        found = script.get_revision(target)
    except CommandError:
        found = None
    except Exception:  # ResolutionError / MultipleHeads from the revision map
        found = None
    if found is None:
        raise usage_error(
            f"unknown revision {target!r}",
            "targets are a revision id, head, base, +N or -N; see `todoctl migrate history`",
        )


# ---------------------------------------------------------------- reading state


def current_revisions(conn: "Connection") -> list[str]:
    heads = list(MigrationContext.configure(conn).get_current_heads())
    conn.commit()
    return heads


def _present_app_tables(conn: "Connection") -> list[str]:
    rows = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(:names)"),
        {"names": list(APP_TABLES)},
    )
    return sorted(row[0] for row in rows)


def invalid_indexes(conn: "Connection") -> list[InvalidIndex]:
    rows = conn.execute(
        text(
            "SELECT t.relname, i.relname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE NOT x.indisvalid AND n.nspname = current_schema() AND t.relname = ANY(:names) "
            "ORDER BY 1, 2"
        ),
        {"names": list(APP_TABLES)},
    )
    return [InvalidIndex(table, index) for table, index in rows]


def _unknown(script: ScriptDirectory, current: list[str]) -> list[str]:
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
    return [_revision(script, r) for r in reversed(revisions)]


def _with_planned_repair(broken: list[InvalidIndex], heads: list[str]) -> list[InvalidIndex]:
    """`migrate up` goes to head, and at head the models say which indexes exist (index_repair.py)."""
    if not broken or len(heads) != 1:
        return broken
    from todoctl.core.index_repair import names_at_head

    defined = names_at_head()
    return [InvalidIndex(b.table, b.index, "rebuild" if b.index in defined else "drop") for b in broken]


def status(url: DatabaseURL, *, migrations: Path | str | None = None) -> MigrationStatus:
    script = script_directory(migrations)
    heads = list(script.get_heads())
    with connection(url) as conn:
        current = current_revisions(conn)
        unknown = _unknown(script, current)
        pending = [] if unknown else _pending(script, current)
        tables = _present_app_tables(conn) if not current else []
        broken = _with_planned_repair(invalid_indexes(conn), heads)
    result = MigrationStatus(
        database=url.display,
        current=current,
        heads=heads,
        pending=pending,
        unknown=unknown,
        untracked_tables=tables,
        invalid_indexes=broken,
    )
    from todoctl.core.drift import revision_differences  # drift imports this module

    result.differences = revision_differences(result)
    return result


def history(*, migrations: Path | str | None = None) -> list[Revision]:
    """Every revision, oldest first (reads the scripts only; no database)."""
    script = script_directory(migrations)
    return [_revision(script, r) for r in reversed(list(script.walk_revisions()))]


# ---------------------------------------------------------------- moving


def _refuse_unknown(script: ScriptDirectory, current: list[str], url: DatabaseURL) -> None:
    unknown = _unknown(script, current)
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


_LOCK_NOT_AVAILABLE = "55P03"


def _absolute_target(direction: str, plan) -> str:
    """Pin a relative target (+N/-N) to a revision id, so a retry cannot overshoot."""
    last = plan[-1]
    if direction == "up":
        return last.revision.revision
    downs = last.revision._normalized_down_revisions
    return downs[0] if downs else "base"


def _refuse_untracked(conn, before: list[str], direction: str, url: DatabaseURL) -> None:
    if direction == "up" and not before:
        tables = _present_app_tables(conn)
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
    _single_head(script)
    _check_target(script, target)
    journal = _Journal(direction)
    try:
        return _move(url, target, script, migrations, options, journal)
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        # The lock and the migration's connection are closed by now: report from a fresh one.
        raise _interrupted(url, journal) from None


@dataclass
class _Journal:
    """What a run has done so far: its steps for the result, and where it was if it is interrupted."""

    direction: str
    phase: str = "lock"  # lock | setup | revisions | repair
    plan: list = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    # migration_ops' concurrent steps in the revision under way ({"step": ..., "done": bool}).
    concurrent: list[dict] = field(default_factory=list)
    clock: float = 0.0

    def start(self) -> None:
        self.clock = time.perf_counter()
        self.concurrent.clear()

    def on_version_apply(self, *, ctx, step, heads, run_args) -> None:
        now = time.perf_counter()
        rev = step.up_revision
        self.steps.append(Step(rev.revision, (rev.doc or "").strip(), self.direction, round(now - self.clock, 4)))
        self.concurrent.clear()
        self.clock = now


def _move(url, target, script, migrations, options: RunOptions, journal: _Journal) -> MigrationRun:
    from todoctl.core import protect
    from todoctl.core.migration_lock import migration_lock

    direction = journal.direction
    timeouts = options.timeouts or Timeouts.from_env()
    with migration_lock(url, options.lock_wait), connection(url) as conn:
        journal.phase = "setup"
        if direction == "down":
            protect.guard(conn, url, "roll back migrations", yes=options.yes)
        before = current_revisions(conn)
        _refuse_unknown(script, before, url)
        _refuse_untracked(conn, before, direction, url)
        plan = [] if direction == "down" and not before else _plan(script, direction, target, before)
        if plan:
            target = _absolute_target(direction, plan)
            journal.phase, journal.plan = "revisions", plan
            _apply(url, conn, target, migrations, options, timeouts, journal)
        after = current_revisions(conn)
        repairs: list = []
        if direction == "up" and after and _has_invalid_indexes(conn):
            journal.phase = "repair"
            repairs = _repair(url, after, script, migrations, timeouts, journal.steps)
    return MigrationRun(url.display, direction, target, before, after, journal.steps, repairs)


def _apply(url, conn, target, migrations, options: RunOptions, timeouts: Timeouts, journal: _Journal) -> None:
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
                command.upgrade(config, target)
            else:
                command.downgrade(config, target)
            return
        except DBAPIError as exc:
            _rollback_quietly(conn)
            code = getattr(exc.orig, "sqlstate", None)
            if code == _LOCK_NOT_AVAILABLE and attempt < options.lock_retries:
                attempt += 1
                time.sleep(options.retry_base * 2 ** (attempt - 1) * (0.5 + random.random()))
                continue
            # Steps are recorded across attempts, in plan order: the next one is the one that failed.
            plan, steps = journal.plan, journal.steps
            failed = plan[min(len(steps), len(plan) - 1)]
            committed = [p["step"] for p in journal.concurrent if p["done"]]
            raise _failed_revision(
                url, journal.direction, failed, steps, exc, lock_retries=attempt, committed=committed
            ) from exc
        except CommandError as exc:
            raise TodoctlError(mask(str(exc)), hint="see `todoctl migrate status`") from exc


def _has_invalid_indexes(conn) -> bool:
    from todoctl.core import index_repair

    found = index_repair.leftover_invalid(conn)
    conn.rollback()
    return bool(found)


def _repair(url, after: list[str], script, migrations, timeouts: Timeouts, steps: list[Step]) -> list:
    from todoctl.core import index_repair

    revision = after[0]
    try:
        return index_repair.repair(
            url, revision, is_head=revision in script.get_heads(), migrations=migrations, timeouts=timeouts
        )
    except index_repair.RepairFailed as failed:
        error = mask(str(failed.error)).strip().splitlines()[0]
        done = "; ".join(r.describe() for r in failed.done)
        lock = getattr(failed.error, "sqlstate", None) == _LOCK_NOT_AVAILABLE
        applied = [s.revision for s in steps]
        raise TodoctlError(
            f"the database is at {revision}, but repairing INVALID index {failed.repair.index} "
            f"({failed.repair.action}) failed: {error}"
            + (f"; already done: {done}" if done else "")
            + f"; applied: {', '.join(applied) or 'none'}",
            hint="a long transaction holds a lock on the table, or the build took longer than statement_timeout: "
            "run `todoctl migrate up` again later (raise --lock-timeout/--statement-timeout if needed)",
            exit_code=ExitCode.BUSY if lock else ExitCode.CHECK_FAILED,
            details={
                "applied": applied,
                "current": [revision],
                "failed_repair": _jsonable_repair(failed.repair),
                "repairs": [_jsonable_repair(r) for r in failed.done],
                "error": error,
            },
        ) from failed.error


def _jsonable_repair(repair) -> dict:
    return {"table": repair.table, "index": repair.index, "action": repair.action, "revision": repair.revision}


def _is_interrupt(exc: BaseException | None) -> bool:
    """Ctrl-C or SIGTERM, even when cleanup code replaced it with its own error (e.g. SQLAlchemy's
    PendingRollbackError from a connection the interrupt invalidated)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _applied(direction: str, steps: list[Step], now_at: list[str] | None) -> list[str]:
    """The recorded steps that really committed: a step is recorded just before its commit."""
    ids = [s.revision for s in steps]
    if now_at is None:
        return ids
    current = now_at[0] if now_at else None
    if direction == "up":
        return ids[: ids.index(current) + 1] if current in ids else []
    return ids[: ids.index(current)] if current in ids else ids


def _where_now(url: DatabaseURL) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The current revision and the INVALID indexes left, or (None, []) when that cannot be read."""
    from todoctl.core import index_repair
    from todoctl.db.engine import psycopg_connection

    try:
        with connection(url) as conn:
            now_at = current_revisions(conn)
        with psycopg_connection(url, autocommit=True, application_name="todoctl migrate (report)") as conn:
            invalid = index_repair.leftover_invalid(conn)
        return now_at, invalid
    except (Exception, KeyboardInterrupt):  # gone, or a second Ctrl-C: report what is known
        return None, []


def _interrupted(url: DatabaseURL, journal: _Journal) -> TodoctlError:
    now_at, invalid = _where_now(url)
    stands = ", ".join(now_at) if now_at else ("base" if now_at == [] else "unknown (cannot reconnect)")
    applied = _applied(journal.direction, journal.steps, now_at)
    revision = None
    committed: list[str] = []
    if journal.phase == "lock":
        doing = "while waiting for the migration lock"
    elif journal.phase == "setup":
        doing = "before any revision ran"
    elif journal.phase == "repair":
        doing = "while repairing INVALID indexes"
    elif len(applied) >= len(journal.plan):  # the last revision committed just before the signal
        doing = "after its last revision committed"
    else:
        revision = journal.plan[len(applied)].revision.revision
        verb = "upgrade to" if journal.direction == "up" else "downgrade from"
        running = next((p["step"] for p in journal.concurrent if not p["done"]), None)
        committed = [p["step"] for p in journal.concurrent if p["done"]]
        doing = f"during {verb} {revision}" + (f" ({running})" if running else "") + "; its transaction was rolled back"
        if committed:
            doing += f", but steps that cannot run in a transaction were already committed: {'; '.join(committed)}"
    message = f"interrupted {doing}; applied: {', '.join(applied) or 'none'}; the database is at {stands}"
    if invalid:
        message += "; INVALID index left: " + ", ".join(f"{index} on {table}" for table, index in invalid)
    if journal.direction == "up":
        hint = "run `todoctl migrate up` to finish" + (", which also repairs the INVALID index" if invalid else "")
    else:
        hint = "run `todoctl migrate down` again to finish rolling back, or `todoctl migrate up` to return to head"
        hint += " (which also repairs the INVALID index)" if invalid else ""
    return TodoctlError(
        message,
        hint=hint,
        exit_code=ExitCode.INTERRUPTED,
        details={
            "phase": journal.phase,
            "direction": journal.direction,
            "interrupted": revision,
            "committed_steps": committed,
            "applied": applied,
            "current": now_at,
            "invalid_indexes": [{"table": table, "index": index} for table, index in invalid],
        },
    )


def _rollback_quietly(conn) -> None:
    try:
        conn.rollback()
    except Exception:
        pass


def _failed_revision(
    url: DatabaseURL,
    direction: str,
    failed,
    steps: list[Step],
    exc: DBAPIError,
    *,
    lock_retries: int = 0,
    committed: list[str] | None = None,
) -> TodoctlError:
    failed_id = failed.revision.revision
    error = mask(str(exc.orig if exc.orig is not None else exc)).strip().splitlines()[0]
    now_at, invalid = _where_now(url)
    stands = ", ".join(now_at) if now_at else ("base" if now_at == [] else "unknown (cannot reconnect)")
    applied = [s.revision for s in steps]
    if committed:  # concurrent steps of the failed revision cannot roll back
        stands += f" (with {failed_id}'s steps that cannot run in a transaction already committed: {'; '.join(committed)})"
    if invalid:
        # A failed concurrent build or drop cannot roll back: say what it left, and who repairs it.
        stands += "; INVALID index left: " + ", ".join(f"{index} on {table}" for table, index in invalid)
        stands += " (`todoctl migrate up` drops or rebuilds it)"
    verb = "upgrade to" if direction == "up" else "downgrade from"
    if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
        return TodoctlError(
            f"{verb} {failed_id} could not get its lock within lock_timeout "
            f"after {lock_retries + 1} attempts and was rolled back; "
            f"applied: {', '.join(applied) or 'none'}; the database is at {stands}",
            hint="a long transaction holds a lock on the table: find it in pg_stat_activity, "
            "or retry later; --lock-retries and --lock-timeout tune this",
            exit_code=ExitCode.BUSY,
            details={"applied": applied, "failed": failed_id, "error": error, "current": now_at,
                     "committed_steps": committed or [],
                     "invalid_indexes": [{"table": t, "index": i} for t, i in invalid]},
        )
    return TodoctlError(
        f"{verb} {failed_id} failed and was rolled back: {error}; "
        f"applied: {', '.join(applied) or 'none'}; the database is at {stands}",
        hint="fix the revision or the data, then run the command again",
        exit_code=ExitCode.CHECK_FAILED,
        details={"applied": applied, "failed": failed_id, "error": error, "current": now_at,
                 "committed_steps": committed or [],
                 "invalid_indexes": [{"table": t, "index": i} for t, i in invalid]},
    )


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
    from todoctl.core import protect
    from todoctl.core.migration_lock import migration_lock

    options = options or RunOptions()
    script = script_directory(migrations)
    _check_target(script, revision)
    if _RELATIVE.match(revision):
        raise usage_error(f"stamp needs a revision, not {revision!r}", "use a revision id, head or base")
    with migration_lock(url, options.lock_wait), connection(url) as conn:
        protect.guard(conn, url, "stamp a revision", yes=options.yes)
        before = current_revisions(conn)
        config = alembic_config(migrations, connection=conn, timeouts=options.timeouts or Timeouts.from_env())
        command.stamp(config, revision, purge=True)
        after = current_revisions(conn)
    return MigrationRun(url.display, "stamp", revision, before, after, [])


# ---------------------------------------------------------------- authoring


def _next_revision_id(script: ScriptDirectory) -> str:
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{(max(numbers) + 1) if numbers else 1:04d}"


def new_revision(
    message: str, *, url: DatabaseURL | None, empty: bool = False, migrations: Path | str | None = None
) -> NewRevision:
    """Write a new revision: autogenerated from the models (the database must be at head), or empty."""
    if not message.strip():
        raise usage_error("the revision message is empty", "pass -m 'what this revision does'")
    location = _migrations(migrations)
    if paths.PACKAGE_DIR in location.parents:
        raise usage_error(
            f"the migrations in {location} belong to the installed package",
            "run `todoctl migrate new` from a checkout, or pass --migrations DIR",
        )
    script = ScriptDirectory.from_config(alembic_config(migrations))
    _single_head(script)
    rev_id = _next_revision_id(script)
    operations: list[str] = []
    skipped = [False]

    def keep_only_changes(context, revision, directives) -> None:
        if empty:
            return
        ops = directives[0].upgrade_ops
        if ops.is_empty():
            skipped[0] = True
            directives[:] = []
            return
        operations.extend(_describe(op) for op in ops.ops)

    if empty:
        created = command.revision(alembic_config(migrations), message=message, rev_id=rev_id)
    else:
        if url is None:
            raise usage_error("autogenerate needs a database", "pass --database-url, or use --empty")
        with connection(url) as conn:
            config = alembic_config(migrations, connection=conn)
            try:
                created = command.revision(
                    config,
                    message=message,
                    autogenerate=True,
                    rev_id=rev_id,
                    process_revision_directives=keep_only_changes,
                )
            except CommandError as exc:
                if "not up to date" in str(exc):
                    raise TodoctlError(
                        f"{url.display} is not at head, so the models cannot be compared with it",
                        hint="run `todoctl migrate up` first",
                    ) from None
                raise TodoctlError(mask(str(exc))) from None
        if skipped[0]:
            raise TodoctlError(
                "no differences between the models and the database: nothing to migrate",
                hint="change todoctl/models.py first, or pass --empty for a hand-written revision",
            )
    if isinstance(created, list):
        created = created[0]
    return NewRevision(rev_id, message, str(created.path), operations)


def merge_heads(message: str, *, migrations: Path | str | None = None) -> NewRevision:
    """Write a revision whose parents are all current heads."""
    location = _migrations(migrations)
    if paths.PACKAGE_DIR in location.parents:
        raise usage_error(
            f"the migrations in {location} belong to the installed package",
            "run `todoctl migrate merge` from a checkout, or pass --migrations DIR",
        )
    config = alembic_config(migrations)
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    if len(heads) < 2:
        raise usage_error("there is only one head: nothing to merge", "see `todoctl migrate history`")
    rev_id = _next_revision_id(script)
    created = command.merge(config, "heads", message=message, rev_id=rev_id)
    return NewRevision(rev_id, message, str(created.path), [f"merge {', '.join(sorted(heads))}"])


def _describe(op) -> str:
    if hasattr(op, "ops"):
        inner = "; ".join(_describe(o) for o in op.ops)
        return f"{getattr(op, 'table_name', '')}: {inner}"
    name = type(op).__name__.replace("Op", "")
    target = getattr(op, "table_name", None) or getattr(op, "index_name", None) or ""
    column = getattr(op, "column_name", None) or getattr(getattr(op, "column", None), "name", None)
    return " ".join(x for x in (name, target, column) if x)


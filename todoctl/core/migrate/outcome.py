"""What an interrupted or failed run tells the user: where it stopped, what was applied, where the database stands."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


from todoctl.core.migrate.extensions import HINT as EXTENSION_HINT
from todoctl.core.migrate.extensions import missing_extensions
from todoctl.core.migrate.state import current_revisions
from todoctl import interrupts
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError


@dataclass(frozen=True)
class Step:
    revision: str
    message: str
    direction: str  # "up" | "down"
    duration_ms: float | None  # None: the app's env.py did not report the revision as it ran


LOCK_NOT_AVAILABLE = "55P03"


@dataclass
class Journal:
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
        self.steps.append(Step(rev.revision, (rev.doc or "").strip(), self.direction, round((now - self.clock) * 1000, 3)))
        self.concurrent.clear()
        self.clock = now
        # A revision boundary (inside its transaction, before the commit): a Ctrl-C or SIGTERM whose
        # KeyboardInterrupt was swallowed (a weakref callback) stops the run here, this revision rolled back.
        interrupts.check()


def is_interrupt(exc: BaseException | None) -> bool:
    """Ctrl-C or SIGTERM, even when cleanup code replaced it with its own error (e.g. SQLAlchemy's
    PendingRollbackError from a connection the interrupt invalidated)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


# SQLSTATEs of a server going away: admin_shutdown (a fast or smart shutdown, a restart),
# crash_shutdown, cannot_connect_now (starting up or shutting down); class 08 is the connection's.
_SERVER_GONE = ("57P01", "57P02", "57P03")


def is_connection_lost(exc: BaseException | None) -> bool:
    """The server closed the connection under us (a restart, a crash, the network), as opposed to a
    statement failing: SQLAlchemy flags it ``connection_invalidated``; psycopg gives the SQLSTATE,
    or none at all when the socket simply closed."""
    import psycopg

    seen = 0
    while exc is not None and seen < 10:
        if getattr(exc, "connection_invalidated", False):
            return True
        if isinstance(exc, psycopg.OperationalError):
            state = getattr(exc, "sqlstate", None) or ""
            if state in _SERVER_GONE or state.startswith("08"):
                return True
            if not state and any(
                words in str(exc) for words in ("server closed the connection", "consuming input failed",
                                                "connection is lost", "the connection is closed", "terminating connection")
            ):
                return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def connection_lost(url: DatabaseURL, journal: "Journal", exc: BaseException) -> TodoctlError:
    """Exit 3: the server went away mid-run. The revision in flight was rolled back by the server
    with its transaction; what committed is kept, and `migrate up` (or `down`) resumes from there.
    A restart takes a second or two: where the database stands is asked again for up to 5 s."""
    deadline = time.monotonic() + 5.0
    now_at, invalid = _where_now(url)
    while now_at is None and time.monotonic() < deadline:
        time.sleep(0.5)
        now_at, invalid = _where_now(url)
    stands = ", ".join(now_at) if now_at else ("base" if now_at == [] else "unknown (cannot reconnect yet)")
    applied = _applied(journal.direction, journal.steps, now_at, journal.plan)
    cause = mask(str(getattr(exc, "orig", None) or exc)).strip().splitlines()
    where = ""
    if journal.phase == "revisions" and len(applied) < len(journal.plan):
        revision = journal.plan[len(applied)].revision.revision
        where = f" during {'upgrade to' if journal.direction == 'up' else 'downgrade from'} {revision} (rolled back with its transaction)"
    message = (
        f"lost the connection to the server{where}: {cause[0] if cause else type(exc).__name__}; "
        f"applied: {', '.join(applied) or 'none'}; the database is at {stands}"
    )
    if invalid:
        message += "; INVALID index left: " + ", ".join(f"{index} on {table}" for table, index in invalid)
    verb = "up" if journal.direction == "up" else "down"
    return TodoctlError(
        message,
        hint=f"when the server accepts connections again (`todoctl db wait`), run `todoctl migrate {verb}` "
        "again: it resumes from the revision the database records",
        exit_code=ExitCode.CONNECTION,
        details={"phase": journal.phase, "direction": journal.direction, "applied": applied, "current": now_at,
                 "invalid_indexes": [{"table": t, "index": i} for t, i in invalid]},
    )


def _applied(direction: str, steps: list[Step], now_at: list[str] | None, plan: list | None = None) -> list[str]:
    """The revisions that really committed, read against where the database stands now: along the
    plan (an app's own env.py records no steps), else the recorded steps (recorded before their commit)."""
    ids = [p.revision.revision for p in plan] if plan else [s.revision for s in steps]
    if now_at is None:
        return [s.revision for s in steps]
    current = now_at[0] if now_at else None
    if direction == "up":
        return ids[: ids.index(current) + 1] if current in ids else []
    return ids[: ids.index(current)] if current in ids else ids


def _where_now(url: DatabaseURL) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The current revision and the INVALID indexes left, or (None, []) when that cannot be read."""
    import todoctl.core.migrate.index_repair as index_repair
    from todoctl.db.engine import psycopg_connection

    try:
        with connection(url) as conn:
            now_at = current_revisions(conn)
        with psycopg_connection(url, autocommit=True, application_name="todoctl migrate (report)") as conn:
            invalid = index_repair.leftover_invalid(conn)
        return now_at, invalid
    except (Exception, KeyboardInterrupt):  # gone, or a second Ctrl-C: report what is known
        return None, []


def _blockers(url: DatabaseURL):
    """Sessions holding locks on the app's tables, read after the revision gave up (None if unreadable).

    The failed revision's own locks are released by then, and the statement it waited on is gone;
    every other session holding any lock on an app table is a candidate (see holding_app_locks).
    """
    from todoctl.core.sessions.others import holding_app_locks
    from todoctl.db.engine import psycopg_connection

    try:
        with psycopg_connection(url, autocommit=True, application_name="todoctl migrate (report)") as conn:
            return holding_app_locks(conn)
    except (Exception, KeyboardInterrupt):  # gone, or a second Ctrl-C: report what is known
        return None


def interrupted(url: DatabaseURL, journal: Journal) -> TodoctlError:
    now_at, invalid = _where_now(url)
    stands = ", ".join(now_at) if now_at else ("base" if now_at == [] else "unknown (cannot reconnect)")
    applied = _applied(journal.direction, journal.steps, now_at, journal.plan)
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


def rollback_quietly(conn) -> None:
    try:
        conn.rollback()
    except Exception:
        pass


def failed_revision(
    url: DatabaseURL,
    direction: str,
    failed,
    steps: list[Step],
    exc: Exception,
    *,
    lock_retries: int = 0,
    committed: list[str] | None = None,
) -> TodoctlError:
    failed_id = failed.revision.revision
    error = _error_text(exc)
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
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE:
        from todoctl.core.sessions.others import how_to_end

        blockers = _blockers(url)
        held_by = (
            "; held by " + "; ".join(b.describe() for b in blockers) if blockers
            else "; no session holds a lock on the app's tables any more" if blockers == [] else ""
        )
        return TodoctlError(
            f"{verb} {failed_id} could not get its lock within lock_timeout "
            f"after {lock_retries + 1} attempts and was rolled back; "
            f"applied: {', '.join(applied) or 'none'}; the database is at {stands}{held_by}",
            hint=(how_to_end([b.pid for b in blockers]) if blockers else
                  "a long transaction holds a lock on the table: find it in pg_stat_activity")
            + "; or retry later; --lock-retries and --lock-timeout tune this",
            exit_code=ExitCode.BUSY,
            details={"applied": applied, "failed": failed_id, "error": error, "current": now_at,
                     "committed_steps": committed or [],
                     "invalid_indexes": [{"table": t, "index": i} for t, i in invalid],
                     "blockers": [b.as_dict() for b in blockers or []]},
        )
    missing = missing_extensions(url, exc)
    if missing:
        names = ", ".join(f'"{name}"' for name in missing)
        server = "the embedded server" if url.source == "embedded" else "this server"
        return TodoctlError(
            f"{verb} {failed_id} needs the extension {names}, which {server} does not have; "
            f"the revision was rolled back; applied: {', '.join(applied) or 'none'}; the database is at {stands}",
            hint=EXTENSION_HINT,
            exit_code=ExitCode.CHECK_FAILED,
            details={"applied": applied, "failed": failed_id, "error": error, "current": now_at,
                     "missing_extensions": missing, "committed_steps": committed or [],
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


def _error_text(exc: Exception) -> str:
    """The server's message for a database error; for the revision's own Python, the exception and
    the line of the revision file it came from."""
    orig = getattr(exc, "orig", None)
    if orig is not None or hasattr(exc, "statement"):
        return (mask(str(orig if orig is not None else exc)).strip().splitlines() or [type(exc).__name__])[0]
    from todoctl.project import describe_failure

    return mask(describe_failure(exc))

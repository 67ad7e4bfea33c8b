"""The migration lock: a session-level advisory lock on a dedicated connection.

Every todoctl process that changes the schema (migrate up, down, stamp) takes it before
reading the current revision, so concurrent deploys run each revision exactly once. A
session lock dies with its session: a killed todoctl cannot leave it held.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from todoctl.db.engine import psycopg_connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError
from todoctl.settings import env_number

# pg_advisory_lock key, fixed and documented (docs/commands/migrate.md: "The migration lock"):
# the first eight bytes of sha256("todoctl.migrate") as a signed bigint.
LOCK_KEY = 6945445922939726218  # 0x60632E44B381E98A
DEFAULT_LOCK_WAIT = 60.0
MAX_LOCK_WAIT = 86_400.0  # seconds: a day; beyond that a deploy is not waiting but stuck


def lock_wait_seconds(explicit: float | None = None) -> float:
    if explicit is not None:
        return explicit
    return env_number("TODOCTL_LOCK_WAIT", DEFAULT_LOCK_WAIT, minimum=0.0, maximum=MAX_LOCK_WAIT, kind=float)


def check_lock_wait(raw: str, option: str = "--lock-wait") -> float:
    """The option's value, held to the same range as TODOCTL_LOCK_WAIT (0..a day)."""
    from todoctl.settings import number

    hint = f"{option} takes seconds between 0 and {MAX_LOCK_WAIT:g} (a day), default {DEFAULT_LOCK_WAIT:g}"
    return number(raw, f"{option} {raw!r}", hint, minimum=0.0, maximum=MAX_LOCK_WAIT, kind=float)


@dataclass(frozen=True)
class LockHolder:
    pid: int
    application: str
    client: str | None
    since: str | None
    query: str | None  # masked
    user: str | None = None
    state: str | None = None
    duration_ms: float | None = None  # how long its session has been open


def _split_key(key: int) -> tuple[int, int]:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def holder(conn) -> LockHolder | None:
    """Who holds the migration lock on this database (psycopg connection)."""
    classid, objid = _split_key(LOCK_KEY)
    from todoctl.core.sessions.query_text import mask_literals

    row = conn.execute(
        "SELECT a.pid, coalesce(a.application_name, ''), a.client_addr::text, "
        "a.backend_start::text, a.query, a.usename, a.state, "
        "extract(epoch FROM clock_timestamp() - a.backend_start)::float8 "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (classid, objid),
    ).fetchone()
    if not row:
        return None
    pid, application, client, since, sql, user, state, seconds = row
    return LockHolder(pid, application, client, since, mask_literals(sql) if sql else sql, user, state,
                      round(seconds * 1000) if seconds is not None else None)


@contextmanager
def migration_lock(url: DatabaseURL, wait: float | None = None) -> Iterator[int]:
    """Hold the lock for the duration of the block; exit 5 naming the holder after ``wait`` seconds."""
    import psycopg

    wait = lock_wait_seconds(wait)
    conn = psycopg_connection(url, autocommit=True, application_name="todoctl migrate (lock)")
    with conn:
        deadline = time.monotonic() + wait
        delay = 0.05
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise _busy(url, holder(conn), wait)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
        try:
            yield conn.info.backend_pid
        finally:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            except psycopg.Error:
                pass  # the session is gone, and its lock with it


def _busy(url: DatabaseURL, who: LockHolder | None, wait: float) -> TodoctlError:
    if who is None:
        message = f"another migration held the lock on {url.display} for more than {wait:g}s"
    else:
        how_long = f" for {who.duration_ms / 1000:.0f}s" if who.duration_ms is not None else ""
        message = (
            f"another migration holds the lock on {url.display}: pid {who.pid}"
            f" ({who.user or 'unknown user'}, application {who.application or 'unnamed'!r}"
            f"{', from ' + who.client if who.client else ''}, {who.state or 'unknown state'}{how_long}"
            f"{': ' + who.query if who.query else ''})"
        )
    # The advisory lock belongs to the session, not to a query: only ending the session releases it.
    pid = who.pid if who else "PID"
    return TodoctlError(
        message,
        hint=f"wait for it to finish, or raise --lock-wait; if that process is stuck, "
        f"`todoctl db cancel {pid} --terminate` or SELECT pg_terminate_backend({pid}) releases the lock",
        exit_code=ExitCode.BUSY,
        details={
            "holder_pid": who.pid if who else None,
            "holder": (
                {"pid": who.pid, "user": who.user, "application": who.application, "client": who.client,
                 "state": who.state, "duration_ms": who.duration_ms, "query": who.query}
                if who else None
            ),
        },
    )

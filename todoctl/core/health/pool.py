"""The app's connection pool as health sees it: :mod:`todoctl.app`'s settings and engine, and a load probe.

Health reads the app's own variables (``DB_POOL_MIN``, ``DB_POOL_MAX``, ``DB_POOL_RECYCLE``,
``DB_POOL_TIMEOUT``, ``DB_CONNECT_TIMEOUT``, ``DB_QUERY_TIMEOUT``; environment, then ``.env``) through
``AppSettings``, and ``--probe N`` runs N concurrent sessions through an engine built by
``todoctl.app.engine_from_settings``: the very pool the app runs, not a copy of it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from todoctl.todo.db import AppSettings, engine_from_settings
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, usage_error

# The name core.health's report uses for the pool's settings: the app's settings themselves.
PoolSettings = AppSettings

# Each probe session is a thread; beyond this the probe measures the machine, not the pool.
MAX_PROBE_SESSIONS = 1000
PROBE_APPLICATION_NAME = "todoctl health --probe"
SETTINGS_HINT = "fix the variable in the environment or .env (docs/todo-app.md, \"The app's database module\")"


def pool_settings() -> AppSettings:
    """The app's pool settings from its variables; a bad value is a usage error (exit 2).

    ``DATABASE_URL`` is not read here: health works on the URL todoctl resolved (``--database-url``).
    """
    try:
        # DEBUG only turns on the app's SQL echo, which must not reach health's output (nor fail it).
        return AppSettings.from_env(ignore=("DATABASE_URL", "DEBUG"), application_name=PROBE_APPLICATION_NAME)
    except ValueError as exc:
        raise usage_error(str(exc), SETTINGS_HINT) from None


def check_probe(sessions: int, hold: float, settings: AppSettings) -> None:
    """Refuse a probe that cannot measure the pool, before anything connects."""
    if not 0 <= sessions <= MAX_PROBE_SESSIONS:
        raise usage_error(
            f"--probe takes 1 to {MAX_PROBE_SESSIONS} sessions (0: no probe), not {sessions}",
            f"the app's pool holds at most DB_POOL_MAX={settings.pool_max} connections; "
            f"e.g. --probe {min(MAX_PROBE_SESSIONS, settings.pool_max * 2)}",
        )
    if hold < 0:
        raise usage_error(f"--probe-hold must be zero or more, not {hold:g}")
    if sessions and settings.query_timeout and hold >= settings.query_timeout:
        raise usage_error(
            f"--probe-hold {hold:g} s is not shorter than DB_QUERY_TIMEOUT ({settings.query_timeout} s)",
            "the app's statement_timeout would cancel every probe session: hold for less",
        )


@dataclass
class ProbeResult:
    sessions: int
    hold_seconds: float
    capacity: int | None
    connections_opened: int
    peak_checked_out: int
    overflow_used: int
    wait_p50_ms: float
    wait_p95_ms: float
    wait_max_ms: float
    timeouts: int
    errors: int
    first_error: str | None
    seconds: float


def make_pool_engine(url: DatabaseURL, settings: AppSettings):
    """The app's engine (todoctl.app) on ``url``; a URL the app would refuse is refused here (exit 4)."""
    try:
        return engine_from_settings(replace(settings, url=url, debug=False))
    except ValueError as exc:
        raise TodoctlError(
            mask(str(exc)), hint="the app refuses this URL too: fix sslmode", exit_code=ExitCode.REFUSED
        ) from None


def probe(
    url: DatabaseURL,
    sessions: int,
    settings: AppSettings,
    *,
    hold: float = 0.05,
    on_session: Callable[[int, int, str], None] | None = None,
) -> ProbeResult:
    """Run ``sessions`` concurrent sessions through the app's pool, each holding a connection ``hold`` seconds.

    All sessions ask for a connection at the same moment (a barrier), as a burst of requests would.
    A session that fails, or cannot even start (the machine's thread limit), is a reported error.
    ``on_session(finished, sessions, note)`` is called (from the session's thread) as each session
    ends, ``note`` counting the timeouts and errors so far.
    """
    from sqlalchemy import event, text
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from todoctl.core.health.registry import percentile

    check_probe(sessions, hold, settings)
    if sessions < 1:
        raise usage_error("--probe needs at least 1 session")
    engine = make_pool_engine(url, settings)
    lock = threading.Lock()
    counts = {"out": 0, "peak": 0, "opened": 0, "finished": 0}
    waits: list[float] = []
    timeouts: list[int] = []
    errors: list[str] = []

    @event.listens_for(engine, "connect")
    def _opened(dbapi_conn, record):
        with lock:
            counts["opened"] += 1

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, proxy):
        with lock:
            counts["out"] += 1
            counts["peak"] = max(counts["peak"], counts["out"])

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record):
        with lock:
            counts["out"] -= 1

    barrier = threading.Barrier(sessions)
    sleep = text("SELECT pg_sleep(:s)")

    def session() -> None:
        try:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            asked = time.perf_counter()
            with engine.connect() as conn:
                waited = time.perf_counter() - asked
                with lock:
                    waits.append(waited * 1000)
                conn.execute(sleep, {"s": hold})
                conn.rollback()
        except PoolTimeout:
            with lock:
                timeouts.append(1)
        except BaseException as exc:  # a refused or dropped connection, or a bug: counted and reported
            message = mask(str(getattr(exc, "orig", None) or exc)).strip().splitlines()
            with lock:
                errors.append(message[0] if message else type(exc).__name__)
        finally:
            if on_session is not None:
                with lock:
                    counts["finished"] += 1
                    failed = [f"{n} {what}" for n, what in ((len(timeouts), "timed out"), (len(errors), "failed")) if n]
                    on_session(counts["finished"], sessions, ", ".join(failed))

    if on_session is not None:
        on_session(0, sessions, "")
    started = time.perf_counter()
    # Daemon threads: Ctrl-C must not wait for sessions queued on a 30 s pool timeout.
    threads = [threading.Thread(target=session, daemon=True, name=f"probe-{i}") for i in range(sessions)]
    running: list[threading.Thread] = []
    try:
        for thread in threads:
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": out of memory or the thread limit
                with lock:
                    errors.extend(
                        [f"only {len(running)} of {sessions} probe sessions could start: {exc}"]
                        * (sessions - len(running))
                    )
                barrier.abort()  # release the sessions already waiting for the others
                break
            running.append(thread)
        for thread in running:
            while thread.is_alive():
                thread.join(0.1)
    finally:
        engine.dispose()
    return ProbeResult(
        sessions=sessions,
        hold_seconds=hold,
        capacity=settings.pool_max,
        connections_opened=counts["opened"],
        peak_checked_out=counts["peak"],
        overflow_used=max(0, counts["peak"] - settings.pool_min),
        wait_p50_ms=round(percentile(waits, 50), 2),
        wait_p95_ms=round(percentile(waits, 95), 2),
        wait_max_ms=round(max(waits, default=0.0), 2),
        timeouts=len(timeouts),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        seconds=round(time.perf_counter() - started, 3),
    )

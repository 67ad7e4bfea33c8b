"""The app's connection pool as health sees it: the app's own Engine (``engine`` in
``[tool.todoctl]``), what it is configured with, what a session through it gets, and a load probe.

The settings are read from the Engine the app builds (core/app_engine.py). The probe and the
session run through an engine with the same pool class, pool settings and connect arguments on the
database health checks (app_engine.on_target), so ``--probe N`` measures the pool the app runs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import todoctl.core.app_engine as app_engine
from todoctl.core.app_engine import AppEngine, EngineFacts, SessionSettings
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import usage_error

if TYPE_CHECKING:
    from todoctl.project import Project

# Each probe session is a thread; beyond this the probe measures the machine, not the pool.
MAX_PROBE_SESSIONS = 1000
PROBE_APPLICATION_NAME = "todoctl health --probe"


@dataclass
class ProbeResult:
    sessions: int
    hold_ms: float
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
    duration_ms: float


@dataclass
class PoolReport:
    """The app's pool: its engine's settings, a session's timeouts on this database, the probe."""

    engine: str | None  # the reference in [tool.todoctl]
    skipped: str | None = None  # why the pool was not judged (no engine declared)
    settings: EngineFacts | None = None
    session: SessionSettings | None = None  # what a session through the app's pool gets here
    session_error: str | None = None  # why no session could be opened through it
    probe: ProbeResult | None = None


def load(project: "Project", url: DatabaseURL) -> tuple[AppEngine | None, PoolReport]:
    """The app's engine on ``url`` and the report's first half; no ``engine`` key: skipped, saying why.
    An engine that cannot be imported or built is a usage error (exit 2) naming the app's line."""
    reason = app_engine.skipped_reason(project)
    if reason:
        return None, PoolReport(None, skipped=reason)
    app = app_engine.load(project, url)
    return app, PoolReport(app.ref, settings=app.facts)


def check_probe(sessions: int, hold: float, app: AppEngine | None) -> None:
    """Refuse a probe that cannot measure the pool, before anything connects."""
    if sessions and app is None:
        raise usage_error(
            "--probe measures the app's pool, and the app declares no engine",
            'name it in [tool.todoctl]: engine = "app.db:engine" (the Engine, or a function returning one)',
        )
    capacity = app.facts.pool_max if app is not None else None
    if not 0 <= sessions <= MAX_PROBE_SESSIONS:
        raise usage_error(
            f"--probe takes 1 to {MAX_PROBE_SESSIONS} sessions (0: no probe), not {sessions}",
            f"the app's pool holds at most {capacity} connections; e.g. --probe {min(MAX_PROBE_SESSIONS, capacity * 2)}"
            if capacity
            else "e.g. --probe 20",
        )
    if hold < 0:
        raise usage_error(f"--probe-hold must be zero or more, not {hold:g}")
    timeout = app.facts.timeout("statement_timeout") if app is not None else None
    if sessions and timeout:
        from todoctl.settings import duration_ms

        try:
            limit_ms = duration_ms(timeout)
        except ValueError:
            return
        if hold * 1000 >= limit_ms:
            raise usage_error(
                f"--probe-hold {hold:g} s is not shorter than the statement_timeout the app's engine sets ({timeout})",
                "the app's statement_timeout would cancel every probe session: hold for less",
            )


def session(app: AppEngine, url: DatabaseURL, report: PoolReport) -> None:
    """What one session through the app's pool on ``url`` gets (its timeouts, SSL), into ``report``."""
    from sqlalchemy.exc import DBAPIError

    from todoctl.errors import TodoctlError

    try:
        with app_engine.on_target(app, url, application_name=PROBE_APPLICATION_NAME) as engine:
            report.session = app_engine.session_settings(engine)
    except DBAPIError as exc:
        lines = mask(str(exc.orig or exc)).strip().splitlines()
        report.session_error = lines[0] if lines else type(exc).__name__
    except TodoctlError as exc:
        if exc.exit_code == 4:
            raise
        report.session_error = mask(exc.message)


def probe(
    url: DatabaseURL,
    sessions: int,
    app: AppEngine,
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

    check_probe(sessions, hold, app)
    if sessions < 1:
        raise usage_error("--probe needs at least 1 session")
    lock = threading.Lock()
    counts = {"out": 0, "peak": 0, "opened": 0, "finished": 0}
    waits: list[float] = []
    timeouts: list[int] = []
    errors: list[str] = []
    sleep = text("SELECT pg_sleep(:s)")

    with app_engine.on_target(app, url, application_name=PROBE_APPLICATION_NAME) as engine:

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

        def session_thread() -> None:
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
                message = mask(str(getattr(exc, "orig", None) or getattr(exc, "message", None) or exc)).strip().splitlines()
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
        threads = [threading.Thread(target=session_thread, daemon=True, name=f"probe-{i}") for i in range(sessions)]
        running: list[threading.Thread] = []
        for thread in threads:
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": out of memory or the thread limit
                with lock:
                    errors.extend(
                        [f"only {len(running)} of {sessions} probe sessions could start: {exc}"] * (sessions - len(running))
                    )
                barrier.abort()  # release the sessions already waiting for the others
                break
            running.append(thread)
        for thread in running:
            while thread.is_alive():
                thread.join(0.1)
    return ProbeResult(
        sessions=sessions,
        hold_ms=round(hold * 1000, 3),
        capacity=app.facts.pool_max,
        connections_opened=counts["opened"],
        peak_checked_out=counts["peak"],
        overflow_used=max(0, counts["peak"] - (app.facts.pool_size or 0)),
        wait_p50_ms=round(percentile(waits, 50), 2),
        wait_p95_ms=round(percentile(waits, 95), 2),
        wait_max_ms=round(max(waits, default=0.0), 2),
        timeouts=len(timeouts),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )

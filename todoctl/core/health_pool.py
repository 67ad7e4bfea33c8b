"""The app's SQLAlchemy connection pool: its settings (from the app's environment) and a load probe.

The app builds a ``QueuePool`` from ``DB_POOL_*`` variables; health reads the same variables
(environment, then ``.env``) with the same defaults, and ``--probe N`` runs N concurrent sessions
through such a pool to show what the app would see under that load.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import usage_error

# name -> (environment variable, default); the app's settings use the same names and defaults.
POOL_VARIABLES = {
    "size": ("DB_POOL_SIZE", "5"),
    "max_overflow": ("DB_POOL_MAX_OVERFLOW", "10"),
    "timeout": ("DB_POOL_TIMEOUT", "30"),
    "recycle": ("DB_POOL_RECYCLE", "1800"),
    "pre_ping": ("DB_POOL_PRE_PING", "true"),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class PoolSettings:
    size: int = 5
    max_overflow: int = 10
    timeout: float = 30.0
    recycle: int = 1800
    pre_ping: bool = True
    sources: dict[str, str] = field(
        default_factory=dict
    )  # setting -> "DB_POOL_SIZE", "DB_POOL_SIZE (.env)" or "default"

    __json_properties__ = ("capacity",)

    @property
    def capacity(self) -> int | None:
        """Connections the pool may hold at once (None: unbounded, max_overflow = -1)."""
        return None if self.max_overflow < 0 else self.size + self.max_overflow

    @classmethod
    def from_env(cls) -> "PoolSettings":
        values, sources = {}, {}
        dotenv = _dotenv()
        for name, (variable, default) in POOL_VARIABLES.items():
            raw = os.environ.get(variable)
            source = variable
            if raw is None or raw.strip() == "":
                raw = dotenv.get(variable)
                source = f"{variable} (.env)"
            if raw is None or raw.strip() == "":
                raw, source = default, "default"
            values[name] = _parse(name, variable, raw.strip())
            sources[name] = source
        return cls(**values, sources=sources)


def _dotenv() -> dict[str, str]:
    from dotenv import dotenv_values, find_dotenv

    path = find_dotenv(usecwd=True)
    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}


def _parse(name: str, variable: str, raw: str):
    try:
        if name == "pre_ping":
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError
        if name == "timeout":
            value = float(raw)
            if value <= 0:
                raise ValueError
            return value
        value = int(raw)
    except ValueError:
        expected = "true or false" if name == "pre_ping" else "a positive number" if name == "timeout" else "an integer"
        raise usage_error(f"{variable} must be {expected}, not {raw!r}") from None
    low = {"size": 0, "max_overflow": -1, "recycle": -1}[name]
    if value < low:
        raise usage_error(f"{variable} must be {low} or more, not {raw!r}")
    return value


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


def make_pool_engine(url: DatabaseURL, settings: PoolSettings):
    """An engine with the QueuePool the app would build from ``settings``."""
    from sqlalchemy.pool import QueuePool

    from todoctl.db.engine import make_engine

    return make_engine(
        url,
        poolclass=QueuePool,
        pool_size=settings.size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.timeout,
        pool_recycle=settings.recycle,
        pool_pre_ping=settings.pre_ping,
    )


def probe(url: DatabaseURL, sessions: int, settings: PoolSettings, *, hold: float = 0.05) -> ProbeResult:
    """Run ``sessions`` concurrent sessions through the app's pool, each holding a connection ``hold`` seconds.

    All sessions ask for a connection at the same moment (a barrier), as a burst of requests would.
    """
    from sqlalchemy import event, text
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from todoctl.core.health_checks import percentile

    if sessions < 1:
        raise usage_error("--probe needs at least 1 session")
    engine = make_pool_engine(url, settings)
    lock = threading.Lock()
    counts = {"out": 0, "peak": 0, "opened": 0}
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
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        asked = time.perf_counter()
        try:
            with engine.connect() as conn:
                waited = time.perf_counter() - asked
                with lock:
                    waits.append(waited * 1000)
                conn.execute(sleep, {"s": hold})
                conn.rollback()
        except PoolTimeout:
            with lock:
                timeouts.append(1)
        except Exception as exc:  # a refused or dropped connection: counted and reported
            message = mask(str(getattr(exc, "orig", None) or exc)).strip().splitlines()
            with lock:
                errors.append(message[0] if message else type(exc).__name__)

    started = time.perf_counter()
    # Daemon threads: Ctrl-C must not wait for sessions queued on a 30 s pool timeout.
    threads = [threading.Thread(target=session, daemon=True, name=f"probe-{i}") for i in range(sessions)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    finally:
        engine.dispose()
    return ProbeResult(
        sessions=sessions,
        hold_seconds=hold,
        capacity=settings.capacity,
        connections_opened=counts["opened"],
        peak_checked_out=counts["peak"],
        overflow_used=max(0, counts["peak"] - settings.size),
        wait_p50_ms=round(percentile(waits, 50), 2),
        wait_p95_ms=round(percentile(waits, 95), 2),
        wait_max_ms=round(max(waits, default=0.0), 2),
        timeouts=len(timeouts),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        seconds=round(time.perf_counter() - started, 3),
    )

"""`todoctl health`: is this database fit to serve? Checks, latency and the app's pool, as one report.

    report = health.run(url, checks=["migrations", "connections"], probe=20)
    report.ok            # False when a check failed (or warned, with strict=True)

The checks are a registry (:mod:`todoctl.core.health.registry`) filled by the check modules
beside it (connection, activity, blocking, indexes, stats, sequences, replication, top_queries); the pool settings and the probe
live in :mod:`todoctl.core.health.pool`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

# Importing a check module registers its checks; the import order is the display order (so the
# sorter is kept off these lines).
# isort: off
import todoctl.core.health.connection as health_connection  # noqa: F401
import todoctl.core.health.activity as health_activity  # noqa: F401
import todoctl.core.health.blocking as health_blocking  # noqa: F401
import todoctl.core.health.indexes as health_indexes  # noqa: F401
import todoctl.core.health.stats as health_stats  # noqa: F401
import todoctl.core.health.sequences as health_sequences  # noqa: F401
import todoctl.core.health.replication as health_replication  # noqa: F401
import todoctl.core.health.top_queries as health_top_queries  # noqa: F401
# isort: on
import todoctl.core.health.pool as app_pool
from todoctl.core.health.pool import PoolReport, ProbeResult, check_probe
from todoctl.core.health.pool import probe as run_probe
from todoctl.core.health.registry import (
    REGISTRY,
    SAMPLERS,
    Check,
    Context,
    Status,
    grade,
    ms,
)
from todoctl.core.health.thresholds import Thresholds
from todoctl.db.engine import explain_connect_failure, make_engine
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import connection_error, usage_error
from todoctl.results import human_only

__all__ = [
    "CHECK_NAMES",
    "Check",
    "HealthReport",
    "PoolReport",
    "ProbeResult",
    "Status",
    "Thresholds",
    "run",
]

CHECK_NAMES = tuple(REGISTRY)
MAX_SAMPLE_S = 3600  # --sample: an hour is already a long CI step


@dataclass
class HealthReport:
    database: str = human_only()
    endpoint: str  # "pooled" | "direct"
    strict: bool
    checks: list[Check]
    pool: PoolReport
    thresholds: Thresholds
    query_text: str = "masked"  # other sessions' SQL: "masked" literals, or "full" (--show-query-text)
    duration_ms: float = 0.0
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    __json_properties__ = ("ok", "summary")

    @property
    def failed(self) -> list[Check]:
        bad = {Status.FAIL, Status.WARN} if self.strict else {Status.FAIL}
        return [c for c in self.checks if c.status in bad]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def summary(self) -> dict[str, int]:
        return {s.value: sum(1 for c in self.checks if c.status is s) for s in Status}

    def get(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


def selected(names: Iterable[str] | None) -> list[str]:
    """The checks to run, in display order; an unknown name is a usage error (exit 2)."""
    names = [n.strip() for n in (names or []) if n.strip()]
    if not names:
        return list(CHECK_NAMES)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise usage_error(f"unknown check {', '.join(unknown)}", f"checks are: {', '.join(CHECK_NAMES)}")
    return [n for n in CHECK_NAMES if n in names]


def _connect(engine, url: DatabaseURL):
    """Open one connection; failing to is exit 3."""
    from sqlalchemy.exc import DBAPIError

    try:
        return engine.connect()
    except DBAPIError as exc:
        # One attempt, no retry: the time to fail is part of the answer, and bounded by connect_timeout.
        raise explain_connect_failure(url, exc) from None


def _measure(engine, url: DatabaseURL, pings: int) -> tuple:
    """Connect twice (cold, then warm), timing the driver's connect only, and ping over the second connection."""
    from sqlalchemy import event

    marks: dict[str, float] = {}
    timings: list[float] = []

    def started(dialect, record, cargs, cparams):
        marks["start"] = time.perf_counter()

    def opened(dbapi_conn, record):
        timings.append((time.perf_counter() - marks["start"]) * 1000)

    event.listen(engine, "do_connect", started)
    # insert=True: runs before the dialect's own on-connect queries, so only the driver is timed.
    event.listen(engine, "connect", opened, insert=True)
    conn = _connect(engine, url)
    pings_ms: list[float] = []
    try:
        with _connect(engine, url).execution_options(isolation_level="AUTOCOMMIT") as warm:
            for _ in range(pings):
                start = time.perf_counter()
                warm.exec_driver_sql("SELECT 1").scalar()
                pings_ms.append((time.perf_counter() - start) * 1000)
    except BaseException:
        conn.close()
        raise
    return conn, timings, pings_ms


def _context(url: DatabaseURL, conn, thresholds: Thresholds, timings, pings_ms, **options) -> Context:
    pgconn = conn.connection.driver_connection.pgconn
    # psycopg's PGconn does not expose PQsslAttribute in every version: the protocol is a bonus.
    ssl_attribute = getattr(pgconn, "ssl_attribute", None)
    protocol = ssl_attribute(b"protocol") if pgconn.ssl_in_use and ssl_attribute else None
    version_num, sees_all = conn.exec_driver_sql(
        "SELECT current_setting('server_version_num')::int, pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')"
    ).one()
    conn.rollback()
    return Context(
        url=url,
        conn=conn,
        thresholds=thresholds,
        connect_ms=timings,
        pings_ms=pings_ms,
        ssl_in_use=bool(pgconn.ssl_in_use),
        ssl_protocol=protocol.decode() if isinstance(protocol, bytes) else protocol,
        sees_all_sessions=bool(sees_all),
        server_version_num=int(version_num),
        **options,
    )


def _run_check(name: str, ctx: Context) -> Check:
    """Run one check; a query it could not run (privileges, timeout) is a warning, not a crash."""
    from sqlalchemy.exc import DBAPIError

    from todoctl.errors import ExitCode, TodoctlError

    try:
        return REGISTRY[name].run(ctx)
    except DBAPIError as exc:
        text = mask(str(exc.orig or exc)).strip().splitlines()
        first = text[0] if text else type(exc).__name__
        if ctx.conn.invalidated or ctx.conn.closed or exc.connection_invalidated:
            raise connection_error(
                f"lost the connection to {ctx.url.display}: {first}", "is the server restarting or suspending?"
            ) from None
        if "statement timeout" in first:
            hint = "the server is slow to answer; --threshold statement_timeout_ms=... allows more time"
        elif "permission denied" in first or "privilege" in first:
            hint = "the role lacks a privilege: GRANT pg_monitor TO it"
        else:
            hint = None
        return Check(name, Status.WARN, f"could not check: {first}", "", hint, {"error": first})
    except TodoctlError as exc:
        if exc.exit_code is ExitCode.CONNECTION:
            raise
        return Check(name, Status.FAIL, f"could not check: {mask(exc.message)}", "", exc.hint, {"error": exc.message})


def _start_sample(ctx: Context, names: list[str]) -> None:
    """Read the counters of the checks that judge them, then wait: the checks judge the difference."""
    from sqlalchemy.exc import DBAPIError

    for name in names:
        if name in SAMPLERS:
            try:
                ctx.sampled[name] = SAMPLERS[name](ctx)
            except DBAPIError:
                pass  # the check itself reports what it cannot read
    time.sleep(ctx.sample_s)


def probe_check(result: ProbeResult, thresholds: Thresholds) -> Check:
    """The --probe result as a check: timeouts or errors fail, long waits warn."""
    capacity = "unbounded" if result.capacity is None else str(result.capacity)
    value = (
        f"{result.sessions} sessions: peak {result.peak_checked_out}/{capacity} checked out, "
        f"wait p95 {ms(result.wait_p95_ms)}, {result.timeouts} timeouts"
    )
    threshold = f"0 timeouts; wait p95 > {thresholds.probe_wait_warn_ms:g} ms"
    details = {"timeouts": result.timeouts, "errors": result.errors}
    if result.errors:
        return Check(
            "pool-probe",
            Status.FAIL,
            value + f", {result.errors} errors: {result.first_error}",
            threshold,
            "the server refused sessions: check max_connections against pool size x processes",
            details,
        )
    if result.timeouts:
        return Check(
            "pool-probe",
            Status.FAIL,
            value,
            threshold,
            "requests would fail with pool timeouts: raise the engine's pool_size/max_overflow or "
            "pool_timeout, or hold connections for less time",
            details,
        )
    status = grade(result.wait_p95_ms, thresholds.probe_wait_warn_ms, float("inf"))
    hint = (
        "requests queue for a connection: raise the engine's pool_size or max_overflow" if status is Status.WARN else None
    )
    return Check("pool-probe", status, value, threshold, hint, details)


def run(
    url: DatabaseURL,
    *,
    checks: Iterable[str] | None = None,
    thresholds: Thresholds | None = None,
    strict: bool = False,
    probe: int = 0,
    probe_hold: float = 0.05,
    sample: float = 0.0,
    show_query_text: bool = False,
    on_probe: Callable[[int, int, str], None] | None = None,
) -> HealthReport:
    """Connect (exit 3 if that fails, within the connect timeout), run the checks, optionally probe the pool.

    ``sample`` seconds: counter-based checks (cache-hit) measure over that interval now instead of
    since the previous run. ``show_query_text``: other sessions' SQL is shown with its literals.
    ``on_probe(finished, sessions, note)``: told as each probe session ends (pool.probe's ``on_session``).
    """
    from todoctl import project

    names = selected(checks)
    thresholds = thresholds or Thresholds.from_env()
    app, pool = app_pool.load(project.current(), url)  # the app's engine: exit 2 before connecting if broken
    check_probe(probe, probe_hold, app)
    if not 0 <= sample <= MAX_SAMPLE_S:
        raise usage_error(f"--sample must be 0 to {MAX_SAMPLE_S:g} seconds, not {sample:g}", "e.g. --sample 60")
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        conn, timings, pings_ms = _measure(engine, url, int(thresholds.pings))
        with conn:
            ctx = _context(
                url, conn, thresholds, timings, pings_ms, sample_s=sample, show_query_text=show_query_text
            )
            if sample:
                _start_sample(ctx, names)
            results = [_run_check(name, ctx) for name in names]
    finally:
        engine.dispose()
    if app is not None:
        app_pool.session(app, url, pool)
    if probe:
        pool.probe = run_probe(url, probe, app, hold=probe_hold, on_session=on_probe)
        results.append(probe_check(pool.probe, thresholds))
    return HealthReport(
        database=url.display,
        endpoint="pooled" if url.is_pooled else "direct",
        strict=strict,
        checks=results,
        pool=pool,
        thresholds=thresholds,
        query_text="full" if show_query_text else "masked",
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )

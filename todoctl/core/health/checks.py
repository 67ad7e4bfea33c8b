"""What `todoctl health` is made of: statuses, thresholds, the check registry, and the checks on
the connection itself (connect, latency, version, ssl, endpoint, migrations).

The other checks live beside it, one module per subject: ``health_activity`` (sessions),
``health_indexes`` and ``health_stats`` (statistics, vacuum, wraparound, pg_stat_statements).
They register with :func:`check` when imported; :mod:`todoctl.core.health.report` imports them in
display order. Each check receives a :class:`Context` (an open connection plus what was measured while
opening it) and returns a :class:`Check`. Checks that query the server do so through
:func:`query`, inside a READ ONLY transaction under a short ``statement_timeout``, which is
rolled back afterwards: health never writes and never waits long.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from todoctl.errors import usage_error

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from todoctl.db.url import DatabaseURL

SUPPORTED_MAJORS = (14, 18)  # the Neon range the app is tested on
XID_LIMIT = 2**31  # transaction IDs wrap around (and the server stops) near here


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass
class Check:
    name: str
    status: Status
    value: str
    threshold: str = ""
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """Every limit health judges by. Each can be set as ``--threshold NAME=VALUE`` or ``TODOCTL_HEALTH_NAME``."""

    connect_warn_ms: float = 1000
    connect_fail_ms: float = 5000
    pings: int = 10
    latency_warn_ms: float = 100  # p95 of the pings
    latency_fail_ms: float = 500
    connections_warn_pct: float = 80  # of max_connections
    connections_fail_pct: float = 95
    long_query_warn_s: float = 60
    long_query_fail_s: float = 300
    idle_in_transaction_warn_s: float = 30
    idle_in_transaction_fail_s: float = 300
    cache_hit_warn_pct: float = 99
    cache_hit_fail_pct: float = 90
    cache_hit_min_blocks: int = 10000  # below this much traffic in the window the ratio means nothing
    window_max_s: float = 3600  # a window with too little traffic to judge restarts after this long
    unused_index_min_scans: int = 1000  # judge a table's indexes only once it has been scanned this often
    dead_tuple_warn_pct: float = 20
    dead_tuple_fail_pct: float = 50
    dead_tuple_min_rows: int = 1000
    wraparound_warn_age: int = 1_000_000_000
    wraparound_fail_age: int = 1_500_000_000
    top_queries: int = 5
    top_query_mean_warn_ms: float = 1000
    probe_wait_warn_ms: float = 1000  # p95 acquisition wait in --probe
    statement_timeout_ms: int = 5000  # for health's own queries

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def env_name(cls, name: str) -> str:
        return f"TODOCTL_HEALTH_{name.upper()}"

    @classmethod
    def from_env(cls, overrides: dict[str, str] | None = None) -> "Thresholds":
        """Defaults, then ``TODOCTL_HEALTH_*`` variables, then ``overrides`` (from ``--threshold``)."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(cls.names()))
        if unknown:
            raise usage_error(
                f"unknown threshold {', '.join(unknown)}",
                f"thresholds are: {', '.join(cls.names())}",
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            source = "--threshold" if f.name in overrides else cls.env_name(f.name)
            raw = overrides.get(f.name, os.environ.get(cls.env_name(f.name)))
            if raw is None or str(raw).strip() == "":
                continue
            values[f.name] = cls.parse(f.name, str(raw), source)
        return cls(**values)

    @classmethod
    def parse(cls, name: str, raw: str, source: str) -> float | int:
        """One threshold value, checked against its range; a bad one is a usage error naming its source."""
        whole = next(f for f in fields(cls) if f.name == name).type in ("int", int)
        low, high = THRESHOLD_RANGES.get(name, (0, math.inf))
        span = f"{number(low)} to {number(high)}" if math.isfinite(high) else f"{number(low)} or more"
        kind = "a whole number" if whole else "a number"
        default = number(getattr(cls(), name))
        # An option of its own (--pings) is shown as such; everything else as --threshold NAME=VALUE.
        example = f"{source} {default}" if source.startswith("--") and source != "--threshold" else (
            f"--threshold {name}={default}"
        )
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (whole and not value.is_integer()):
            raise usage_error(f"{name} must be {kind}, not {raw!r} (from {source})", f"e.g. {example}")
        if not low <= value <= high:
            raise usage_error(f"{name} must be {span}, not {raw!r} (from {source})", f"e.g. {example}")
        return int(value) if whole else value


# Ranges beyond "zero or more": a percentage is at most 100; health always pings at least once and
# never more than a bounded number of times; its own queries always run under a timeout (0 would
# mean none).
THRESHOLD_RANGES: dict[str, tuple[float, float]] = {
    "pings": (1, 1000),
    "top_queries": (1, 100),
    "statement_timeout_ms": (1, 600_000),
    **{name: (0, 100) for name in (
        "connections_warn_pct", "connections_fail_pct", "cache_hit_warn_pct", "cache_hit_fail_pct",
        "dead_tuple_warn_pct", "dead_tuple_fail_pct",
    )},
}


@dataclass
class Context:
    """What every check may use: the connection, the URL, the limits and the connect measurements."""

    url: "DatabaseURL"
    conn: "Connection"
    thresholds: Thresholds
    connect_ms: list[float]  # first connection (cold), then a second one (warm)
    pings_ms: list[float]
    ssl_in_use: bool
    ssl_protocol: str | None = None
    sees_all_sessions: bool = True
    server_version_num: int = 0
    sample_s: float = 0.0  # --sample: measure counter-based checks over this many seconds now
    show_query_text: bool = False  # --show-query-text: other sessions' SQL unmasked
    sampled: dict[str, Any] = field(default_factory=dict)  # --sample: check name -> reading at the start


@dataclass(frozen=True)
class CheckSpec:
    name: str
    description: str
    run: Callable[[Context], Check]


REGISTRY: dict[str, CheckSpec] = {}
# Checks that judge cumulative counters read them once more at the start of a --sample interval.
SAMPLERS: dict[str, Callable[[Context], Any]] = {}


def check(name: str, description: str):
    """Register a check under ``name`` (``--check NAME``); registration order is display order."""

    def register(fn: Callable[[Context], Check]) -> Callable[[Context], Check]:
        REGISTRY[name] = CheckSpec(name, description, fn)
        return fn

    return register


def sampler(name: str):
    """Register how check ``name`` reads its counters at the start of ``--sample SECONDS``."""

    def register(fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        SAMPLERS[name] = fn
        return fn

    return register


# ---------------------------------------------------------------- helpers


@contextmanager
def read_only(ctx: Context):
    """The connection in a read-only transaction under health's statement_timeout, rolled back after."""
    conn = ctx.conn
    try:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(ctx.thresholds.statement_timeout_ms)}")
        conn.exec_driver_sql("SET LOCAL lock_timeout = 1000")
        yield conn
    finally:
        conn.rollback()


def query(ctx: Context, sql: str, **params) -> list:
    """Run one read-only query under health's statement_timeout, then roll back."""
    from sqlalchemy import text

    with read_only(ctx) as conn:
        return list(conn.execute(text(sql), params))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def seconds(value: float) -> str:
    value = float(value)
    if value < 120:
        return f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    if value < 172800:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} days"


def number(value: float) -> str:
    return f"{value:g}"


def grade(value: float, warn: float, fail: float, *, higher_is_worse: bool = True) -> Status:
    if higher_is_worse:
        return Status.FAIL if value > fail else Status.WARN if value > warn else Status.OK
    return Status.FAIL if value < fail else Status.WARN if value < warn else Status.OK


def above(warn: float, fail: float, unit: str) -> str:
    """Thresholds read "warn / fail": ``> 80 / 95%``."""
    return f"> {number(warn)} / {number(fail)}{unit}"


def below(warn: float, fail: float, unit: str) -> str:
    return f"< {number(warn)} / {number(fail)}{unit}"


def shown_query(ctx: Context, sql: str | None, limit: int | None = None) -> str | None:
    """Another session's SQL as health shows it: literals masked (unless --show-query-text), then shortened.

    Masking comes first: the full text scans where a cut one might end inside a quote.
    """
    from todoctl.core.shared.query_text import mask_literals

    text = sql if ctx.show_query_text else mask_literals(sql)
    if text and limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def sessions_hint(ctx: Context) -> str:
    return "" if ctx.sees_all_sessions else " (this role sees only its own sessions: GRANT pg_monitor TO it)"


# ---------------------------------------------------------------- connection


def connect_status(connect_ms: list[float], t: Thresholds) -> Check:
    first = connect_ms[0]
    again = connect_ms[1] if len(connect_ms) > 1 else None
    status = grade(first, t.connect_warn_ms, t.connect_fail_ms)
    value = f"first {ms(first)}" + (f", again {ms(again)}" if again is not None else "")
    hint = None
    cold = again is not None and first > max(3 * again, again + 200)
    if status is not Status.OK:
        hint = (
            "the first connection was much slower than the second: a cold start "
            "(a Neon compute waking from suspend), not the network"
            if cold
            else "every connection is slow: check the network path and the server's load"
        )
    return Check(
        "connect",
        status,
        value,
        above(t.connect_warn_ms, t.connect_fail_ms, " ms"),
        hint,
        {"first_ms": round(first, 2), "again_ms": None if again is None else round(again, 2), "cold_start": cold},
    )


@check("connect", "time to open the first connection (a Neon cold start shows here) and a second one")
def _connect(ctx: Context) -> Check:
    return connect_status(ctx.connect_ms, ctx.thresholds)


def latency_status(pings_ms: list[float], t: Thresholds) -> Check:
    if not pings_ms:
        return Check("latency", Status.SKIP, "no pings (pings=0)", "", None, {"pings": 0})
    p50, p95, worst = percentile(pings_ms, 50), percentile(pings_ms, 95), max(pings_ms)
    status = grade(p95, t.latency_warn_ms, t.latency_fail_ms)
    return Check(
        "latency",
        status,
        f"p50 {ms(p50)}, p95 {ms(p95)}, max {ms(worst)} over {len(pings_ms)} pings",
        "p95 " + above(t.latency_warn_ms, t.latency_fail_ms, " ms"),
        None if status is Status.OK else "each query pays this round trip: run the app close to the database",
        {"pings": len(pings_ms), "p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "max_ms": round(worst, 3)},
    )


@check("latency", "round-trip time of SELECT 1: p50, p95 and max over N pings")
def _latency(ctx: Context) -> Check:
    return latency_status(ctx.pings_ms, ctx.thresholds)


def version_status(version_num: int) -> Check:
    major, minor = version_num // 10000, version_num % 10000
    low, high = SUPPORTED_MAJORS
    value = f"PostgreSQL {major}.{minor}"
    threshold = f"{low} to {high}"
    details = {"server_version_num": version_num, "major": major}
    if major < low:
        return Check(
            "version",
            Status.FAIL,
            value,
            threshold,
            f"PostgreSQL {major} is not supported: upgrade to {low} or later",
            details,
        )
    if major > high:
        return Check(
            "version",
            Status.WARN,
            value,
            threshold,
            f"newer than PostgreSQL {high}, which the app is tested on",
            details,
        )
    return Check("version", Status.OK, value, threshold, None, details)


@check("version", f"server version supported ({SUPPORTED_MAJORS[0]} to {SUPPORTED_MAJORS[1]})")
def _version(ctx: Context) -> Check:
    return version_status(ctx.server_version_num)


def ssl_status(*, is_local: bool, ssl_in_use: bool, protocol: str | None = None) -> Check:
    details = {"local": is_local, "ssl_in_use": ssl_in_use, "protocol": protocol}
    if ssl_in_use:
        return Check(
            "ssl", Status.OK, f"in use ({protocol})" if protocol else "in use", "on (remote hosts)", None, details
        )
    if is_local:
        return Check("ssl", Status.SKIP, "not in use: local connection", "on (remote hosts)", None, details)
    return Check(
        "ssl",
        Status.FAIL,
        "not in use on a remote connection",
        "on (remote hosts)",
        "add ?sslmode=require (or verify-full) to the URL; Neon refuses connections without TLS",
        details,
    )


@check("ssl", "TLS in use on connections to non-local hosts")
def _ssl(ctx: Context) -> Check:
    return ssl_status(is_local=ctx.url.is_local, ssl_in_use=ctx.ssl_in_use, protocol=ctx.ssl_protocol)


def endpoint_status(url: "DatabaseURL") -> Check:
    if url.is_pooled:
        return Check(
            "endpoint",
            Status.OK,
            "pooled (PgBouncer, transaction mode)",
            "",
            "fine for the app; migrations need the direct endpoint (DATABASE_URL_UNPOOLED)",
            {"pooled": True, "host": url.host},
        )
    return Check("endpoint", Status.OK, "direct", "", None, {"pooled": False, "host": url.host})


@check("endpoint", "pooled (Neon -pooler host) or direct endpoint")
def _endpoint(ctx: Context) -> Check:
    return endpoint_status(ctx.url)


@check("migrations", "migration state: at head, pending revisions, unknown revision")
def _migrations(ctx: Context) -> Check:
    from todoctl.core import migrate

    result = migrate.status(ctx.url)
    details = {
        "current": result.current,
        "heads": result.heads,
        "pending": [r.id for r in result.pending],
        "unknown": result.unknown,
    }
    current = ", ".join(result.current) or "base"
    if result.unknown:
        return Check(
            "migrations",
            Status.FAIL,
            f"at unknown revision {', '.join(result.unknown)}",
            "at head",
            "the database was migrated by a newer or different checkout: deploy matching code",
            details,
        )
    if result.pending:
        return Check(
            "migrations",
            Status.FAIL,
            f"at {current}, {len(result.pending)} pending (head {', '.join(result.heads)})",
            "at head",
            "run `todoctl migrate up` with the direct URL",
            details,
        )
    return Check("migrations", Status.OK, f"at head ({current})", "at head", None, details)


SEVERITY_ORDER = [Status.SKIP, Status.OK, Status.WARN, Status.FAIL]


def severity(status: Status) -> int:
    return SEVERITY_ORDER.index(status)

"""The checks on the connection itself: connect, latency, version, ssl, endpoint, migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    above,
    check,
    grade,
    ms,
    percentile,
)
from todoctl.core.health.thresholds import Thresholds

if TYPE_CHECKING:
    from todoctl.db.url import DatabaseURL

SUPPORTED_MAJORS = (14, 18)  # the Neon range the app is tested on


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
        "pending": [r.revision for r in result.pending],
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

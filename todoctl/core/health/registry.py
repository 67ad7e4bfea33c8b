"""The health check framework: statuses, the check registry and its decorators, and the helpers checks share.

The checks live beside it, one module per subject: ``connection`` (connect, latency, version, ssl,
endpoint, migrations), ``activity`` (sessions), ``indexes``, ``stats`` (statistics, vacuum,
wraparound) and ``top_queries`` (pg_stat_statements). They register with :func:`check` when imported;
:mod:`todoctl.core.health.report` imports them in display order. Each check receives a
:class:`Context` (an open connection plus what was measured while opening it) and returns a
:class:`Check`. Checks that query the server do so through :func:`query`, inside a READ ONLY
transaction under a short ``statement_timeout``, which is rolled back afterwards: health never
writes and never waits long.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from todoctl.results import described

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from todoctl.core.health.thresholds import Thresholds
    from todoctl.db.url import DatabaseURL


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
    # Each check's own facts, an open object: its keys follow the JSON vocabulary (checked on real
    # output by tests/cli/test_json_contract.py).
    details: dict[str, Any] = described(
        "The check's own facts (an open object; each check has its keys, in the JSON vocabulary).",
        default_factory=dict,
    )


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
    from todoctl.core.sessions.query_text import mask_literals

    text = sql if ctx.show_query_text else mask_literals(sql)
    if text and limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def sessions_hint(ctx: Context) -> str:
    return "" if ctx.sees_all_sessions else " (this role sees only its own sessions: GRANT pg_monitor TO it)"


SEVERITY_ORDER = [Status.SKIP, Status.OK, Status.WARN, Status.FAIL]


def severity(status: Status) -> int:
    return SEVERITY_ORDER.index(status)

"""Every limit health judges by: defaults, ``TODOCTL_HEALTH_*`` variables and ``--threshold``, each checked against its range."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from typing import Any

from todoctl.core.health.registry import number
from todoctl.errors import usage_error


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
    blocking_warn_s: float = 30  # the longest wait on another session's lock
    blocking_fail_s: float = 300
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
    sequence_warn_pct: float = 75  # share of its range a sequence (or its column's type) has used
    sequence_fail_pct: float = 90
    # A standby or read replica behind the primary, in WAL not yet replayed or in time since it last
    # replayed a transaction while behind; and WAL kept by a replication slot nobody reads.
    replication_lag_warn_mb: float = 64
    replication_lag_fail_mb: float = 1024
    replication_lag_warn_s: float = 30
    replication_lag_fail_s: float = 300
    replication_slot_warn_mb: float = 1024
    replication_slot_fail_mb: float = 10240
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
        "dead_tuple_warn_pct", "dead_tuple_fail_pct", "sequence_warn_pct", "sequence_fail_pct",
    )},
}

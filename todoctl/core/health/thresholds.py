"""Every limit health judges by: defaults, ``TODOCTL_HEALTH_*`` variables and ``--threshold``, each checked against its range."""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from todoctl.errors import usage_error


@dataclass(frozen=True)
class Thresholds:
    """Every limit health judges by, each in the unit its check computes in.

    Users set each by the name ``--json`` reports it under (:meth:`names`: ``long_query_warn_ms``),
    as ``--threshold NAME=VALUE`` or ``TODOCTL_HEALTH_NAME``; a field whose unit differs (seconds,
    percent, MB) also answers to its own name in that unit (:meth:`aliases`).
    """

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
        """Every threshold's name, as ``--threshold``, ``TODOCTL_HEALTH_*`` and ``--json`` spell it."""
        return [canonical_of(f.name)[0] for f in fields(cls)]

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """The names in seconds, percent and MB that scripts still use -> the name that replaced each."""
        return {f.name: canonical_of(f.name)[0] for f in fields(cls) if canonical_of(f.name)[0] != f.name}

    @classmethod
    def env_name(cls, name: str) -> str:
        return f"TODOCTL_HEALTH_{name.upper()}"

    @classmethod
    def from_env(cls, overrides: dict[str, str] | None = None) -> "Thresholds":
        """Defaults, then ``TODOCTL_HEALTH_*`` variables, then ``overrides`` (from ``--threshold``).

        Each threshold may be spelled by its name or by its alias (in the alias's old unit); one
        source spelling it both ways is a usage error, as nobody can tell which was meant.
        """
        overrides = dict(overrides or {})
        _refuse_unknown(overrides)
        environment = {
            name: os.environ[cls.env_name(name)]
            for name in _SPELLINGS
            if os.environ.get(cls.env_name(name), "").strip()
        }
        values: dict[str, Any] = {}
        for f in fields(cls):
            spellings = [name for name, (field, _) in _SPELLINGS.items() if field == f.name]
            given = [name for name in spellings if str(overrides.get(name, "")).strip()]
            _refuse_both(given, "--threshold", lambda name: name)
            from_env = [name for name in spellings if name in environment]
            _refuse_both(from_env, "the environment", cls.env_name)
            if given:
                name, raw, source = given[0], overrides[given[0]], "--threshold"
            elif from_env:
                name, raw, source = from_env[0], environment[from_env[0]], cls.env_name(from_env[0])
            else:
                continue
            values[f.name] = cls.parse(name, str(raw), source)
        return cls(**values)

    @classmethod
    def parse(cls, name: str, raw: str, source: str) -> float | int:
        """One threshold value as spelled by ``name`` (a name or an alias), checked against its range in
        that name's unit, converted exactly to the field's unit; a bad one is a usage error naming its source."""
        field_name, factor = _SPELLINGS[name]
        field_type = next(f for f in fields(cls) if f.name == field_name).type
        whole = field_type in ("int", int) or name.endswith("_bytes")  # sizes are whole bytes
        low, high = (
            bound * factor if math.isfinite(bound) else bound for bound in THRESHOLD_RANGES.get(field_name, (0, math.inf))
        )
        span = f"{plain(low)} to {plain(high)}" if math.isfinite(high) else f"{plain(low)} or more"
        kind = "a whole number" if whole else "a number"
        default = plain(Fraction(_decimal(getattr(cls(), field_name))) * factor)
        # An option of its own (--pings) is shown as such; everything else as --threshold NAME=VALUE.
        example = f"{source} {default}" if source.startswith("--") and source != "--threshold" else (
            f"--threshold {name}={default}"
        )
        exact = _exact(raw)
        if exact is None or (whole and exact.denominator != 1):
            raise usage_error(f"{name} must be {kind}, not {raw!r} (from {source})", f"e.g. {example}")
        if not low <= exact <= high:
            raise usage_error(f"{name} must be {span}, not {raw!r} (from {source})", f"e.g. {example}")
        value = exact / factor
        return int(value) if field_type in ("int", int) else float(value)

    def __json__(self) -> dict[str, int | float]:
        """In a ``--json`` document, the thresholds are their canonical names and units."""
        return self.canonical()

    def canonical(self) -> dict[str, int | float]:
        """Every threshold under its name, in its name's unit (ms, ratio, bytes): what ``--json`` reports."""
        out: dict[str, int | float] = {}
        for f in fields(self):
            name, factor = canonical_of(f.name)
            value = Fraction(_decimal(getattr(self, f.name))) * factor
            out[name] = round(value) if name.endswith("_bytes") or value.denominator == 1 else float(value)
        return out


# The JSON vocabulary's units (docs/json.md; todoctl/render/document.py). A threshold's
# name is the one --json reports (long_query_warn_ms), so what a script reads it can set; the field
# keeps the unit its check computes in (seconds), and its old name stays an alias in the old unit.
# factor: the name's unit per the field's unit (1 s = 1000 ms, 1 % = 0.01, 1 MB = 1,048,576 bytes).
UNITS: tuple[tuple[str, str, Fraction], ...] = (
    ("_s", "_ms", Fraction(1000)),
    ("_pct", "_ratio", Fraction(1, 100)),
    ("_mb", "_bytes", Fraction(1024 * 1024)),
)
UNIT_WORDS = {
    "_ms": "in milliseconds", "_ratio": "as a ratio 0-1", "_bytes": "in bytes",
    "_s": "in seconds", "_pct": "in percent", "_mb": "in MB",
}


def canonical_of(field_name: str) -> tuple[str, Fraction]:
    """The name a field is set and reported by, and the factor from the field's unit to that name's."""
    for old, new, factor in UNITS:
        if field_name.endswith(old):
            return field_name[: -len(old)] + new, factor
    return field_name, Fraction(1)


def plain(value) -> str:
    """A number as a person writes it: 60000, 0.99, 1000000000 (not 6e+04 or 1e+09)."""
    exact = Fraction(value) if not isinstance(value, float) else Fraction(_decimal(value))
    if exact.denominator == 1:
        return str(exact.numerator)
    return f"{float(exact):.15g}"


def _decimal(value: float | int) -> Decimal:
    # A float's shortest decimal spelling (repr), so 0.99 stays 0.99 through a unit change.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _exact(raw: str) -> Fraction | None:
    """The decimal ``raw`` exactly, or None unless it is a finite number (no nan, inf, hex)."""
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or not math.isfinite(float(number)):
        return None
    return Fraction(number)


def _unit(name: str) -> str:
    return next((words for suffix, words in UNIT_WORDS.items() if name.endswith(suffix)), "")


def _refuse_unknown(overrides: dict[str, str]) -> None:
    unknown = sorted(set(overrides) - set(_SPELLINGS))
    if not unknown:
        return
    names = Thresholds.names()
    close = difflib.get_close_matches(unknown[0], list(_SPELLINGS), n=1, cutoff=0.6)
    hint = f"thresholds are: {', '.join(names)}"
    if close:
        meant = close[0]
        now = Thresholds.aliases().get(meant)
        # Close to an old name: the value was probably written in its unit, so suggest both spellings.
        said = f"{meant} ({_unit(meant)}; or {now}, {_unit(now)})" if now else meant
        hint = f"did you mean {said}? {hint}"
    raise usage_error(f"unknown threshold {', '.join(unknown)}", hint)


def _refuse_both(spellings: list[str], source: str, shown) -> None:
    if len(spellings) < 2:
        return
    name, alias = sorted(spellings, key=lambda s: s in Thresholds.aliases())
    raise usage_error(
        f"{shown(name)} and {shown(alias)} in {source} set the same threshold",
        f"keep only {shown(name)} ({_unit(name)}); {shown(alias)} is its old name, {_unit(alias)}",
    )


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


# Every spelling a user may type -> (the field it sets, the factor from the field's unit to its own).
_SPELLINGS: dict[str, tuple[str, Fraction]] = {
    **{canonical_of(f.name)[0]: (f.name, canonical_of(f.name)[1]) for f in fields(Thresholds)},
    **{f.name: (f.name, Fraction(1)) for f in fields(Thresholds)},
}


@dataclass(frozen=True)
class ThresholdInfo:
    """One threshold as ``todoctl health thresholds`` lists it."""

    name: str  # as --threshold, TODOCTL_HEALTH_* and --json spell it
    unit: str
    default: int | float  # in that unit
    env_var: str
    check: str  # the check that judges by it
    old_name: str | None  # the name in seconds, percent or MB that still works, in its old unit


# The check each threshold belongs to, by the start of its name (first match wins).
_CHECK_OF: tuple[tuple[str, str], ...] = (
    ("connect_", "connect"), ("pings", "latency"), ("latency_", "latency"), ("connections_", "connections"),
    ("long_query_", "long-queries"), ("idle_in_transaction_", "idle-in-transaction"), ("blocking_", "blocking"),
    ("cache_hit_", "cache-hit"), ("window_max_", "cache-hit, top-queries"), ("unused_index_", "unused-indexes"),
    ("dead_tuple_", "dead-tuples"), ("wraparound_", "wraparound"), ("sequence_", "sequences"),
    ("replication_", "replication"), ("top_quer", "top-queries"), ("probe_wait_", "pool-probe (--probe)"),
    ("statement_timeout_", "health's own queries"),
)
_UNIT_OF_SUFFIX = (("_ms", "ms"), ("_ratio", "ratio 0-1"), ("_bytes", "bytes"), ("_age", "XIDs"),
                   ("_blocks", "blocks"), ("_scans", "scans"), ("_rows", "rows"))


@dataclass(frozen=True)
class ThresholdList:
    """``health thresholds``: every threshold, as the listing shows it."""

    thresholds: list[ThresholdInfo]


def listing() -> list[ThresholdInfo]:
    """Every threshold: its name, unit, default, environment variable, check, and old name."""
    defaults = Thresholds().canonical()
    old_names = {new: old for old, new in Thresholds.aliases().items()}
    return [
        ThresholdInfo(
            name=name,
            unit=next((unit for suffix, unit in _UNIT_OF_SUFFIX if name.endswith(suffix)), "count"),
            default=default,
            env_var=Thresholds.env_name(name),
            check=next(check for prefix, check in _CHECK_OF if name.startswith(prefix)),
            old_name=old_names.get(name),
        )
        for name, default in defaults.items()
    ]

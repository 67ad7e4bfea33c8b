"""A seed profile as data: counts, fan-outs, column settings, and the limits and defaults they keep to (profile.py reads one from TOML and the command line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

# Beyond these a seed is a typo, not a load test (and would not fit the memory budget).
MAX_ROWS = 20_000_000  # rows of one table


MAX_USERS = 1_000_000


MAX_PER_PARENT = 10_000


MAX_SEED = 2**63 - 1


# Weights are relative; a bound keeps their sum finite (1e308 + 1e308 is inf, and inf / inf is nan).
MAX_WEIGHT = 1_000_000


MAX_POOL = 65_536


DEFAULT_ROWS = 100  # rows of each table no key requires a parent for


DEFAULT_LOCALE = "en_US"


# Without a profile file: a fixed instant, so the same models give the same rows on any day.
DEFAULT_REFERENCE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


DEFAULT_WINDOW_DAYS = 730


DEFAULT_NULL = 0.1


DISTRIBUTIONS = ("uniform", "normal", "lognormal", "zipf", "early", "late")


# Keys that choose a column's generator (at most one), and the options every generator takes.
GENERATOR_KEYS = ("generator", "values", "weights", "words", "text", "faker")


OPTION_KEYS = ("null", "min", "max", "distribution", "pool", "depth")


TABLE_KEYS = ("rows", "per_parent", "parent", "trust", "columns")


TOP_KEYS = ("name", "description", "reference_time", "seed", "locale", "hooks", "rows", "window_days", "null",
            "users_table", "tables")  # fmt: skip


@dataclass(frozen=True)
class FanOut:
    """How many rows of a table each parent row gets: lognormal around ``mean`` (``skew`` is sigma,
    0 = everyone the same), uniform in ``low..high``, or count k with weight ``weights[k]``."""

    kind: str  # "lognormal" | "uniform" | "weights"
    mean: float = 0.0
    skew: float = 0.0
    low: int = 0
    high: int = 0
    weights: tuple[float, ...] = ()

    @property
    def expected(self) -> float:
        if self.kind == "lognormal":
            return self.mean
        if self.kind == "uniform":
            return (self.low + self.high) / 2
        return sum(k * w for k, w in enumerate(self.weights)) / sum(self.weights)

    def describe(self, parent: str = "parent") -> str:
        if self.kind == "lognormal":
            return f"{self.mean:g} per {parent} row (lognormal, skew {self.skew:g})"
        if self.kind == "uniform":
            return f"{self.low}..{self.high} per {parent} row"
        return f"0..{len(self.weights) - 1} per {parent} row (weights {', '.join(f'{w:g}' for w in self.weights)})"


@dataclass(frozen=True)
class TableSpec:
    rows: int | None = None
    per_parent: FanOut | None = None
    parent: str | None = None  # the foreign key column whose rows the table's rows belong to
    trust: tuple[str, ...] = ()  # constraints the profile or its hooks satisfy
    columns: dict[str, dict] = field(default_factory=dict)  # column -> checked options


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the file it came from, or "(none)"
    description: str
    seed: int
    reference_time: datetime
    locale: str = DEFAULT_LOCALE
    hooks: tuple[str, ...] = ()
    base: Path | None = None  # the directory of the profile file: hooks files, words/
    rows: int = DEFAULT_ROWS
    window_days: int = DEFAULT_WINDOW_DAYS
    null: float = DEFAULT_NULL
    users_table: str | None = None
    tables: dict[str, TableSpec] = field(default_factory=dict)
    # From the command line: --rows N (every root table), --rows TABLE=N, --users N.
    rows_given: int | None = None
    table_rows: dict[str, int] = field(default_factory=dict)
    users: int | None = None

    def spec(self, table: str) -> TableSpec:
        return self.tables.get(table, TableSpec())

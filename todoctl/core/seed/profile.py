"""Seed profiles: TOML files in the app's seed directory (``seeds = "..."`` of ``[tool.todoctl]``).

A profile sets the reference time and seed, the rows of each table (counts or children per
parent), and per column a generator and its options; docs/seed.md is the reference. Without a
profile every table is filled from the models alone. A profile argument is a name (``demo`` ->
``<seeds>/demo.toml``) or a path to a TOML file.

Every problem with a profile or an option is a usage error (exit 2), found before any connection
is made, so bad input never touches the database. Names of tables and columns are checked against
the models when the plan is made (plan.py).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

from todoctl.core.seed.profile_model import (
    DEFAULT_LOCALE,
    DEFAULT_NULL,
    DEFAULT_REFERENCE_TIME,
    DEFAULT_ROWS,
    DEFAULT_WINDOW_DAYS,
    DISTRIBUTIONS,
    GENERATOR_KEYS,
    MAX_PER_PARENT,
    MAX_POOL,
    MAX_ROWS,
    MAX_SEED,
    MAX_USERS,
    MAX_WEIGHT,
    OPTION_KEYS,
    TABLE_KEYS,
    TOP_KEYS,
    FanOut,
    Profile,
    TableSpec,
)
from todoctl.errors import usage_error

# ---------------------------------------------------------------- finding profiles


def seeds_dir() -> Path | None:
    """The app's seed directory (``seeds`` of its ``[tool.todoctl]``), or None."""
    from todoctl import project

    return project.current().seeds


def available() -> list[str]:
    """Names of the profiles in the app's seed directory."""
    folder = seeds_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder else []


def default_name() -> str | None:
    """The profile used when none is named: ``demo`` if the app has one, else none (the models alone)."""
    return "demo" if "demo" in available() else None


def resolve_path(profile: str | Path) -> Path:
    text = str(profile)
    if isinstance(profile, Path) or "/" in text or text.endswith(".toml"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise usage_error(f"profile file {text!r} does not exist", "pass a profile name or the path of a TOML file")
        return path
    folder = seeds_dir()
    path = folder / f"{text}.toml" if folder else None
    if path is None or not path.is_file():
        names = ", ".join(available()) or "none"
        raise usage_error(f"unknown seed profile {text!r}", f"available profiles: {names}; or pass a path to a TOML file")
    return path


def load(profile: str | Path | None = None) -> Profile:
    """Read and check a profile (exit 2 on anything wrong with it); None: the default."""
    if profile is None:
        profile = default_name()
    if profile is None:
        return Profile(name="(models)", source="(none)", description="every table from the models alone",
                       seed=42, reference_time=DEFAULT_REFERENCE_TIME, base=seeds_dir())  # fmt: skip
    path = resolve_path(profile)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise usage_error(f"malformed seed profile {path}: {exc}", "fix the TOML syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"cannot read seed profile {path}: {exc}", "profiles are UTF-8 TOML files") from None
    return _parse(data, path)


# ---------------------------------------------------------------- reading one


class _Section:
    """One table of the TOML document, read key by key; leftover keys are typos and are reported."""

    def __init__(self, data: object, where: str, path: Path, allowed: tuple[str, ...] | None = None) -> None:
        if not isinstance(data, dict):
            raise _bad(path, f"[{where}] must be a table")
        self.data = dict(data)
        self.where = where
        self.path = path
        self.allowed = allowed

    def has(self, key: str) -> bool:
        return key in self.data

    def take(self, key: str, default=None):
        return self.data.pop(key, default)

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def number(self, key: str, default: float | None, low: float, high: float) -> float | None:
        value = self.take(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _bad(self.path, f"{self.name(key)} must be a number, not {value!r}")
        if not low <= value <= high:
            raise _bad(self.path, f"{self.name(key)} = {value} is outside {low:g}..{high:g}")
        return float(value)

    def integer(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.take(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self.path, f"{self.name(key)} must be an integer, not {value!r}")
        if not low <= value <= high:
            raise _bad(self.path, f"{self.name(key)} = {value} is outside {low:,}..{high:,}")
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.take(key, default)
        if value is not None and not isinstance(value, str):
            raise _bad(self.path, f"{self.name(key)} must be a string, not {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.take(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(self.path, f"{self.name(key)} must be a string or a list of strings, not {value!r}")
        return tuple(value)

    def done(self) -> None:
        if self.data:
            unknown = sorted(self.data)
            hint = ""
            if not self.where and isinstance(self.data[unknown[0]], dict) and unknown[0] not in TOP_KEYS:
                hint = f" (a table's settings go in [tables.{unknown[0]}])"
            elif self.allowed:
                close = difflib.get_close_matches(unknown[0], self.allowed, n=1)
                hint = f" (did you mean {self.name(close[0])}?)" if close else f"; the keys are: {', '.join(self.allowed)}"
            raise _bad(self.path, f"unknown key(s) {', '.join(self.name(k) for k in unknown)}{hint}")


def _weight(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= MAX_WEIGHT


def _bad(path: Path, message: str):
    return usage_error(f"malformed seed profile {path}: {message}", "docs/seed.md describes every key of a seed profile")


def _reference_time(value: object, path: Path) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    raise _bad(path, f"reference_time must be a TOML date-time such as 2026-06-01T09:00:00Z, not {value!r}")


def _parse(data: dict, path: Path) -> Profile:
    top = _Section(data, "", path, TOP_KEYS)
    if not top.has("reference_time"):
        raise _bad(path, "reference_time is required (timestamps are relative to it, for determinism)")
    name = top.string("name", path.stem)
    description = top.string("description", "")
    reference_time = _reference_time(top.take("reference_time"), path)
    tables_data = top.take("tables", {})
    if not isinstance(tables_data, dict):
        raise _bad(path, "[tables] must be a table of [tables.NAME] sections")
    profile = Profile(
        name=name,
        source=str(path),
        description=description,
        seed=top.integer("seed", 42, 0, MAX_SEED),
        reference_time=reference_time,
        locale=top.string("locale", DEFAULT_LOCALE),
        hooks=top.strings("hooks"),
        base=path.parent.resolve(),
        rows=top.integer("rows", DEFAULT_ROWS, 0, MAX_ROWS),
        window_days=top.integer("window_days", DEFAULT_WINDOW_DAYS, 1, 36_500),
        null=top.number("null", DEFAULT_NULL, 0.0, 1.0),
        users_table=top.string("users_table"),
        tables={table: _table(value, f"tables.{table}", path) for table, value in tables_data.items()},
    )
    top.done()
    return profile


def _table(data: object, where: str, path: Path) -> TableSpec:
    section = _Section(data, where, path, TABLE_KEYS)
    rows = section.integer("rows", None, 0, MAX_ROWS)
    per_parent = _fan_out(section.take("per_parent"), f"{where}.per_parent", path) if section.has("per_parent") else None
    parent = section.string("parent")
    trust = section.strings("trust")
    columns_data = section.take("columns", {})
    if not isinstance(columns_data, dict):
        raise _bad(path, f"[{where}.columns] must be a table of column settings")
    columns = {column: _column(value, f"{where}.columns.{column}", path) for column, value in columns_data.items()}
    section.done()
    return TableSpec(rows=rows, per_parent=per_parent, parent=parent, trust=trust, columns=columns)


def _fan_out(data: object, where: str, path: Path) -> FanOut:
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        data = {"mean": data}
    section = _Section(data, where, path, ("mean", "skew", "min", "max", "weights"))
    if section.has("weights"):
        weights = section.take("weights")
        if (
            not isinstance(weights, list)
            or not 1 <= len(weights) <= 64
            or not all(_weight(w) for w in weights)
            or sum(weights) <= 0
        ):
            raise _bad(path, f"{where}.weights must be a list of 1..64 weights in 0..{MAX_WEIGHT:,} (for 0, 1, 2, ... rows), not {weights!r}")
        section.done()
        return FanOut("weights", weights=tuple(float(w) for w in weights))
    if section.has("min") or section.has("max"):
        low = section.integer("min", 0, 0, MAX_PER_PARENT)
        high = section.integer("max", None, 0, MAX_PER_PARENT)
        if high is None or high < low:
            raise _bad(path, f"{where} needs max >= min (rows per parent, uniform)")
        section.done()
        return FanOut("uniform", low=low, high=high)
    mean = section.number("mean", None, 0, MAX_PER_PARENT)
    if mean is None:
        raise _bad(path, f"{where} needs mean (and skew), min and max, or weights")
    skew = section.number("skew", 1.0, 0, 4)
    section.done()
    return FanOut("lognormal", mean=mean, skew=skew)


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool, datetime, date)) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def _column(data: object, where: str, path: Path) -> dict:
    """A column's settings, checked for type and range (whether they fit the column is the plan's)."""
    section = _Section(data, where, path, GENERATOR_KEYS + OPTION_KEYS)
    out: dict = {}
    chosen = [k for k in GENERATOR_KEYS if section.has(k)]
    if len(chosen) > 1 and set(chosen) != {"values", "weights"}:
        raise _bad(path, f"{where} sets {' and '.join(chosen)}: a column takes one generator")
    if section.has("values"):
        values = section.take("values")
        if not isinstance(values, list) or not values or not all(_scalar(v) or isinstance(v, (list, dict)) for v in values):
            raise _bad(path, f"{where}.values must be a non-empty list of values, not {values!r}")
        out["values"] = values
    if section.has("weights"):
        weights = section.take("weights")
        if isinstance(weights, dict) and "values" not in out:
            if not weights:
                raise _bad(path, f"{where}.weights must not be empty")
            out["values"] = list(weights)
            weights = list(weights.values())
            names = out["values"]
        else:
            names = None
        if not isinstance(weights, list) or len(weights) != len(out.get("values", [])):
            raise _bad(path, f"{where}.weights must be a table {{ value = weight }}, or a list as long as values")
        for i, w in enumerate(weights):
            if not _weight(w):
                label = f"{where}.weights.{names[i]}" if names else f"{where}.weights[{i}]"
                raise _bad(path, f"{label} must be a number in 0..{MAX_WEIGHT:,}, not {w!r}")
        if sum(weights) <= 0:
            raise _bad(path, f"the weights in {where}.weights add up to zero")
        out["weights"] = [float(w) for w in weights]
    for key in ("generator", "words", "text", "faker"):
        if section.has(key):
            out[key] = section.string(key)
    if section.has("null"):
        out["null"] = section.number("null", None, 0.0, 1.0)
    for key in ("min", "max"):
        if section.has(key):
            value = section.take(key)
            if not _scalar(value) or isinstance(value, (bool, str)):
                raise _bad(path, f"{where}.{key} must be a number, date or date-time, not {value!r}")
            out[key] = value
    if section.has("distribution"):
        value = section.string("distribution")
        if value not in DISTRIBUTIONS:
            raise _bad(path, f"{where}.distribution must be one of {', '.join(DISTRIBUTIONS)}, not {value!r}")
        out["distribution"] = value
    if section.has("pool"):
        out["pool"] = section.integer("pool", None, 1, MAX_POOL)
    if section.has("depth"):
        out["depth"] = section.integer("depth", None, 1, 32)
    section.done()
    return out


# ---------------------------------------------------------------- the command line


def parse_rows(values: list[str] | tuple[str, ...] | None) -> tuple[int | None, dict[str, int]]:
    """``--rows N`` (every root table) and ``--rows TABLE=N`` (one table), repeatable."""
    every: int | None = None
    tables: dict[str, int] = {}
    for value in values or ():
        table, sep, count = str(value).rpartition("=")
        try:
            number = int(count.replace("_", "").replace(",", ""))
        except ValueError:
            number = -1
        if not 0 <= number <= MAX_ROWS or (sep and not table):
            raise usage_error(
                f"--rows {value!r}: expected N or TABLE=N with N in 0..{MAX_ROWS:,}",
                "for example --rows 1000 (each table no key requires a parent for) or --rows tasks=50000",
            )
        if sep:
            tables[table] = number
        else:
            every = number
    return every, tables


def with_options(
    profile: Profile,
    *,
    rows: list[str] | tuple[str, ...] | None = None,
    users: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    locale: str | None = None,
) -> Profile:
    """The profile with command-line overrides applied and checked (exit 2 when out of range)."""
    changes: dict = {}
    if rows:
        every, tables = parse_rows(rows)
        changes["rows_given"] = every
        changes["table_rows"] = {**profile.table_rows, **tables}
    if users is not None:
        if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= MAX_USERS:
            raise usage_error(
                f"--users must be between 1 and {MAX_USERS:,}, not {users}",
                "it sets the rows of the app's users table; --rows TABLE=N sets any table's",
            )
        changes["users"] = users
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise usage_error(
                f"--seed must be an integer between 0 and 2**63-1, not {seed}", "any non-negative integer will do"
            )
        changes["seed"] = seed
    if now is not None:
        changes["reference_time"] = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    if locale is not None:
        changes["locale"] = locale
    return replace(profile, **changes)

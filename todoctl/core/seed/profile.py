"""Seed profiles: counts, distributions and a fixed reference time, read from TOML in ``seeds/``.

A profile argument is a name (``demo`` -> ``seeds/demo.toml``) or a path to a TOML file.
Every problem with a profile or an option is a usage error (exit 2), found before any
connection is made, so bad input never touches the database.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from todoctl import paths
from todoctl.core.seed.wordlists import words
from todoctl.errors import usage_error

# Beyond these a seed is a typo, not a load test (and would not fit the memory budget).
MAX_USERS = 1_000_000
MAX_TASKS_PER_USER = 10_000
MAX_TASKS = 20_000_000
MAX_SEED = 2**63 - 1
# Weights are relative; a bound keeps their sum finite (1e308 + 1e308 is inf, and inf / inf is nan).
MAX_WEIGHT = 1_000_000

THEMES = ("light", "dark", "system")
STATUSES = ("pending", "completed", "overdue")
PRIORITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the file it came from
    description: str
    seed: int
    reference_time: datetime
    users: int
    name_probability: float
    themes: dict[str, float]
    signup_days: int
    lists_per_user: tuple[int, int]
    tags_per_user: tuple[int, int]
    tasks_per_user: float
    skew: float
    status: dict[str, float]
    priority: dict[str, float]
    description_probability: float
    due_date_probability: float
    estimate_probability: float
    in_list_probability: float
    tags_per_task: tuple[float, ...]  # weights for 0, 1, 2, ... tags on a task

    @property
    def total_tasks(self) -> int:
        return round(self.users * self.tasks_per_user)


def available() -> list[str]:
    """Names of the profiles shipped in ``seeds/``."""
    return sorted(p.stem for p in paths.seeds_dir().glob("*.toml"))


def resolve_path(profile: str | Path) -> Path:
    text = str(profile)
    if isinstance(profile, Path) or "/" in text or text.endswith(".toml"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise usage_error(f"profile file {text!r} does not exist", "pass a profile name or the path of a TOML file")
        return path
    path = paths.seeds_dir() / f"{text}.toml"
    if not path.is_file():
        names = ", ".join(available()) or "none"
        raise usage_error(f"unknown seed profile {text!r}", f"available profiles: {names}; or pass a path to a TOML file")
    return path


def load(profile: str | Path = "demo") -> Profile:
    """Read and check a profile (exit 2 on anything wrong with it)."""
    path = resolve_path(profile)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise usage_error(f"malformed seed profile {path}: {exc}", "fix the TOML syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"cannot read seed profile {path}: {exc}", "profiles are UTF-8 TOML files") from None
    return _parse(data, path)


class _Section:
    """One table of the TOML document, read key by key; leftover keys are typos and are reported."""

    def __init__(self, data: object, where: str, path: Path) -> None:
        if not isinstance(data, dict):
            raise _bad(path, f"[{where}] must be a table")
        self.data = dict(data)
        self.where = where
        self.path = path

    def _take(self, key: str, default):
        return self.data.pop(key, default)

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self._take(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _bad(self.path, f"{self._name(key)} must be a number, not {value!r}")
        if not low <= value <= high:
            raise _bad(self.path, f"{self._name(key)} = {value} is outside {low}..{high}")
        return float(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._take(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self.path, f"{self._name(key)} must be an integer, not {value!r}")
        if not low <= value <= high:
            raise _bad(self.path, f"{self._name(key)} = {value} is outside {low}..{high}")
        return value

    def probability(self, key: str, default: float) -> float:
        return self.number(key, default, 0.0, 1.0)

    def int_range(self, key: str, default: tuple[int, int], high: int) -> tuple[int, int]:
        value = self._take(key, list(default))
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] <= value[1] <= high
        ):
            raise _bad(self.path, f"{self._name(key)} must be [min, max] with 0 <= min <= max <= {high}, not {value!r}")
        return (value[0], value[1])

    def weights(self, key: str, default: dict[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
        value = self._take(key, default)
        if not isinstance(value, dict) or not value:
            raise _bad(self.path, f"{self._name(key)} must be a table of weights, e.g. {{ {allowed[0]} = 1 }}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise _bad(self.path, f"{self._name(key)} has unknown value(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        for k, v in value.items():
            if not _weight(v):
                raise _bad(self.path, f"{self._name(key)}.{k} must be a number in 0..{MAX_WEIGHT:,}, not {v!r}")
        if sum(value.values()) <= 0:
            raise _bad(self.path, f"the weights in {self._name(key)} add up to zero")
        # Fixed order (the enumeration's), so the draw does not depend on how the file lists them.
        return {k: float(value.get(k, 0.0)) for k in allowed}

    def weight_list(self, key: str, default: list[float], max_len: int) -> tuple[float, ...]:
        value = self._take(key, default)
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= max_len
            or not all(_weight(v) for v in value)
            or sum(value) <= 0
        ):
            raise _bad(
                self.path, f"{self._name(key)} must be a list of 1..{max_len} weights in 0..{MAX_WEIGHT:,}, not {value!r}"
            )
        return tuple(float(v) for v in value)

    def done(self) -> None:
        if self.data:
            raise _bad(self.path, f"unknown key(s) {', '.join(sorted(self._name(k) for k in self.data))}")


def _weight(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_WEIGHT


def _bad(path: Path, message: str):
    return usage_error(f"malformed seed profile {path}: {message}", "see seeds/demo.toml for every key and its meaning")


def _reference_time(value: object, path: Path) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    raise _bad(path, f"reference_time must be a TOML date-time such as 2026-06-01T09:00:00Z, not {value!r}")


def _parse(data: dict, path: Path) -> Profile:
    top = _Section(data, "", path)
    users = _Section(top._take("users", {}), "users", path)
    tasks = _Section(top._take("tasks", {}), "tasks", path)
    name = top._take("name", path.stem)
    description = top._take("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise _bad(path, "name and description must be strings")
    if "reference_time" not in top.data:
        raise _bad(path, "reference_time is required (timestamps are relative to it, for determinism)")
    reference_time = _reference_time(top._take("reference_time", None), path)
    profile = Profile(
        name=name,
        source=str(path),
        description=description,
        seed=top.integer("seed", 42, 0, MAX_SEED),
        reference_time=reference_time,
        users=users.integer("count", 100, 1, MAX_USERS),
        name_probability=users.probability("name_probability", 0.95),
        themes=users.weights("themes", {"system": 5, "dark": 3, "light": 2}, THEMES),
        signup_days=users.integer("signup_days", 730, 1, 36500),
        lists_per_user=users.int_range("lists", (1, 4), len(words("list_names"))),
        tags_per_user=users.int_range("tags", (0, 8), len(words("tag_names"))),
        tasks_per_user=tasks.number("per_user", 20.0, 0, MAX_TASKS_PER_USER),
        skew=tasks.number("skew", 1.2, 0, 4),
        status=tasks.weights("status", {"pending": 5, "completed": 4, "overdue": 1}, STATUSES),
        priority=tasks.weights("priority", {"low": 3, "medium": 5, "high": 2}, PRIORITIES),
        description_probability=tasks.probability("description_probability", 0.4),
        due_date_probability=tasks.probability("due_date_probability", 0.7),
        estimate_probability=tasks.probability("estimate_probability", 0.5),
        in_list_probability=tasks.probability("in_list_probability", 0.85),
        tags_per_task=tasks.weight_list("tags_per_task", [5, 3, 1.5, 0.5], 6),
    )
    for section in (top, users, tasks):
        section.done()
    return check(profile)


def check(profile: Profile) -> Profile:
    if profile.total_tasks > MAX_TASKS:
        raise usage_error(
            f"{profile.users:,} users x {profile.tasks_per_user:g} tasks each is {profile.total_tasks:,} tasks; "
            f"the limit is {MAX_TASKS:,}",
            "lower --users or --tasks-per-user",
        )
    return profile


def with_options(
    profile: Profile,
    *,
    users: int | None = None,
    tasks_per_user: float | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> Profile:
    """The profile with command-line overrides applied and checked (exit 2 when out of range)."""
    changes: dict = {}
    if users is not None:
        if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= MAX_USERS:
            raise usage_error(
                f"--users must be between 1 and {MAX_USERS:,}, not {users}",
                "the load profile (50,000 users) is the usual big seed: --profile load",
            )
        changes["users"] = users
    if tasks_per_user is not None:
        if (
            isinstance(tasks_per_user, bool)
            or not isinstance(tasks_per_user, (int, float))
            or not math.isfinite(tasks_per_user)
            or not 0 <= tasks_per_user <= MAX_TASKS_PER_USER
        ):
            raise usage_error(
                f"--tasks-per-user must be between 0 and {MAX_TASKS_PER_USER:,}, not {tasks_per_user}",
                "it is a mean: a few heavy users get many times more",
            )
        changes["tasks_per_user"] = float(tasks_per_user)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise usage_error(
                f"--seed must be an integer between 0 and 2**63-1, not {seed}", "any non-negative integer will do"
            )
        changes["seed"] = seed
    if now is not None:
        changes["reference_time"] = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    return check(replace(profile, **changes))

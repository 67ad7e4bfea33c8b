"""Generators of values by kind: people's names, numbers, ordinals, booleans, UUIDs, IPv4, times (codes and hex: codes.py)."""

from __future__ import annotations

import math

import numpy as np

import todoctl.core.seed.encode as e
from todoctl.core.seed.generators import Gen, coprime_steps
import todoctl.core.seed.streams as streams
from todoctl.core.seed.values import DAY, Composed, Numbers, Picks
from todoctl.errors import usage_error
from todoctl.core.seed.codes import Code, Hex  # noqa: F401 (generators by kind, re-exported)


class Person(Gen):
    """A person per row, shared by the table's name, first_name, last_name, username and email
    columns so they agree (``mary.smith.17@example.org`` is Mary Smith)."""

    def __init__(self, column, part: str, *, unique: bool = False) -> None:
        self.column = column
        self.part = part  # "first" | "last" | "full" | "username" | "email"
        self.unique = unique
        self.names = None

    def describe(self) -> str:
        return {
            "first": "first name", "last": "last name", "full": "full name",
            "username": "username (first.last + row number)", "email": "email first.last.N@example.com/org/net",
        }[self.part]  # fmt: skip

    filters: list = []
    max_length: int | None = None
    where: tuple = ()

    def prepare(self, sources):
        self.names = sources.people()
        longest = 0
        for value in self.sample():
            longest = max(longest, len(value))
            if not all(f(value) for f in self.filters):
                table, column, said = self.where or ("", self.column.name, "its constraints")
                raise usage_error(
                    f"{table}.{column}: {self.describe()} such as {value!r} breaks {said}",
                    f"give the column other values in the profile, [tables.{table}.columns.{column}] ({'docs/seed.md'})",
                )
        if self.max_length and longest + 8 > self.max_length:
            table, column, _ = self.where or ("", self.column.name, "")
            raise usage_error(
                f"{table}.{column}: {self.describe()} can be longer than the column's {self.max_length} characters",
                f"give the column other values in the profile, [tables.{table}.columns.{column}] ({'docs/seed.md'})",
            )

    def draw(self, chunk):
        names = self.names
        first, last = chunk.person(names)
        if self.part == "first":
            return Picks(first, names.first)
        if self.part == "last":
            return Picks(last, names.last)
        number = chunk.numbers
        if self.part == "full":
            parts = [("pool", names.last, last), ("constant", " "), ("pool", names.first, first)] if names.last_first else [
                ("pool", names.first, first), ("constant", " "), ("pool", names.last, last)]
            if self.unique:
                parts += [("constant", " "), ("number", number)]
            return Composed(parts)
        if self.part == "username":
            return Composed([("pool", names.first_ascii, first), ("constant", "."), ("pool", names.last_ascii, last),
                             ("number", number)])  # fmt: skip
        domain = np.asarray(number % len(names.domains.values), dtype=np.int64)
        return Composed([("pool", names.first_ascii, first), ("constant", "."), ("pool", names.last_ascii, last),
                         ("constant", "."), ("number", number), ("constant", "@"), ("pool", names.domains, domain)])  # fmt: skip

    def sample(self):
        if self.names is None:
            return []
        n = self.names
        out = []
        for i in range(min(64, n.first.size)):
            f, last = n.first_ascii.values[i % n.first_ascii.size], n.last_ascii.values[i % n.last_ascii.size]
            out.append({"first": n.first.values[i], "last": n.last.values[i % n.last.size], "full": f"{n.first.values[i]} {n.last.values[i % n.last.size]}",
                        "username": f"{f}.{last}{i + 1}", "email": f"{f}.{last}.{i + 1}@{n.domains.values[i % n.domains.size]}"}[self.part])  # fmt: skip
        return out


class Number(Gen):
    """A number in ``low..high``: uniform, normal, lognormal or Zipf-like; integers, floats, or
    numeric at the column's scale. ``distinct``: unique in the table (a permutation of the range)."""

    def __init__(self, column, low: float, high: float, distribution: str = "uniform", *, scale: int = 0) -> None:
        self.column = column
        self.low, self.high = low, high
        self.distribution = distribution
        self.scale = scale
        self.distinct = False
        self.integer = column.kind in ("int2", "int4", "int8")

    @property
    def capacity(self):
        if self.integer:
            return int(self.high - self.low + 1)
        if self.column.kind == "numeric":
            return int(round((self.high - self.low) * 10**self.scale)) + 1
        return None

    def describe(self) -> str:
        return f"{self.distribution} {self.low:g}..{self.high:g}" + (", distinct" if self.distinct else "")

    def draw(self, chunk):
        if self.distinct and self.capacity:
            size = self.capacity
            key = streams.key_of(f"{chunk.table.name}/{self.column.name}/distinct")
            start = int(streams.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * size)
            step = int(coprime_steps(streams.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([size]))[0])
            k = (start + ((chunk.numbers - 1) % size) * step) % size
            return Numbers(self._from_steps(k))
        u = chunk.uniform(self)
        span = self.high - self.low
        if self.distribution == "normal":
            x = np.clip(0.5 + streams.normal_curve()(u) / 6, 0, 1)
        elif self.distribution == "lognormal":
            x = np.clip(streams.lognormal(u, 1.0) / 20, 0, 1)
        elif self.distribution in ("zipf", "early"):
            x = u * u * u
        elif self.distribution == "late":
            x = 1 - u * u * u
        else:
            x = u
        if self.integer:
            values = self.low + np.minimum(np.floor(x * (span + 1)), span).astype(np.int64)
            return Numbers(values.astype(np.int64))
        if self.column.kind == "numeric":
            unit = 10**self.scale
            lo, hi = math.ceil(self.low * unit), math.floor(self.high * unit)
            return Numbers((lo + np.minimum(np.floor(x * (hi - lo + 1)), hi - lo)).astype(np.int64))
        return Numbers(self.low + x * span)

    def _from_steps(self, k: np.ndarray) -> np.ndarray:
        if self.integer:
            return (int(self.low) + k).astype(np.int64)
        unit = 10**self.scale
        return (math.ceil(self.low * unit) + k).astype(np.int64)

    def sample(self):
        return [self.low, self.high]


class Ordinal(Gen):
    """The row's place among its parent's rows (0, 1, 2, ...), or in the table without a parent."""

    def __init__(self, column, start: int = 0) -> None:
        self.column = column
        self.start = start

    def describe(self) -> str:
        return f"position among the parent's rows, from {self.start}"

    def draw(self, chunk):
        position = chunk.group_offset if chunk.owner is not None else chunk.numbers - 1
        return Numbers((position + self.start).astype(np.int64))


class Boolean(Gen):
    def __init__(self, column, p_true: float) -> None:
        self.column = column
        self.p_true = p_true

    def describe(self) -> str:
        return f"true {self.p_true:.0%}"

    def draw(self, chunk):
        return Numbers(chunk.uniform(self) < self.p_true)


class RandomUUID(Gen):
    def __init__(self, column) -> None:
        self.column = column

    def describe(self) -> str:
        return "random UUID"

    def draw(self, chunk):
        return Numbers(e.uuids(chunk.stream(self), chunk.n))


class IPv4(Gen):
    def __init__(self, column) -> None:
        self.column = column

    def describe(self) -> str:
        return "IPv4 address"

    def draw(self, chunk):
        raw = chunk.stream(self).raw(chunk.n)
        return Numbers((raw >> np.uint64(32)).astype(np.uint32))


class Moment(Gen):
    """A time within a window: the row's creation (after its parent's, before the reference time),
    its last update (after its creation), another event (after creation), a future date (up to
    ``ahead`` after the reference time), or a birth date. Dates are the day of the moment."""

    def __init__(self, column, rule: str, *, created: str | None = None, distribution: str = "uniform",
                 low=None, high=None, ahead_days: int = 60) -> None:  # fmt: skip
        self.column = column
        self.rule = rule  # "created" | "updated" | "event" | "future" | "birth" | "range" | "time" | "duration"
        self.created = created  # the table's creation column, drawn first
        self.needs = (created,) if created and rule in ("updated", "event", "future") else ()
        self.distribution = distribution
        self.low, self.high = low, high  # microseconds since 2000-01-01 (range), or None
        self.ahead = ahead_days * DAY
        self.clamp: tuple[int, int] | None = None  # a CHECK's bounds
        self.distinct: str | None = None  # "group" | "row": one slot of the window per row
        # Distinct where the window differs from row to row (after each row's own creation):
        # the microseconds within the second number the rows, so at most SECOND of them.
        self.numbered = False

    def can_be_distinct(self, scope: str = "group") -> bool:
        """Whether the window is the same for every row of a parent (so slots of it keep rows apart);
        for the whole table (scope "row") not where it starts at each row's parent row."""
        if scope == "row" and self.parent:
            return False
        return self.rule in ("created", "range", "birth") or (self.rule in ("event", "future") and not self.created)

    SECOND = 1_000_000  # rows a numbered time keeps apart: its microseconds within the second

    def can_be_numbered(self) -> bool:
        return self.column.kind in ("timestamp", "timestamptz") and self.rule in ("created", "updated", "event", "future", "range")

    parent: str | None = None  # the parent table whose rows are created first
    window_days: int = 0

    def describe(self) -> str:
        after = f"after {self.created}" if self.created else f"in the {self.window_days} days"
        text = {
            "created": f"created after its {self.parent} row, before the reference time" if self.parent
            else f"created in the {self.window_days} days before the reference time",
            "updated": f"{after} before the reference time" if not self.created else f"{after}, before the reference time",
            "event": f"{after}, before the reference time" if self.created
            else f"after its {self.parent} row was created, before the reference time" if self.parent
            else f"{after} before the reference time",
            "future": f"up to {self.ahead // DAY} days after {self.created}" if self.created
            else f"within {self.ahead // DAY} days of the reference time",
            "birth": "birth date: 18 to 90 years before the reference time",
            "range": "between min and max",
            "time": "time of day",
            "duration": "duration: 1 minute to 8 hours",
        }[self.rule]
        if self.distribution != "uniform" and self.rule not in ("time", "duration"):
            text += f" ({self.distribution})"
        if self.distinct:
            text += ", distinct" + (" per parent" if self.distinct == "group" else "")
            if self.numbered:
                text += " (its microseconds number the rows)"
        return text

    def draw(self, chunk):
        u = chunk.uniform(self)
        run = chunk.run
        now = run.now
        if self.rule == "time":
            return Numbers(np.floor(u * DAY).astype(np.int64))
        if self.rule == "duration":
            return Numbers((60 * 1_000_000 + np.floor(u * (8 * 3600 - 60) * 1_000_000)).astype(np.int64))
        if self.rule == "birth":
            low, high = now - 90 * 365 * DAY, now - 18 * 365 * DAY
        elif self.rule == "range":
            low, high = self.low, self.high
        elif self.rule == "created":
            parent = chunk.parent_created()
            low = parent if parent is not None else now - run.window
            high = now
        else:
            created = chunk.micros(self.created) if self.created else chunk.parent_created() if self.parent else None
            low = created if created is not None else now - run.window
            high = now
            if self.rule == "future":
                # Due some weeks after the start (or around the reference time without one).
                low = created if created is not None else now - self.ahead
                high = low + self.ahead if created is not None else now + self.ahead
        if self.distribution in ("early", "zipf"):
            u = u * u * u
        elif self.distribution == "late":
            u = 1 - u * u * u
        span = np.maximum(np.asarray(high, dtype=np.int64) - low, 0)
        if self.distinct is not None and not self.numbered:
            # Slot k of m equal slots of the window for the k-th of m rows: distinct, in order.
            if self.distinct == "group" and chunk.owner is not None:
                k, m = chunk.group_offset, np.maximum(chunk.group_size, 1)
            else:
                k, m = chunk.numbers - 1 - chunk.run.offset(chunk.table.key), max(chunk.run.count(chunk.table.key), 1)
            first = np.floor(k * (span / m)).astype(np.int64)
            width = np.maximum(np.floor((k + 1) * (span / m)).astype(np.int64) - first, 1)
            moment = low + first + np.floor(u * width).astype(np.int64)
            return Numbers(np.floor_divide(moment, DAY) if self.column.kind == "date" else moment)
        moment = low + np.floor(u * span).astype(np.int64)
        if self.clamp is not None:
            moment = np.clip(moment, *self.clamp)
        if self.numbered:
            moment = self._numbered(chunk, moment, low)
        if self.column.kind == "date":
            return Numbers(np.floor_divide(moment, DAY))
        return Numbers(moment)


    def _numbered(self, chunk, moment: np.ndarray, low) -> np.ndarray:
        """``moment`` with its microseconds within the second set to the row's number (among its
        parent's rows, or in the table), kept at or after ``low`` and within the CHECK's bounds:
        rows whose numbers differ never share a time (the caps keep numbers below SECOND)."""
        if self.distinct == "group" and chunk.owner is not None:
            k = np.asarray(chunk.group_offset, dtype=np.int64)
        else:
            k = np.asarray(chunk.numbers - 1 - chunk.run.offset(chunk.table.key), dtype=np.int64)
        second = self.SECOND
        out = moment - np.mod(moment, second) + k % second
        floor = np.asarray(low, dtype=np.int64)
        if self.clamp is not None:
            floor = np.maximum(floor, self.clamp[0])
        out = np.where(out < floor, out + second, out)
        if self.clamp is not None:
            out = np.where(out > self.clamp[1], out - second, out)
        return out

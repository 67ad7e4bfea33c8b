"""Column generators: each draws one column of a chunk of rows at once (numpy), from the chunk's
own streams, or as a pure function of row numbers (keys and references to them).

A generator's pools (names, words, texts, Faker values) are composed once per run in ``prepare``
(on the pools thread, while the server checks and locks); ``bind`` receives what only the
database knows (the next identity value, an array's element type); ``draw`` returns a chunk's
values (values.py). ``describe`` is what ``seed --dry-run`` shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import todoctl.core.seed.encode as e
from todoctl.core.seed.drawing import ChunkView, RunView
from todoctl.core.seed.values import DAY, Composed, Numbers, Picks, ValuePool, field_encoder
from todoctl.errors import usage_error

if TYPE_CHECKING:
    from todoctl.core.seed.sources import Sources

# Unique text beyond a pool's size: "Work", then "Work 2", "Work 3", ...
SUFFIX_ROOM = 8  # characters kept free for the suffix in columns of a limited length


class Gen:
    """One column's generator."""

    needs: tuple[str, ...] = ()  # columns of the same row drawn before this one
    capacity: int | None = None  # distinct values it can give (unique constraints), None: unbounded
    after_bind = False  # drawn only once the database has been asked (element types, server values)

    def describe(self) -> str:
        raise NotImplementedError

    def prepare(self, sources: "Sources") -> None:
        """Compose pools (once per run)."""

    def bind(self, run: "RunView") -> None:
        """After ``prepare``, before the first draw, on the drawing thread: what the database said
        (an array's element type). Never touches the connection."""

    def convert(self, run: "RunView") -> None:
        """On the main thread, before anything is drawn: what only the server can encode."""

    def draw(self, chunk: "ChunkView"):
        raise NotImplementedError

    def sample(self) -> list:
        """Some of the values it can give (checked against CHECK constraints before anything is written)."""
        return []


# ---------------------------------------------------------------- choosing among values


def weighted_index(u: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """An index in 0..size-1 per uniform: uniform, or in proportion to ``weights``."""
    if weights is None:
        return np.minimum(np.floor(u * size).astype(np.int64), size - 1)
    cumulative = np.cumsum(weights)
    return np.minimum(np.searchsorted(cumulative, u * cumulative[-1], side="right"), size - 1)


def zipf_weights(size: int) -> np.ndarray:
    return 1.0 / np.arange(1, size + 1, dtype=np.float64)


def coprime_steps(u: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A step in 1..size-1 coprime with size (1 where none is drawn), so that ``(start + k * step)
    % size`` visits every value once for k < size: distinct values without keeping any."""
    sizes = np.maximum(sizes, 1)
    step = 1 + np.floor(u * np.maximum(sizes - 1, 1)).astype(np.int64)
    for _ in range(16):  # the next numbers up: one of them is coprime almost always
        shared = np.gcd(step, sizes) != 1
        if not shared.any():
            break
        step = np.where(shared, step % np.maximum(sizes - 1, 1) + 1, step)
    return np.where(np.gcd(step, sizes) == 1, step, 1)


@dataclass
class Distinct:
    """How a pool-backed generator keeps values apart: ``"row"`` (unique in the table) or
    ``"group"`` (unique among the rows of one parent); ``suffix`` numbers values past the pool."""

    scope: str  # "row" | "group"
    suffix: bool
    key: int = 0
    folded: bool = False  # lower(col): values that differ only in case are one value


def distinct_index(chunk: "ChunkView", size: int, distinct: Distinct) -> tuple[np.ndarray, np.ndarray]:
    """(pool index, round) per row: a permutation of the pool over the rows of the table or of the
    parent, then again (round 1, 2, ...) once it is used up."""
    if distinct.scope == "group":
        position = chunk.group_offset
        base = chunk.owner if chunk.owner is not None else np.zeros(chunk.n, dtype=np.int64)
    else:
        position = chunk.numbers - 1
        base = np.zeros(chunk.n, dtype=np.int64)
    start = np.floor(e.hashed_uniform(distinct.key, base) * size).astype(np.int64)
    sizes = np.full(chunk.n, size, dtype=np.int64)
    step = coprime_steps(e.hashed_uniform(distinct.key + 1, base), sizes)
    return (start + (position % size) * step) % size, position // size


class PoolGen(Gen):
    """Values from a pool composed once per run: picked uniformly, by weight, Zipf, or kept
    distinct (``distinct``)."""

    def __init__(self, column, label: str, *, weights: list[float] | None = None, zipf: bool = False) -> None:
        self.column = column
        self.label = label
        self.weights = weights
        self.zipf = zipf
        self.distinct: Distinct | None = None
        self.pool: ValuePool | None = None
        self.filters: list = []  # predicates a value must pass (CHECK constraints)
        self.max_length: int | None = None
        self.strict = False  # a CHECK pins the values' form: no numbered suffixes
        self.separator = " "  # before the number of a value past the pool ("Work 2"; slugs: "work-2")
        self.where: tuple[str, str, str] | None = None  # (table, column, constraints), for messages

    def filters_forbid_suffix(self) -> bool:
        return self.strict

    def describe(self) -> str:
        extra = ""
        if self.distinct is not None:
            extra = ", distinct" + (" per parent" if self.distinct.scope == "group" else "")
            if self.distinct.suffix:
                extra += " (numbered past the pool)"
        return self.label + extra

    def values(self, sources: "Sources") -> list:
        raise NotImplementedError

    def prepare(self, sources: "Sources") -> None:
        if self.pool is not None:
            return
        values = self.values(sources)
        table, column, said = self.where or ("?", self.column.name, "the column's constraints")
        if not values:
            raise usage_error(f"{table}.{column}: {self.label} gives no values",
                              f"give the column values in the profile: [tables.{table}.columns.{column}] values = [...] (docs/seed.md)")  # fmt: skip
        weights = self.weights
        if self.max_length:
            room = self.max_length - (SUFFIX_ROOM if self.distinct and self.distinct.suffix else 0)
            values = [v[: max(1, room)].rstrip() or v[:1] if isinstance(v, str) else v for v in values]
        keep = [i for i, v in enumerate(values) if all(f(v) for f in self.filters)]
        if self.distinct is not None and self.distinct.folded:
            seen, unique = set(), []
            for i in keep:
                folded = str(values[i]).lower()
                if folded not in seen:
                    seen.add(folded)
                    unique.append(i)
            keep = unique
        elif self.distinct is not None:
            seen, unique = set(), []
            for i in keep:
                marker = repr(values[i])
                if marker not in seen:
                    seen.add(marker)
                    unique.append(i)
            keep = unique
        self.kept = len(keep)
        if not keep:
            raise usage_error(
                f"{table}.{column}: no value of {self.label} satisfies {said}",
                f"give it values that do in the profile: [tables.{table}.columns.{column}] values = [...] (docs/seed.md)",
            )
        values = [values[i] for i in keep]
        if weights is not None:
            weights = [weights[i] for i in keep]
        self.pool = ValuePool(values, self.encoder())
        self._weights = np.array(weights, dtype=np.float64) if weights is not None else (zipf_weights(len(values)) if self.zipf else None)

    def encoder(self):
        return field_encoder(self.column)

    def draw(self, chunk: "ChunkView"):
        pool = self.pool
        if pool.size == 0:
            return Picks(np.full(chunk.n, pool.null, dtype=np.int64), pool)
        if self.distinct is None:
            index = weighted_index(chunk.uniform(self), self._weights, pool.size)
            return Picks(index, pool)
        index, round_ = distinct_index(chunk, pool.size, self.distinct)
        if not self.distinct.suffix or not (round_ > 0).any():
            return Picks(index, pool)
        again = round_ > 0
        return Composed([("pool", pool, index), ("constant", self.separator, None, again), ("number", round_ + 1, None, again)])

    def sample(self) -> list:
        return list(self.pool.values) if self.pool is not None else []


class Choice(PoolGen):
    """One of the given values (a profile's ``values``/``weights``, or an enumeration of the schema)."""

    def __init__(self, column, values: list, weights: list[float] | None = None, *, label: str | None = None) -> None:
        shown = ", ".join(str(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
        if weights is not None:
            shown = ", ".join(f"{v} {w:g}" for v, w in list(zip(values, weights))[:6]) + (", ..." if len(values) > 6 else "")
        super().__init__(column, label or f"one of {shown}", weights=weights)
        self.given = list(values)

    def values(self, sources):
        return list(self.given)


class Words(PoolGen):
    """Entries of a word list in the app's seed directory (``words/NAME.txt``)."""

    def __init__(self, column, name: str, *, zipf: bool = False) -> None:
        super().__init__(column, f"words {name}" + (" (Zipf)" if zipf else ""), zipf=zipf)
        self.name = name

    def values(self, sources):
        return list(sources.words(self.name))


class TextModel(PoolGen):
    """Texts composed by a text model (the app's hooks, or the built-in Zipf sentences), drawn once
    into a pool of ``size`` texts."""

    def __init__(self, column, model: str, size: int) -> None:
        super().__init__(column, f"text {model}")
        self.model = model
        self.size = size

    def values(self, sources):
        return sources.texts(self.model, self.size, self.column)


class FakerValues(PoolGen):
    """A pool of values from one of Faker's providers (``faker = "company"``), in the run's locale."""

    def __init__(self, column, method: str, size: int, *, label: str | None = None, transform=None) -> None:
        super().__init__(column, label or f"faker {method}")
        self.method = method
        self.size = size
        self.transform = transform

    def values(self, sources):
        if not sources.has_faker(self.method):
            raise usage_error(f"{self.column.name}: Faker has no provider method {self.method!r} in locale {sources.locale}",
                              "see https://faker.readthedocs.io/ for the providers' methods")  # fmt: skip
        try:
            out = sources.faker_values(self.method, self.size)
        except Exception as exc:
            raise usage_error(f"{self.column.name}: Faker's {self.method}() failed: {type(exc).__name__}: {exc}",
                              "name a provider method that takes no arguments") from exc  # fmt: skip
        return [self.transform(v) for v in out] if self.transform else out


class Computed(PoolGen):
    """A pool made by a function of the run's sources (hashes, JSON documents, arrays, bytes)."""

    def __init__(self, column, label: str, make, *, late: bool = False) -> None:
        super().__init__(column, label)
        self.make = make
        self.late = late  # encoded at bind time (arrays: the element type comes from the catalog)
        self.after_bind = late
        self._values: list | None = None

    def values(self, sources):
        return self.make(sources)

    def prepare(self, sources):
        if self.late:
            self._values = self.make(sources)
            return
        super().prepare(sources)

    def bind(self, run):
        if self.late and self.pool is None:
            oid = run.element_oid(self.column)
            values = [v for v in self._values if all(f(v) for f in self.filters)]
            self.pool = ValuePool(values, field_encoder(self.column, element_oid=oid))
            self._weights = None


class ServerValues(PoolGen):
    """The profile's values for a type the seed cannot encode itself: the server converts them
    (``SELECT v::type``, binary) when the run binds, before any row is written."""

    def __init__(self, column, values: list, weights: list[float] | None) -> None:
        super().__init__(column, f"one of {len(values)} values, converted by the server", weights=weights)
        self.given = [str(v) for v in values]
        self.after_bind = True

    def prepare(self, sources):
        pass

    def convert(self, run):
        if self.pool is None:
            encoded = run.server_convert(self.column, self.given)
            self.pool = ValuePool(self.given, lambda v, _m=dict(zip(self.given, encoded)): _m[v])
            self._weights = np.array(self.weights, dtype=np.float64) if self.weights else None


# ---------------------------------------------------------------- people


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


# ---------------------------------------------------------------- numbers and times


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
            key = e.key_of(f"{chunk.table.name}/{self.column.name}/distinct")
            start = int(e.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * size)
            step = int(coprime_steps(e.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([size]))[0])
            k = (start + ((chunk.numbers - 1) % size) * step) % size
            return Numbers(self._from_steps(k))
        u = chunk.uniform(self)
        span = self.high - self.low
        if self.distribution == "normal":
            x = np.clip(0.5 + e.normal_curve()(u) / 6, 0, 1)
        elif self.distribution == "lognormal":
            x = np.clip(e.lognormal(u, 1.0) / 20, 0, 1)
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

    def can_be_distinct(self) -> bool:
        """Whether the window is the same for every row of a parent (so slots of it keep rows apart)."""
        return self.rule in ("created", "range", "birth") or (self.rule in ("event", "future") and not self.created)

    parent: str | None = None  # the parent table whose rows are created first
    window_days: int = 0

    def describe(self) -> str:
        after = f"after {self.created}" if self.created else f"in the {self.window_days} days"
        text = {
            "created": f"created after its {self.parent} row, before the reference time" if self.parent
            else f"created in the {self.window_days} days before the reference time",
            "updated": f"{after} before the reference time" if not self.created else f"{after}, before the reference time",
            "event": f"{after} before the reference time" if not self.created else f"{after}, before the reference time",
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
            created = chunk.micros(self.created) if self.created else None
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
        if self.distinct is not None:
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
        if self.column.kind == "date":
            return Numbers(np.floor_divide(moment, DAY))
        return Numbers(moment)


# ---------------------------------------------------------------- keys and references


class KeyUUID(Gen):
    """A UUID key as a pure function of (run, table, row number): a child computes its parent's."""

    def __init__(self, column, table: str) -> None:
        self.column = column
        self.table = table
        self.keys: tuple[int, int] | None = None

    def describe(self) -> str:
        return "UUID v4 key"

    def bind(self, run):
        self.salt = run.key_salt(self.table)

    def key(self, run, rows: np.ndarray) -> Numbers:
        base = run.offset(self.table)
        salt = run.key_salt(self.table)
        return Numbers(e.uuid_words(salt, salt ^ 0x5EED, rows + base))

    def draw(self, chunk):
        return self.key(chunk.run, chunk.rows)


class KeyInteger(Gen):
    """An integer key: the next values after those in the table (identity and serial columns
    too: the sequence is moved past the last one before commit)."""

    def __init__(self, column, table: str) -> None:
        self.column = column
        self.table = table

    def describe(self) -> str:
        return "identity: the next values, sequence moved past them" if self.column.identity else "next integer key"

    def key(self, run, rows: np.ndarray) -> Numbers:
        return Numbers(run.key_base(self.table, self.column.name) + rows + 1)

    def draw(self, chunk):
        return self.key(chunk.run, chunk.rows)


class KeyText(Gen):
    """A text key: a word of the run's vocabulary and the row number (``amber-17``)."""

    def __init__(self, column, table: str) -> None:
        self.column = column
        self.table = table
        self.pool = None

    def describe(self) -> str:
        return "text key: word-N"

    def prepare(self, sources):
        words = [w.lower() for w in sources.vocabulary()[:512] if w.isalpha()] or ["key"]
        limit = max(1, (self.column.length or 64) - 12)
        self.pool = ValuePool([w[:limit] for w in words], field_encoder(self.column))

    def key(self, run, rows):
        key = e.key_of(f"key/{self.table}/{self.column.name}")
        numbers = rows + run.offset(self.table) + 1
        index = np.floor(e.hashed_uniform(key, numbers) * self.pool.size).astype(np.int64)
        return Composed([("pool", self.pool, index), ("constant", "-"), ("number", numbers)])

    def draw(self, chunk):
        return self.key(chunk.run, chunk.rows)


class Reference(Gen):
    """A foreign key: the row's parent (``owner``), a row of the target within the row's own
    ancestor (a task's list is one of the task's user's lists), rows distinct per parent (links of
    a many-to-many table), a row of the whole target table, or the target row that is this row's
    one (one-to-one)."""

    def __init__(self, column, target: str, target_column: str, mode: str, *, within: str | None = None) -> None:
        self.column = column
        self.target = target
        self.target_column = target_column
        self.mode = mode  # "owner" | "any" | "distinct" | "one_to_one"
        self.within = within  # the ancestor table the target rows must share

    def describe(self) -> str:
        target = self.target.split(".")[-1]
        text = {
            "owner": f"the parent {target} row",
            "any": f"any {target} row",
            "distinct": f"{target} rows, distinct per parent",
            "one_to_one": f"a {target} row, each once",
        }[self.mode]
        if self.within:
            text = text.replace("any ", "a ", 1) + f" of the same {self.within.split('.')[-1]} row"
        return text

    def draw(self, chunk):
        run = chunk.run
        if self.mode == "owner":
            return _per_owner(run, self.target, self.target_column, chunk.owner)
        else:
            rows, null = self.target_rows(chunk)
        keys = run.key_values(self.target, self.target_column, np.where(null, 0, rows) if null is not None else rows)
        if null is not None and null.any():
            keys = _with_null(keys, null)
        return keys

    def target_rows(self, chunk) -> tuple[np.ndarray, np.ndarray | None]:
        run = chunk.run
        n = chunk.n
        if self.within is not None:
            ancestor = chunk.ancestor(self.within)
            lo, size = run.range_within(self.target, ancestor)
        else:
            lo = np.zeros(n, dtype=np.int64)
            size = np.full(n, run.count(self.target), dtype=np.int64)
        empty = size <= 0
        if self.mode == "distinct":
            key = e.key_of(f"{chunk.table.name}/{self.column.name}/links")
            owner = chunk.owner
            start = np.floor(e.hashed_uniform(key, owner) * np.maximum(size, 1)).astype(np.int64)
            step = coprime_steps(e.hashed_uniform(key + 1, owner), size)
            offset = (start + chunk.group_offset * step) % np.maximum(size, 1)
        elif self.mode == "one_to_one":
            total = run.count(self.target)
            key = e.key_of(f"{chunk.table.name}/{self.column.name}/one")
            start = int(e.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * max(total, 1))
            step = int(coprime_steps(e.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([max(total, 1)]))[0])
            return (start + (chunk.numbers - 1) * step) % max(total, 1), None
        else:
            offset = np.floor(chunk.uniform(self) * np.maximum(size, 1)).astype(np.int64)
        rows = lo + np.minimum(offset, np.maximum(size - 1, 0))
        if empty.any():
            if self.column.nullable:
                return rows, empty
            # No row of the target shares the ancestor: any row of the target, rather than none.
            total = run.count(self.target)
            rows = np.where(empty, np.floor(chunk.uniform(self, 1) * max(total, 1)).astype(np.int64), rows)
        return rows, None


class Tree(Gen):
    """A self-reference: rows form trees of at most ``depth`` levels (per parent row when the table
    has one); roots have NULL (or themselves, when the column is NOT NULL)."""

    BRANCHING = 3.0

    def __init__(self, column, table: str, target_column: str, depth: int = 4) -> None:
        self.column = column
        self.table = table
        self.target_column = target_column
        self.depth = depth

    def describe(self) -> str:
        roots = "NULL" if self.column.nullable else "themselves"
        return f"tree of up to {self.depth} levels (roots reference {roots})"

    def draw(self, chunk):
        run = chunk.run
        if chunk.owner is not None:
            position, size = chunk.group_offset, chunk.group_size
            start = chunk.rows - position
        else:
            position = chunk.numbers - 1 - run.offset(self.table)
            size = np.full(chunk.n, run.count(self.table), dtype=np.int64)
            start = np.zeros(chunk.n, dtype=np.int64)
        b, d = self.BRANCHING, self.depth
        total = (b**d - 1) / (b - 1)
        cumulative = np.cumsum([b**k / total for k in range(d)])
        cumulative[-1] = 1.0
        bounds = np.ceil(size[:, None] * cumulative[None, :]).astype(np.int64)
        bounds[:, 0] = np.maximum(bounds[:, 0], 1)
        level = (bounds <= position[:, None]).sum(axis=1)
        above = np.where(level > 0, bounds[np.arange(chunk.n), np.maximum(level - 1, 0)], 1)
        parent = start + np.floor(chunk.uniform(self) * above).astype(np.int64)
        root = level == 0
        parent = np.where(root, chunk.rows, parent)
        keys = run.key_values(self.table, self.target_column, parent)
        return _with_null(keys, root) if self.column.nullable else keys


class Code(Gen):
    """Codes of a fixed length over an alphabet (digits, or A-Z and 0-9), distinct per row: the
    last characters spell a permutation of the row numbers, the first are random. ISBN-13 and
    EAN-13 add a prefix and the EAN check digit."""

    DIGITS = "0123456789"
    ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def __init__(self, column, length: int, *, alphabet: str = DIGITS, prefix: str = "", check: bool = False,
                 label: str | None = None) -> None:  # fmt: skip
        self.column = column
        self.length = length
        self.alphabet = alphabet
        self.prefix = prefix
        self.check = check
        self.label = label

    @property
    def free(self) -> int:
        return self.length - len(self.prefix) - int(self.check)

    @property
    def counted(self) -> int:
        """How many of the free characters spell the row's number (at most 10**9 of them)."""
        base, k = len(self.alphabet), 0
        while k < self.free and base ** (k + 1) <= 10**9:
            k += 1
        return k

    @property
    def capacity(self) -> int:
        return len(self.alphabet) ** self.counted

    def describe(self) -> str:
        return self.label or f"{self.length} characters of {'digits' if self.alphabet == self.DIGITS else 'A-Z, 0-9'}, distinct"

    def draw(self, chunk):
        n, base = chunk.n, len(self.alphabet)
        size, counted = self.capacity, self.counted
        key = e.key_of(f"{chunk.table.name}/{self.column.name}/code")
        start = int(e.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * size)
        step = int(coprime_steps(e.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([size]))[0])
        rest = (start + ((chunk.numbers - 1) % size) * step) % size
        places = np.empty((n, self.length), dtype=np.int64)
        for i, ch in enumerate(self.prefix):
            places[:, i] = self.alphabet.index(ch)
        random_part = self.free - counted
        if random_part:
            places[:, len(self.prefix) : len(self.prefix) + random_part] = np.floor(
                chunk.stream(self).uniform(n, random_part) * base
            ).astype(np.int64)
        for i in range(len(self.prefix) + self.free - 1, len(self.prefix) + random_part - 1, -1):
            places[:, i] = rest % base
            rest //= base
        if self.check:  # EAN-13: weights 1, 3, 1, 3, ... over the first 12 digits
            weights = np.array([1 if i % 2 == 0 else 3 for i in range(self.length - 1)], dtype=np.int64)
            places[:, -1] = (10 - (places[:, :-1] * weights).sum(axis=1) % 10) % 10
        letters = np.frombuffer(self.alphabet.encode(), dtype=np.uint8)
        return Numbers(e._fields(letters[places]))


class Null(Gen):
    def __init__(self, column, why: str) -> None:
        self.column = column
        self.why = why

    def describe(self) -> str:
        return f"NULL ({self.why})"

    def draw(self, chunk):
        return Numbers(np.zeros(chunk.n, dtype=np.int64), np.ones(chunk.n, dtype=bool))


class Hex(Gen):
    """Random hexadecimal of ``length`` characters (tokens, digests), one per row."""

    def __init__(self, column, length: int) -> None:
        self.column = column
        self.length = length

    def describe(self) -> str:
        return f"random hex, {self.length} characters"

    def draw(self, chunk):
        n, width = chunk.n, self.length
        words = chunk.stream(self).raw(n * ((width + 15) // 16)).reshape(n, -1)
        nibbles = np.empty((n, words.shape[1] * 16), dtype=np.uint8)
        for i in range(16):
            nibbles[:, i::16] = ((words >> np.uint64(60 - 4 * i)) & np.uint64(15)).astype(np.uint8)
        chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles[:, :width]]
        return Numbers(e._fields(chars))


def _per_owner(run, target: str, column: str, owners: np.ndarray):
    """The parent's key of each row: computed once per parent (rows come in parent order) and
    repeated, when there are far fewer parents than rows."""
    if len(owners) < 2:
        return run.key_values(target, column, owners)
    change = np.flatnonzero(owners[1:] != owners[:-1]) + 1
    if len(change) + 1 > len(owners) // 2:
        return run.key_values(target, column, owners)
    firsts = np.concatenate(([0], change))
    keys = run.key_values(target, column, owners[firsts])
    if not isinstance(keys, Numbers):
        return run.key_values(target, column, owners)
    repeat = np.diff(np.concatenate((firsts, [len(owners)])))
    return Numbers(np.repeat(keys.data, repeat, axis=0))


def _with_null(values, null: np.ndarray):
    mask = null if values.null is None else (values.null | null)
    if isinstance(values, Numbers):
        return Numbers(values.data, mask)
    if isinstance(values, Picks):
        return Picks(values.index, values.pool, mask)
    return Composed(values.parts, mask)


with_null = _with_null

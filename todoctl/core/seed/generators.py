"""Column generators: each draws one column of a chunk of rows at once (numpy), from the chunk's
own streams, or as a pure function of row numbers (keys and references to them).

A generator's pools (names, words, texts, Faker values) are composed once per run in ``prepare``
(on the pools thread, while the server checks and locks); ``bind`` receives what only the
database knows (the next identity value, an array's element type); ``draw`` returns a chunk's
values (values.py). ``describe`` is what ``seed --dry-run`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import todoctl.core.seed.streams as streams
from todoctl.core.seed.drawing import ChunkView, RunView
from todoctl.core.seed.values import Composed, Numbers, Picks, ValuePool, field_encoder
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
    start = np.floor(streams.hashed_uniform(distinct.key, base) * size).astype(np.int64)
    sizes = np.full(chunk.n, size, dtype=np.int64)
    step = coprime_steps(streams.hashed_uniform(distinct.key + 1, base), sizes)
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
            # Room for the suffix only where the column leaves some: a short column keeps its values
            # whole (the run checks that the rows need no suffix, fits.check_fits).
            suffixed = self.distinct and self.distinct.suffix and self.max_length > 2 * SUFFIX_ROOM
            room = self.max_length - (SUFFIX_ROOM if suffixed else 0)
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


# ---------------------------------------------------------------- numbers and times


# ---------------------------------------------------------------- keys and references


class Null(Gen):
    def __init__(self, column, why: str) -> None:
        self.column = column
        self.why = why

    def describe(self) -> str:
        return f"NULL ({self.why})"

    def draw(self, chunk):
        return Numbers(np.zeros(chunk.n, dtype=np.int64), np.ones(chunk.n, dtype=bool))


def _with_null(values, null: np.ndarray):
    mask = null if values.null is None else (values.null | null)
    if isinstance(values, Numbers):
        return Numbers(values.data, mask)
    if isinstance(values, Picks):
        return Picks(values.index, values.pool, mask)
    return Composed(values.parts, mask)


with_null = _with_null

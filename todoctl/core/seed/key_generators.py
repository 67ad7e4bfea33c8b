"""Generators of keys and references: numbered keys (integer, UUID, text), a parent's key, a tree."""

from __future__ import annotations

import numpy as np

import todoctl.core.seed.encode as e
from todoctl.core.seed.generators import Gen, coprime_steps, with_null
import todoctl.core.seed.streams as streams
from todoctl.core.seed.values import Composed, Numbers, ValuePool, field_encoder


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
        key = streams.key_of(f"key/{self.table}/{self.column.name}")
        numbers = rows + run.offset(self.table) + 1
        index = np.floor(streams.hashed_uniform(key, numbers) * self.pool.size).astype(np.int64)
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
            keys = with_null(keys, null)
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
            key = streams.key_of(f"{chunk.table.name}/{self.column.name}/links")
            owner = chunk.owner
            start = np.floor(streams.hashed_uniform(key, owner) * np.maximum(size, 1)).astype(np.int64)
            step = coprime_steps(streams.hashed_uniform(key + 1, owner), size)
            offset = (start + chunk.group_offset * step) % np.maximum(size, 1)
        elif self.mode == "one_to_one":
            total = run.count(self.target)
            key = streams.key_of(f"{chunk.table.name}/{self.column.name}/one")
            start = int(streams.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * max(total, 1))
            step = int(coprime_steps(streams.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([max(total, 1)]))[0])
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
        return with_null(keys, root) if self.column.nullable else keys


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

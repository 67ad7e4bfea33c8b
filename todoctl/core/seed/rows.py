"""Drawing a plan's rows: every table's rows as binary COPY chunks, from seeded streams only.

A table's rows are drawn ``CHUNK_ROWS`` at a time; every column of a chunk has its own stream,
seeded from (seed, rows already in the table, table, chunk number, column), so adding a column to
the models changes no other column's values, and the rows depend on nothing but the profile, the
options and the models. Keys are pure functions of row numbers (streams.hashed): a child computes
its parent's key from the parent's row number, which the run's skeleton (``TablePlan.starts``,
each parent row's first child row) gives. What later tables need of earlier ones besides keys is
the creation time of parent rows, kept in one int64 array per parent table.

Time rules (R is the reference time): a root row is created within ``window_days`` before R; a
child row after its parent row, before R; an update after creation; other events after creation.
"""

from __future__ import annotations

import threading
from typing import Iterator

import numpy as np

import todoctl.core.seed.encode as e
import todoctl.core.seed.fits as fits
import todoctl.core.seed.streams as streams
import todoctl.core.seed.generators as g
import todoctl.core.seed.key_generators as kg
import todoctl.core.seed.hooks as seed_hooks
from todoctl.core.seed.counts import owner_of
from todoctl.core.seed.plan_model import Offsets, Plan, TablePlan  # noqa: F401 - Offsets: the job imports it from here
from todoctl.core.seed.values import (
    DAY,
    EPOCH_SHIFT_DAYS,
    EPOCH_SHIFT_US,
    Numbers,
    Picks,
    encode_column,
    picks_of,
    texts_of,
    timestamp_us,
)
from todoctl.errors import TodoctlError

# Rows are drawn a chunk at a time, each column of each chunk from its own stream. Changing the
# chunk size changes the rows (and the fingerprints).
CHUNK_ROWS = 4096


class Stopped(Exception):
    """The run was stopped (``Run.stop``) while a thread waited for it; the stopping side has
    the error that is reported."""


class Run:
    """The rows of one seed run over a plan. Call ``rows(table)`` in the plan's table order."""

    def __init__(self, plan: Plan, offsets: Offsets | None = None) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.offsets = offsets or Offsets()
        self.now = timestamp_us(plan.profile.reference_time)
        self.window = plan.profile.window_days * DAY
        self.kept: dict[str, np.ndarray] = {}
        self._element_oids: dict[tuple[str, str], int] = {}
        self._convert = None
        self.counts = {t.name: t.count for t in plan.tables.values()}
        self.written_pools: dict = {}  # pools of values hooks wrote
        self._ready = {key: threading.Event() for key in plan.tables}
        self._bound_event = threading.Event()  # bind() has run: element types known, server values converted
        self._failed: BaseException | None = None
        self._stopped = False  # stop(): the run ends early; no thread waits for what will not come
        self._bound: set[str] = set()

    @property
    def tables(self) -> list[str]:
        return list(self.plan.tables)

    # ------------------------------------------------------------ before drawing

    def prepare(self) -> "Run":
        """Compose every generator's pools, table by table in load order (the seed job does this
        on a thread of its own; a table's rows are drawn as soon as its own pools are ready)."""
        try:
            for key, table in self.plan.tables.items():
                if self._stopped:
                    raise Stopped("the seed run stopped before its pools were composed")
                fits.size_pools(table)
                for column in table.written:
                    if column.name not in table.hook_writes:
                        column.gen.prepare(self.plan.sources)
                        fits.check_fits(table, column, self.offset(key))
                self._ready[key].set()
        except BaseException as exc:
            self._failed = exc
            for event in self._ready.values():
                event.set()
            raise
        return self

    def bind(self, element_oids: dict | None = None, convert=None) -> "Run":
        """What the database says: arrays' element types (used when each table is drawn), and
        values only the server can encode (converted now, on the caller's thread and connection)."""
        self._element_oids = element_oids or {}
        self._convert = convert
        try:
            for table in self.plan.tables.values():
                for column in table.written:
                    column.gen.convert(self)
        except BaseException:
            self.stop()
            raise
        self._bound_event.set()
        return self

    def stop(self) -> None:
        """End the run early (an error or Ctrl-C on another thread): the pools thread stops at
        the next table, and a thread waiting for pools or for ``bind`` wakes and raises Stopped.
        Every wait between the seed's threads ends when the other side fails or stops."""
        self._stopped = True
        for event in self._ready.values():
            event.set()
        self._bound_event.set()

    def _wait(self, table: str) -> None:
        """Until the table's pools are composed (the error of the pools thread, if it failed),
        and bound when its generators need the database; Stopped if the run stops first."""
        self._ready[table].wait()
        if self._failed is not None:
            raise self._failed
        if self._stopped:
            raise Stopped(f"the seed run stopped before {table} was drawn")
        if any(getattr(c.gen, "after_bind", False) for c in self.plan.tables[table].written):
            self._bound_event.wait()
            if self._stopped:
                raise Stopped(f"the seed run stopped before {table} was drawn")
        if table not in self._bound:
            for column in self.plan.tables[table].written:
                column.gen.bind(self)
            self._bound.add(table)

    def element_oid(self, column) -> int | None:
        for (table, name), oid in self._element_oids.items():
            if name == column.name and oid:
                return oid
        return None

    def server_convert(self, column, values: list[str]) -> list[bytes]:
        if self._convert is None:
            raise TodoctlError(f"{column.name}: values of {column.sql_type} need the server to encode them",
                               hint="this happens in a real run, not a dry run")  # fmt: skip
        return self._convert(column, values)

    # ------------------------------------------------------------ what generators ask

    def offset(self, table: str) -> int:
        return self.offsets.rows.get(table, 0)

    def key_base(self, table: str, column: str) -> int:
        return self.offsets.keys.get((table, column), 0)

    def key_salt(self, table: str) -> int:
        return streams.key_of(f"todoctl-seed/{self.profile.seed}/{table}/key")

    def count(self, table: str) -> int:
        return self.plan.tables[table].count

    def key_values(self, table: str, column: str, rows: np.ndarray):
        gen = self.plan.tables[table].column(column).gen
        if isinstance(gen, kg.Reference) and gen.mode == "owner":
            return self.key_values(gen.target, gen.target_column, self.owner_of(table, rows))
        return gen.key(self, rows)

    def owner_of(self, table: str, rows: np.ndarray) -> np.ndarray:
        return owner_of(self.plan.tables[table].starts, rows)

    def range_within(self, target: str, ancestor_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``target`` that belong to each ancestor row: (first, how many)."""
        starts = self.plan.tables[target].starts
        first = starts[ancestor_rows].astype(np.int64)
        return first, starts[ancestor_rows + 1].astype(np.int64) - first

    def now_datetime64(self) -> np.datetime64:
        return np.datetime64(self.now + EPOCH_SHIFT_US, "us")

    # ------------------------------------------------------------ drawing

    def rows(self, table: str) -> Iterator[tuple[bytes, int]]:
        """The table's rows as binary COPY chunks (bytes, rows)."""
        self._wait(table)
        plan = self.plan.tables[table]
        header = e.constant(len(plan.written).to_bytes(2, "big"), CHUNK_ROWS)
        keep = np.empty(plan.count, dtype=np.int64) if plan.keep_created else None
        for number, first in enumerate(range(0, plan.count, CHUNK_ROWS)):
            n = min(CHUNK_ROWS, plan.count - first)
            chunk = Chunk(self, plan, number, first, n)
            chunk.draw()
            if keep is not None:
                keep[first : first + n] = chunk.micros(plan.created)
            columns = [e.Fixed(header[:n])] + [
                encode_column(cp.column, chunk.values[cp.name], n, scale=getattr(cp.gen, "scale", 0)) for cp in plan.written
            ]
            yield e.assemble(n, columns), n
        if keep is not None:
            self.kept[table] = keep


class Chunk:
    """Some consecutive rows of one table while they are drawn."""

    def __init__(self, run: Run, table: TablePlan, number: int, first: int, n: int) -> None:
        self.run = run
        self.table = table
        self.number = number
        self.n = n
        self.rows = np.arange(first, first + n, dtype=np.int64)
        offset = run.offset(table.key)
        self.numbers = self.rows + offset + 1
        self.values: dict = {}
        self._streams: dict[str, streams.Stream] = {}
        self._prefix = f"todoctl-seed/{run.profile.seed}/{offset}/{table.key}/{number}"
        if table.starts is not None:
            self.owner = owner_of(table.starts, self.rows)
            first_row = table.starts[self.owner].astype(np.int64)
            self.group_offset = self.rows - first_row
            self.group_size = table.starts[self.owner + 1].astype(np.int64) - first_row
        else:
            self.owner = None
            self.group_offset = self.rows
            self.group_size = np.full(n, table.count, dtype=np.int64)
        self._ancestors: dict[str, np.ndarray] = {}
        self._person = None

    def draw(self) -> None:
        for cp in self.table.draw_order:
            if cp.name in self.table.hook_writes:  # the hook sets every value: only its NULLs are drawn
                values = Numbers(np.zeros(self.n, dtype=np.int64))
            else:
                values = cp.gen.draw(self)
            if cp.null > 0:
                values = g.with_null(values, self.named_uniform(f"{cp.name}/null") < cp.null)
            self.values[cp.name] = values
        for lower, higher, strict in self.table.orders:
            self._order(lower, higher, strict)
        for hook in self.table.hooks:
            try:
                hook.fn(seed_hooks.Rows(self, hook))
            except TodoctlError:
                raise
            except Exception as exc:
                raise TodoctlError(
                    f"seed hook {hook.where} failed on {self.table.name}: {type(exc).__name__}: {exc}; nothing was written",
                    hint="fix the hook (rows[...] arrays are whole columns of a chunk of rows)",
                ) from exc

    # ------------------------------------------------------------ streams

    def stream(self, gen) -> streams.Stream:
        return self._stream(gen.column.name)

    def _stream(self, name: str) -> streams.Stream:
        if name not in self._streams:
            self._streams[name] = streams.Stream(f"{self._prefix}/{name}")
        return self._streams[name]

    def uniform(self, gen, k: int | None = None) -> np.ndarray:
        stream = self.stream(gen)
        return stream.uniform(self.n) if k is None else stream.uniform(self.n)

    def named_uniform(self, name: str) -> np.ndarray:
        return self._stream(name).uniform(self.n)

    def hook_uniform(self, hook, k: int) -> np.ndarray:
        return self._stream(f"hook/{hook.where}").uniform(k, self.n)

    def person(self, names) -> tuple[np.ndarray, np.ndarray]:
        """Each row's person (first and last name indexes), shared by the table's name columns."""
        if self._person is None:
            u = self._stream("person").uniform(2, self.n)
            self._person = (
                g.weighted_index(u[0], names.first_weights, names.first.size),
                g.weighted_index(u[1], names.last_weights, names.last.size),
            )
        return self._person

    # ------------------------------------------------------------ the rows' relatives

    def ancestor(self, table: str) -> np.ndarray:
        """Each row's ancestor row in ``table`` (its parent, its parent's parent, ...)."""
        if table not in self._ancestors:
            rows, current = self.owner, self.table.parent_table
            while current != table:
                holder = self.run.plan.tables[current]
                rows = owner_of(holder.starts, rows)
                current = holder.parent_table
            self._ancestors[table] = rows
        return self._ancestors[table]

    def parent_created(self) -> np.ndarray | None:
        if self.owner is None:
            return None
        kept = self.run.kept.get(self.table.parent_table)
        return None if kept is None else kept[self.owner]

    def micros(self, column: str) -> np.ndarray:
        """A time column of these rows in microseconds since 2000-01-01 (dates at midnight)."""
        values = self.values[column]
        kind = self.table.column(column).column.kind
        data = values.data.astype(np.int64)
        return data * DAY if kind == "date" else data

    # ------------------------------------------------------------ constraints between columns

    def _order(self, lower: str, higher: str, strict: bool) -> None:
        """Where ``higher`` is not above ``lower``, mirror it above (``lower`` keeps its values,
        and whatever keeps them distinct); strictly above by one unit where they are equal."""
        a, b = self.values[lower], self.values[higher]
        low, high = a.data, b.data.copy()
        both = np.ones(self.n, dtype=bool)
        for v in (a, b):
            if v.null is not None:
                both &= ~v.null
        wrong = both & (low > high)
        high[wrong] = 2 * low[wrong] - high[wrong]
        if strict:
            same = both & (low == high)
            step = 1 if np.issubdtype(high.dtype, np.integer) else np.finfo(np.float64).eps * np.maximum(np.abs(high), 1)
            high = np.where(same, high + step, high)
        self.values[higher] = Numbers(high, b.null)

    # ------------------------------------------------------------ what hooks read and write

    def isnull(self, column: str) -> np.ndarray:
        values = self.values[column]
        return values.null.copy() if values.null is not None else np.zeros(self.n, dtype=bool)

    def read(self, column: str) -> np.ndarray:
        values = self.values[column]
        kind = self.table.column(column).column.kind
        null = values.null
        if isinstance(values, Numbers):
            data = values.data
            if kind in ("timestamp", "timestamptz"):
                out = (data.astype(np.int64) + EPOCH_SHIFT_US).astype("datetime64[us]")
                return np.where(null, np.datetime64("NaT", "us"), out) if null is not None else out
            if kind == "date":
                out = (data.astype(np.int64) + EPOCH_SHIFT_DAYS).astype("datetime64[D]")
                return np.where(null, np.datetime64("NaT", "D"), out) if null is not None else out
            if kind == "numeric":
                return data / 10.0 ** getattr(self.table.column(column).gen, "scale", 0)
            if data.ndim == 2:  # encoded fields (UUIDs, hex): as text / UUID objects
                import uuid

                body = data[:, 4:]
                return np.array([uuid.UUID(bytes=bytes(r)) if kind == "uuid" else bytes(r).decode() for r in body], dtype=object)
            return data.copy()
        if isinstance(values, Picks):
            index = values.index if null is None else np.where(null, values.pool.null, values.index)
            return values.pool.array()[index]
        return np.array([v or "" for v in texts_of(values, self.n)], dtype=object)

    def write(self, column: str, data, hook) -> None:
        plan = self.table.column(column)
        gen, kind = plan.gen, plan.column.kind
        if isinstance(gen, (kg.KeyUUID, kg.KeyInteger, kg.KeyText, kg.Reference, kg.Tree)):
            raise TodoctlError(
                f"seed hook {hook.where} writes {self.table.name}.{column}, a key or foreign key the seed draws",
                hint="hooks may change any other column",
            )
        if column == self.table.created and self.table.keep_created:
            raise TodoctlError(
                f"seed hook {hook.where} writes {self.table.name}.{column}, which the rows of other tables follow",
                hint="set its range or distribution in the profile instead",
            )
        data = np.asarray(data)
        if len(data) != self.n:
            raise TodoctlError(f"seed hook {hook.where} wrote {len(data)} values to {self.table.name}.{column}; the chunk has {self.n} rows")
        if np.issubdtype(data.dtype, np.datetime64):
            null = np.isnat(data)
            if kind == "date":
                values = data.astype("datetime64[D]").astype(np.int64) - EPOCH_SHIFT_DAYS
            else:
                values = data.astype("datetime64[us]").astype(np.int64) - EPOCH_SHIFT_US
            self.values[column] = Numbers(np.where(null, 0, values), null if null.any() else None)
            return
        previous = self.values[column]
        if isinstance(previous, Numbers) and data.dtype != object:
            if kind == "numeric":
                data = np.round(data * 10.0 ** getattr(gen, "scale", 0)).astype(np.int64)
            self.values[column] = Numbers(data, previous.null)
            return
        pool = previous.pool if isinstance(previous, Picks) else None
        self.values[column] = picks_of(plan.column, data, pool, self.run.written_pools)

    def write_null(self, column: str, mask: np.ndarray, hook) -> None:
        values = self.values[column]
        if not self.table.column(column).column.nullable and mask.any():
            raise TodoctlError(f"seed hook {hook.where} sets NULL in {self.table.name}.{column}, which is NOT NULL")
        self.values[column] = g.with_null(values, mask) if mask.any() else values



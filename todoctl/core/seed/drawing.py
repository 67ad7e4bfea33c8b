"""What a column generator may ask of the run and the chunk it draws for.

rows.py's ``Run`` and ``Chunk`` are the one implementation; the generators (generators.py) see only
these two faces, so the generators sit below the rows that call them.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

import todoctl.core.seed.streams as streams


class RunView(Protocol):
    """One seed run over a plan: its clock, and every table's row numbers and keys."""

    now: int  # the reference time, microseconds since the epoch
    window: int  # how far back times go, in microseconds

    def element_oid(self, column) -> int | None: ...
    def server_convert(self, column, values: list[str]) -> list[bytes]: ...
    def offset(self, table: str) -> int: ...
    def key_base(self, table: str, column: str) -> int: ...
    def key_salt(self, table: str) -> int: ...
    def count(self, table: str) -> int: ...
    def key_values(self, table: str, column: str, rows: np.ndarray): ...
    def range_within(self, target: str, ancestor_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class ChunkView(Protocol):
    """A run of consecutive rows of one table, drawn together."""

    run: RunView
    table: Any  # plan_model.TablePlan
    n: int
    rows: np.ndarray  # row numbers within the table, from 0
    numbers: np.ndarray  # 1-based row numbers across runs (after the offset)
    owner: np.ndarray | None  # each row's parent row, for a child table
    group_offset: np.ndarray  # each row's place among its parent's rows
    group_size: np.ndarray  # how many rows its parent has

    def stream(self, gen) -> streams.Stream: ...
    def uniform(self, gen, k: int | None = None) -> np.ndarray: ...
    def person(self, names) -> tuple[np.ndarray, np.ndarray]: ...
    def ancestor(self, table: str) -> np.ndarray: ...
    def parent_created(self) -> np.ndarray | None: ...
    def micros(self, column: str) -> np.ndarray: ...

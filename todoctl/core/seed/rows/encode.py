"""Binary COPY rows assembled a chunk at a time with numpy, and the seeded streams they draw from.

A chunk is built column by column: each column is either a fixed-width byte matrix (UUIDs,
timestamps, row headers), the same with NULL for some rows, or indexes into a pool of values
already encoded with their length word (names, titles, statuses). ``assemble`` computes every
field's offset in the chunk from the lengths and scatters each column into one buffer: no
per-row Python, which is what made drawing a million tasks take longer than the server needs
to ingest them.

Streams: one PCG64 per (run, table, chunk), seeded through ``SeedSequence`` from a hash of its
name. Only the raw 64-bit outputs are used (floats are made here, not by numpy's distribution
methods, which numpy allows itself to change between releases); tests/core/seed/test_rows.py pins
known answers, so a release that changed the raw stream fails there. Same names, same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

NULL = b"\xff\xff\xff\xff"
_UNIT = 2.0**-53
_UUID_VERSION_CLEAR, _UUID_VERSION_SET = np.uint64(~0xF000 & (2**64 - 1)), np.uint64(0x4000)
_UUID_VARIANT_CLEAR, _UUID_VARIANT_SET = np.uint64(~(0xC000 << 48) & (2**64 - 1)), np.uint64(0x8000 << 48)


class Stream:
    """The draws of one chunk of one table: ``raw(n)`` 64-bit words, ``uniform(n)`` in [0, 1)."""

    def __init__(self, name: str) -> None:
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:16], "big")
        self._bits = np.random.PCG64(np.random.SeedSequence(key))

    def raw(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n)

    def uniform(self, *shape: int) -> np.ndarray:
        n = int(np.prod(shape))
        return ((self._bits.random_raw(n) >> np.uint64(11)).astype(np.float64) * _UNIT).reshape(shape)

    def below(self, n_values, u: np.ndarray) -> np.ndarray:
        """``floor(u * n_values)`` as int64 (``n_values`` a number or an array)."""
        return np.floor(u * n_values).astype(np.int64)


# ---------------------------------------------------------------- values as byte matrices


def _fields(payload: np.ndarray) -> np.ndarray:
    """Binary COPY fields from an (n, width) matrix of value bytes: each row with its int32
    length word (the width) ahead of it, an (n, 4 + width) uint8 matrix."""
    n, width = payload.shape
    out = np.empty((n, 4 + width), dtype=np.uint8)
    out[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
    out[:, 4:] = payload
    return out


def _big_endian(values: np.ndarray, dtype: str) -> np.ndarray:
    """Each value's bytes in network order (``dtype`` such as ">i8"), one row per value."""
    return values.astype(dtype).view(np.uint8).reshape(len(values), -1)


def uuids(stream: Stream, n: int) -> np.ndarray:
    """``n`` random version-4 UUID fields (length word + 16 bytes): an (n, 20) uint8 matrix."""
    words = stream.raw(2 * n).reshape(n, 2)
    words[:, 0] = (words[:, 0] & _UUID_VERSION_CLEAR) | _UUID_VERSION_SET
    words[:, 1] = (words[:, 1] & _UUID_VARIANT_CLEAR) | _UUID_VARIANT_SET
    return _fields(_big_endian(words.ravel(), ">u8").reshape(n, 16))


def timestamps(microseconds: np.ndarray) -> np.ndarray:
    """timestamptz fields (length word + int64 microseconds since 2000-01-01): (n, 12) uint8."""
    return _fields(_big_endian(microseconds, ">i8"))


def int4s(values: np.ndarray) -> np.ndarray:
    """int4 fields (length word 4 + big-endian int32): (n, 8) uint8."""
    return _fields(_big_endian(values, ">i4"))


def constant(value: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (n, len(value)))


class Pool:
    """Values already encoded with their length word, packed for gathering by index. With
    ``nullable`` the last index (``pool.null``) is NULL."""

    def __init__(self, values: Sequence[bytes], *, nullable: bool = False) -> None:
        values = list(values) + ([NULL] if nullable else [])
        self.lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        self.starts = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        self.data = np.frombuffer(b"".join(values), dtype=np.uint8)
        self.null = len(values) - 1 if nullable else -1
        self.size = len(values) - (1 if nullable else 0)  # values to draw from (NULL excluded)


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Fixed:
    """The same width in every row: an (n, width) uint8 matrix."""

    matrix: np.ndarray

    def lengths(self, n: int) -> np.ndarray:
        return np.full(n, self.matrix.shape[1], dtype=np.int64)

    def write(self, buffer: np.ndarray, starts: np.ndarray) -> None:
        buffer[starts[:, None] + np.arange(self.matrix.shape[1])] = self.matrix


@dataclass(frozen=True)
class Maybe:
    """A fixed-width value where ``present``, NULL elsewhere."""

    matrix: np.ndarray
    present: np.ndarray  # bool, one per row

    def lengths(self, n: int) -> np.ndarray:
        return np.where(self.present, self.matrix.shape[1], len(NULL)).astype(np.int64)

    def write(self, buffer: np.ndarray, starts: np.ndarray) -> None:
        there = starts[self.present]
        buffer[there[:, None] + np.arange(self.matrix.shape[1])] = self.matrix[self.present]
        buffer[starts[~self.present][:, None] + np.arange(len(NULL))] = 0xFF


@dataclass(frozen=True)
class Pick:
    """``pool`` values by index (``pool.null`` for NULL)."""

    pool: Pool
    index: np.ndarray

    def lengths(self, n: int) -> np.ndarray:
        return self.pool.lengths[self.index]

    def write(self, buffer: np.ndarray, starts: np.ndarray) -> None:
        lengths = self.pool.lengths[self.index]
        before = np.cumsum(lengths) - lengths  # where each value starts in the run of all of them
        position = np.arange(int(lengths.sum()), dtype=np.int64)
        buffer[position + np.repeat(starts - before, lengths)] = self.pool.data[
            position + np.repeat(self.pool.starts[self.index] - before, lengths)
        ]


def assemble(n: int, columns: Sequence[Fixed | Maybe | Pick]) -> bytes:
    """``n`` binary COPY rows from their columns, in order (the row header is a column too)."""
    if n == 0:
        return b""
    lengths = np.stack([column.lengths(n) for column in columns], axis=1)  # (n, columns)
    flat = lengths.ravel()
    starts = (np.cumsum(flat) - flat).reshape(n, len(columns))
    buffer = np.empty(int(flat.sum()), dtype=np.uint8)
    for i, column in enumerate(columns):
        column.write(buffer, starts[:, i])
    return buffer.tobytes()


# ---------------------------------------------------------------- the run's pools, ready to gather

PENDING, COMPLETED, OVERDUE = 0, 1, 2  # status codes; any other status of a profile is drawn as pending


class EncodedPools:
    """``pools.Pools`` (encoded values and 1024-entry weighted tables) as gather tables."""

    @classmethod
    def of(cls, pools) -> "EncodedPools":
        """Built once per ``Pools`` (the seed job builds it ahead, on its pools thread)."""
        if getattr(pools, "_encoded", None) is None:
            pools._encoded = cls(pools)
        return pools._encoded

    def __init__(self, pools) -> None:
        self.titles = Pool(pools.titles)
        self.descriptions = Pool(pools.descriptions, nullable=True)
        self.status = Pool([pools.status_text[s] for s in ("pending", "completed", "overdue")])
        codes = {"completed": COMPLETED, "overdue": OVERDUE}
        self.status_codes = np.array([codes.get(s, PENDING) for s in pools.statuses], dtype=np.int64)
        self.priorities = Pool(pools.priorities)
        self.estimates = Pool(pools.estimates, nullable=True)
        self.tag_counts = np.array(pools.tag_counts, dtype=np.int64)
        self.themes = Pool(pools.themes)
        self.password_hashes = Pool(pools.password_hashes)
        self.list_names = Pool(pools.list_names)
        self.tag_names = Pool(pools.tag_names)

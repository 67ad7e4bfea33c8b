"""Binary COPY rows assembled a chunk at a time with numpy.

A chunk is built column by column: each column is a fixed-width byte matrix (UUIDs, integers,
timestamps, row headers), the same with NULL for some rows, indexes into a pool of values already
encoded with their length word (names, titles, enumerations, JSON documents), or text composed of
parts (a pool value, a number, a constant: ``first.last.17@example.com``). ``assemble`` computes
every field's offset in the chunk from the lengths and scatters each column into one buffer: no
per-row Python.

The draws come from streams.py (counter-based, the same on every machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from todoctl.core.seed.streams import Stream, hashed

NULL = b"\xff\xff\xff\xff"
_UUID_VERSION_CLEAR, _UUID_VERSION_SET = np.uint64(~0xF000 & (2**64 - 1)), np.uint64(0x4000)
_UUID_VARIANT_CLEAR, _UUID_VARIANT_SET = np.uint64(~(0xC000 << 48) & (2**64 - 1)), np.uint64(0x8000 << 48)


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
    return np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(len(values), -1)


def uuid_words(k1: int, k2: int, rows: np.ndarray) -> np.ndarray:
    """Version-4 UUID fields (length word + 16 bytes) as pure functions of the row numbers."""
    words = np.empty((len(rows), 2), dtype=np.uint64)
    words[:, 0] = (hashed(k1, rows) & _UUID_VERSION_CLEAR) | _UUID_VERSION_SET
    words[:, 1] = (hashed(k2, rows) & _UUID_VARIANT_CLEAR) | _UUID_VARIANT_SET
    return _fields(_big_endian(words.ravel(), ">u8").reshape(len(rows), 16))


def uuids(stream: Stream, n: int) -> np.ndarray:
    """``n`` random version-4 UUID fields (length word + 16 bytes): an (n, 20) uint8 matrix."""
    words = stream.raw(2 * n).reshape(n, 2)
    words[:, 0] = (words[:, 0] & _UUID_VERSION_CLEAR) | _UUID_VERSION_SET
    words[:, 1] = (words[:, 1] & _UUID_VARIANT_CLEAR) | _UUID_VARIANT_SET
    return _fields(_big_endian(words.ravel(), ">u8").reshape(n, 16))


def timestamps(microseconds: np.ndarray) -> np.ndarray:
    """timestamp(tz) fields (length word + int64 microseconds since 2000-01-01): (n, 12) uint8."""
    return _fields(_big_endian(microseconds, ">i8"))


def int2s(values: np.ndarray) -> np.ndarray:
    return _fields(_big_endian(values, ">i2"))


def int4s(values: np.ndarray) -> np.ndarray:
    """int4 fields (length word 4 + big-endian int32): (n, 8) uint8."""
    return _fields(_big_endian(values, ">i4"))


def int8s(values: np.ndarray) -> np.ndarray:
    return _fields(_big_endian(values, ">i8"))


def float4s(values: np.ndarray) -> np.ndarray:
    return _fields(_big_endian(values, ">f4"))


def float8s(values: np.ndarray) -> np.ndarray:
    return _fields(_big_endian(values, ">f8"))


def bools(values: np.ndarray) -> np.ndarray:
    return _fields(values.astype(np.uint8).reshape(-1, 1))


def intervals(microseconds: np.ndarray) -> np.ndarray:
    """interval fields: int64 microseconds, int32 days (0), int32 months (0)."""
    payload = np.zeros((len(microseconds), 16), dtype=np.uint8)
    payload[:, :8] = _big_endian(microseconds, ">i8")
    return _fields(payload)


def inet4s(addresses: np.ndarray, cidr: bool = False) -> np.ndarray:
    """inet/cidr fields of IPv4 addresses (uint32): family 2, 32 bits, is_cidr, 4 bytes."""
    payload = np.empty((len(addresses), 8), dtype=np.uint8)
    payload[:, :4] = np.array([2, 32, int(cidr), 4], dtype=np.uint8)
    payload[:, 4:] = _big_endian(addresses, ">u4")
    return _fields(payload)


def numerics(scaled: np.ndarray, scale: int, integer_digits: int) -> np.ndarray:
    """numeric fields from int64 values scaled by ``10**scale`` (12.34 at scale 2 is 1234), with
    room for ``integer_digits`` digits before the point (at most 15 digits in all): every value
    written with the same number of base-10000 digits; the server strips the zeros."""
    frac_groups = -(-scale // 4)
    int_groups = max(1, -(-integer_digits // 4))
    groups = int_groups + frac_groups
    magnitude = np.abs(scaled).astype(np.int64) * (10 ** (4 * frac_groups - scale))
    n = len(scaled)
    payload = np.empty((n, 8 + 2 * groups), dtype=np.uint8)
    head = np.array([groups, int_groups - 1, 0, scale], dtype=">i2").view(np.uint8)
    payload[:, :8] = head
    payload[:, 4:6] = np.where(scaled < 0, 0x40, 0).astype(np.uint8)[:, None] * np.array([1, 0], dtype=np.uint8)
    for g in range(groups):
        digit = (magnitude // (10_000 ** (groups - 1 - g))) % 10_000
        payload[:, 8 + 2 * g : 10 + 2 * g] = _big_endian(digit, ">u2")
    return _fields(payload)


def constant(value: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (n, len(value)))


def text(value: str) -> bytes:
    """One text field: length word and UTF-8 bytes."""
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


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


def _gather(buffer: np.ndarray, destinations: np.ndarray, data: np.ndarray, sources: np.ndarray, lengths: np.ndarray) -> None:
    """Copy ``lengths[i]`` bytes from ``data[sources[i]:]`` to ``buffer[destinations[i]:]``, for all i at once."""
    before = np.cumsum(lengths) - lengths  # where each value starts in the run of all of them
    position = np.arange(int(lengths.sum()), dtype=np.int64)
    buffer[position + np.repeat(destinations - before, lengths)] = data[position + np.repeat(sources - before, lengths)]


@dataclass(frozen=True)
class Pick:
    """``pool`` values by index (``pool.null`` for NULL)."""

    pool: Pool
    index: np.ndarray

    def lengths(self, n: int) -> np.ndarray:
        return self.pool.lengths[self.index]

    def write(self, buffer: np.ndarray, starts: np.ndarray) -> None:
        _gather(buffer, starts, self.pool.data, self.pool.starts[self.index], self.pool.lengths[self.index])


@dataclass(frozen=True)
class Part:
    """One part of a composed text value: a pool value without its length word (``index``), the
    decimal digits of ``number``, or ``constant`` bytes. ``present`` (optional) leaves it out of some rows."""

    pool: Pool | None = None
    index: np.ndarray | None = None
    number: np.ndarray | None = None
    constant: bytes = b""
    present: np.ndarray | None = None

    def lengths(self, n: int) -> np.ndarray:
        if self.pool is not None:
            out = self.pool.lengths[self.index] - 4
        elif self.number is not None:
            out = _digit_count(self.number)
        else:
            out = np.full(n, len(self.constant), dtype=np.int64)
        return out if self.present is None else np.where(self.present, out, 0)

    def write(self, buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        if self.pool is not None:
            _gather(buffer, starts, self.pool.data, self.pool.starts[self.index] + 4, lengths)
        elif self.number is not None:
            _write_digits(buffer, starts, np.asarray(self.number, dtype=np.int64), lengths)
        elif self.constant:
            data = np.frombuffer(self.constant, dtype=np.uint8)
            _gather(buffer, starts, data, np.zeros(len(starts), dtype=np.int64), lengths)


def _digit_count(numbers: np.ndarray) -> np.ndarray:
    numbers = np.asarray(numbers, dtype=np.int64)
    count = np.ones(len(numbers), dtype=np.int64)
    bound = 10
    while True:
        more = numbers >= bound
        if not more.any():
            return count
        count += more
        bound *= 10


def _write_digits(buffer: np.ndarray, starts: np.ndarray, numbers: np.ndarray, lengths: np.ndarray) -> None:
    """The decimal digits of non-negative ``numbers`` (``lengths`` of them, 0 to skip a row)."""
    width = int(lengths.max()) if len(lengths) else 0
    if width == 0:
        return
    digits = np.empty((len(numbers), width), dtype=np.uint8)
    rest = numbers.copy()
    for column in range(width - 1, -1, -1):
        digits[:, column] = (rest % 10 + 48).astype(np.uint8)
        rest //= 10
    taken = np.arange(width) >= (width - lengths)[:, None]
    total = int(lengths.sum())
    before = np.cumsum(lengths) - lengths
    buffer[np.arange(total) + np.repeat(starts - before, lengths)] = digits[taken]


@dataclass(frozen=True)
class Concat:
    """Text composed of ``parts`` in every row where ``present`` (NULL elsewhere)."""

    parts: tuple[Part, ...]
    present: np.ndarray | None = None

    def _part_lengths(self, n: int) -> list[np.ndarray]:
        return [part.lengths(n) for part in self.parts]

    def lengths(self, n: int) -> np.ndarray:
        total = 4 + sum(self._part_lengths(n))
        return total if self.present is None else np.where(self.present, total, 4)

    def write(self, buffer: np.ndarray, starts: np.ndarray) -> None:
        n = len(starts)
        lengths = self._part_lengths(n)
        size = sum(lengths)
        words = _big_endian(size.astype(np.int64), ">i4")
        if self.present is not None:
            words[~self.present] = 0xFF
            lengths = [np.where(self.present, length, 0) for length in lengths]
        buffer[starts[:, None] + np.arange(4)] = words
        at = starts + 4
        for part, length in zip(self.parts, lengths):
            part.write(buffer, at, length)
            at = at + length


Column = Fixed | Maybe | Pick | Concat


def assemble(n: int, columns: Sequence[Column]) -> bytes:
    """``n`` binary COPY rows from their columns, in order (the row header is a column too).

    Columns are written left to right, so a write may spill past its field into the ones after it
    in the row, which are written later: consecutive fixed-width columns are written as one, and a
    fixed-width column with NULLs is written whole in every row (then the NULL markers over it)
    wherever the rest of every row is longer than the spill."""
    if n == 0:
        return b""
    columns = _merged(list(columns), n)
    lengths = np.stack([column.lengths(n) for column in columns], axis=1)  # (n, columns)
    flat = lengths.ravel()
    starts = (np.cumsum(flat) - flat).reshape(n, len(columns))
    after = np.cumsum(lengths[:, ::-1], axis=1)[:, ::-1]  # bytes from each field to the row's end
    buffer = np.empty(int(flat.sum()), dtype=np.uint8)
    for i, column in enumerate(columns):
        if isinstance(column, Maybe) and int(after[:, i].min()) >= column.matrix.shape[1]:
            buffer[starts[:, i][:, None] + np.arange(column.matrix.shape[1])] = column.matrix
            buffer[starts[:, i][~column.present][:, None] + np.arange(len(NULL))] = 0xFF
            continue
        column.write(buffer, starts[:, i])
    return buffer.tobytes()


def _merged(columns: list, n: int) -> list:
    """Consecutive Fixed columns as one (one scatter instead of several)."""
    out: list = []
    for column in columns:
        if isinstance(column, Fixed) and out and isinstance(out[-1], Fixed):
            out[-1] = Fixed(np.hstack([out[-1].matrix, column.matrix]))
        else:
            out.append(column)
    return out

"""A chunk's drawn values before they are encoded, and the encoding of each kind of column.

Generators return one of three shapes per column:

    Numbers    a typed numpy array (integers, floats, numeric scaled by 10**scale, booleans,
               timestamps in microseconds and dates in days since 2000-01-01, UUID fields)
    Picks      indexes into a ValuePool of values encoded once per run (text, enumerations, JSON,
               arrays, anything of a finite list)
    Composed   text made of parts: pool values, numbers, constants (first.last.17@example.com)

each with an optional NULL mask. Hooks read and write them through hooks.Rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
import json
import struct

import numpy as np

import todoctl.core.seed.encode as e

PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
PG_EPOCH_DATE = date(2000, 1, 1)
SECOND = 1_000_000
DAY = 86_400 * SECOND
# numpy's datetime64 counts from 1970; PostgreSQL's binary format from 2000-01-01.
EPOCH_SHIFT_US = 946_684_800 * SECOND
EPOCH_SHIFT_DAYS = 10_957

COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"

# Element types of arrays whose element type is built in (others are looked up in the catalog).
BUILTIN_OIDS = {"bool": 16, "bytea": 17, "int8": 20, "int2": 21, "int4": 23, "text": 25, "json": 114,
                "float4": 700, "float8": 701, "inet": 869, "cidr": 650, "date": 1082, "time": 1083,
                "timestamp": 1114, "timestamptz": 1184, "interval": 1186, "numeric": 1700, "uuid": 2950,
                "jsonb": 3802}  # fmt: skip


def timestamp_us(moment: datetime) -> int:
    """Microseconds since PostgreSQL's epoch (2000-01-01 UTC), the binary timestamp value."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment.astimezone(timezone.utc) - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


@dataclass
class Numbers:
    data: np.ndarray
    null: np.ndarray | None = None


class ValuePool:
    """Python values encoded once (each a COPY field with its length word); the last index is NULL."""

    def __init__(self, values: list, field) -> None:
        self.values = list(values)
        self.encoded = e.Pool([field(v) for v in self.values], nullable=True)
        self.size = len(self.values)
        self._array: np.ndarray | None = None
        self._index: dict | None = None

    @property
    def null(self) -> int:
        return self.size

    def array(self) -> np.ndarray:
        """The values as a numpy array, the NULL index "" (hooks read NULLs with isnull): a string
        array where that is small (comparisons in C), else an object array."""
        if self._array is None:
            texts = all(isinstance(v, str) for v in self.values)
            longest = max((len(v) for v in self.values), default=0) if texts else 0
            if texts and (self.size + 1) * max(longest, 1) <= 1 << 20:
                self._array = np.array([*self.values, ""], dtype=f"<U{max(longest, 1)}")
            else:
                out = np.empty(self.size + 1, dtype=object)
                out[: self.size] = self.values
                out[self.size] = ""
                self._array = out
        return self._array

    def index_of(self, value) -> int | None:
        if self._index is None:
            self._index = {}
            for i, v in enumerate(self.values):
                self._index.setdefault(_hashable(v), i)
        return self._index.get(_hashable(value))


def _hashable(value):
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, (list, dict)) else value


@dataclass
class Picks:
    index: np.ndarray
    pool: ValuePool
    null: np.ndarray | None = None


@dataclass
class Composed:
    """Text from parts, each ("pool", ValuePool, index) | ("number", array) | ("constant", str),
    optionally with a mask of the rows it is in (a 4th item)."""

    parts: list[tuple]
    null: np.ndarray | None = None


Values = Numbers | Picks | Composed


# ---------------------------------------------------------------- one Python value as a COPY field


def field_encoder(column, *, element_oid: int | None = None):
    """A function: Python value -> binary COPY field (length word included), for ``column``'s kind."""
    kind = column.kind
    if kind in ("text", "enum"):
        return lambda v: e.text(str(v))
    if kind == "json":
        return lambda v: e.text(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    if kind == "jsonb":
        return lambda v: _with_length(b"\x01" + (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)).encode())
    if kind == "bytea":
        return lambda v: _with_length(bytes(v) if not isinstance(v, str) else v.encode())
    if kind == "array":
        item = field_encoder(column.item)
        oid = element_oid or BUILTIN_OIDS.get(column.item.kind)
        if oid is None:
            raise ValueError(f"the element type of {column.name} is not known yet")
        return lambda v: _array(v, item, oid)
    scalar = _scalar_payload(column)
    return lambda v: _with_length(scalar(v))


def _with_length(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _array(values, item, oid: int) -> bytes:
    values = list(values)
    if not values:
        return _with_length(struct.pack(">iiI", 0, 0, oid))
    nulls = any(v is None for v in values)
    body = b"".join(e.NULL if v is None else item(v) for v in values)
    return _with_length(struct.pack(">iiIii", 1, int(nulls), oid, len(values), 1) + body)


def _scalar_payload(column):
    """Python value -> the binary payload (no length word) of a fixed-width or numeric kind."""
    kind = column.kind
    if kind == "int2":
        return lambda v: struct.pack(">h", int(v))
    if kind == "int4":
        return lambda v: struct.pack(">i", int(v))
    if kind == "int8":
        return lambda v: struct.pack(">q", int(v))
    if kind == "float4":
        return lambda v: struct.pack(">f", float(v))
    if kind == "float8":
        return lambda v: struct.pack(">d", float(v))
    if kind == "bool":
        return lambda v: b"\x01" if v else b"\x00"
    if kind == "numeric":
        from psycopg.types.numeric import DecimalBinaryDumper

        dumper = DecimalBinaryDumper(Decimal)
        return lambda v: bytes(dumper.dump(Decimal(str(v))))
    if kind == "uuid":
        import uuid

        return lambda v: uuid.UUID(str(v)).bytes
    if kind == "date":
        return lambda v: struct.pack(">i", (to_date(v) - PG_EPOCH_DATE).days)
    if kind in ("timestamp", "timestamptz"):
        return lambda v: struct.pack(">q", timestamp_us(to_datetime(v)))
    if kind == "time":
        return lambda v: struct.pack(">q", _time_us(v))
    if kind == "interval":
        return lambda v: struct.pack(">qii", int(v.total_seconds() * SECOND) if isinstance(v, timedelta) else int(v), 0, 0)
    if kind in ("inet", "cidr"):
        import ipaddress

        def inet(v):
            address = ipaddress.ip_address(str(v))
            family, bits = (2, 32) if address.version == 4 else (3, 128)
            return bytes([family, bits, int(kind == "cidr"), len(address.packed)]) + address.packed

        return inet
    raise ValueError(f"no encoder for {kind}")


def to_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def to_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _time_us(value) -> int:
    if isinstance(value, time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * SECOND + value.microsecond
    return _time_us(time.fromisoformat(str(value)))


# ---------------------------------------------------------------- a column of a chunk, encoded


def encode_column(column, values: Values, n: int, *, scale: int = 0) -> e.Column:
    """The encode.py column for ``values`` of ``column`` (a schema.Column)."""
    if isinstance(values, Picks):
        index = values.index if values.null is None else np.where(values.null, values.pool.null, values.index)
        return e.Pick(values.pool.encoded, index)
    if isinstance(values, Composed):
        parts = []
        for part in values.parts:
            present = part[3] if len(part) > 3 else None
            if part[0] == "pool":
                parts.append(e.Part(pool=part[1].encoded, index=part[2], present=present))
            elif part[0] == "number":
                parts.append(e.Part(number=part[1], present=present))
            else:
                parts.append(e.Part(constant=part[1].encode(), present=present))
        return e.Concat(tuple(parts), None if values.null is None else ~values.null)
    matrix = fixed_matrix(column, values.data, scale=scale)
    if values.null is None:
        return e.Fixed(matrix)
    return e.Maybe(matrix, ~values.null)


def fixed_matrix(column, data: np.ndarray, *, scale: int = 0) -> np.ndarray:
    kind = column.kind
    if data.ndim == 2 and data.dtype == np.uint8:
        return data  # already fields (UUIDs, hex text): length word and bytes
    if kind == "int2":
        return e.int2s(data)
    if kind == "int4":
        return e.int4s(data)
    if kind in ("int8",):
        return e.int8s(data)
    if kind == "float4":
        return e.float4s(data)
    if kind == "float8":
        return e.float8s(data)
    if kind == "bool":
        return e.bools(data)
    if kind in ("timestamp", "timestamptz", "time"):
        return e.timestamps(data)
    if kind == "date":
        return e.int4s(data)
    if kind == "interval":
        return e.intervals(data)
    if kind in ("inet", "cidr"):
        return e.inet4s(data, cidr=kind == "cidr")
    if kind == "numeric":
        digits = (column.precision or 15) - (column.scale if column.scale is not None else scale)
        return e.numerics(data, column.scale if column.scale is not None else scale, max(1, min(digits, 15)))
    raise ValueError(f"no fixed-width encoding for {kind}")


def picks_of(column, data: np.ndarray, pool: ValuePool | None, cache: dict) -> Picks:
    """Values a hook wrote (None for NULL in an object array) as picks: from the column's own
    pool where they are its values, else from a small pool of them."""
    null = None
    if data.dtype == object:
        missing = np.array([v is None for v in data], dtype=bool)
        if missing.any():
            null = missing
            data = np.where(missing, "", data)
        data = data.astype(str)
    if pool is not None and pool.size <= 64 and data.dtype.kind == "U":
        # A few values (statuses): one comparison per value of the pool, in C.
        index = np.full(len(data), -1, dtype=np.int64)
        for i, value in enumerate(pool.values):
            if isinstance(value, str):
                index[data == value] = i
        if (index >= 0).all():
            return Picks(index, pool, null)
    unique, inverse = np.unique(data, return_inverse=True)
    inverse = inverse.astype(np.int64).ravel()
    if pool is not None:
        found = [pool.index_of(str(u)) for u in unique]
        if all(i is not None for i in found):
            return Picks(np.array(found, dtype=np.int64)[inverse], pool, null)
    key = (column.name, tuple(unique.tolist()))
    made = cache.get(key)
    if made is None:
        made = ValuePool([str(u) for u in unique], field_encoder(column))
        if len(unique) <= 256:
            cache[key] = made
    return Picks(inverse, made, null)


def texts_of(values: Composed, n: int) -> list:
    out = [""] * n
    for part in values.parts:
        present = part[3] if len(part) > 3 else None
        if part[0] == "pool":
            texts = [part[1].values[i] for i in part[2]]
        elif part[0] == "number":
            texts = [str(int(x)) for x in part[1]]
        else:
            texts = [part[1]] * n
        for i in range(n):
            if present is None or present[i]:
                out[i] += str(texts[i])
    if values.null is not None:
        out = [None if values.null[i] else out[i] for i in range(n)]
    return out

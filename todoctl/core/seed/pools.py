"""Value pools for seeding: word lists from ``seeds/words/``, drawn once with the seeded
generator and encoded once in PostgreSQL's binary COPY format.

Drawing from pre-encoded pools is what makes seeding fast: rows/encode.py gathers them by
index a chunk at a time; no Faker call, no datetime object, no per-value adapter.

Everything ``Pools`` needs is imported with this module, none of it when the pools are
composed: the seed job composes them on a thread while its main thread imports psycopg's
adapters, and two threads importing one module at once can end in Python's import deadlock.
"""

from __future__ import annotations

import random
import struct
from datetime import datetime, timezone
from decimal import Decimal

from psycopg.types.numeric import DecimalBinaryDumper

from todoctl.core.seed.text import Writer
from todoctl.core.seed.wordlists import words

# ---------------------------------------------------------------- binary COPY encoding

COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"
PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
SECOND = 1_000_000
DAY = 86_400 * SECOND

_TEXT_LENGTH = struct.Struct(">i").pack


def text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _TEXT_LENGTH(len(data)) + data


def numeric(value: Decimal) -> bytes:
    data = bytes(DecimalBinaryDumper(Decimal).dump(value))
    return _TEXT_LENGTH(len(data)) + data


def timestamp_us(moment: datetime) -> int:
    """Microseconds since PostgreSQL's epoch (2000-01-01 UTC), the binary timestamptz value."""
    delta = moment.astimezone(timezone.utc) - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


def table(weights: dict[str, float] | tuple[float, ...], values: list, size: int = 1024) -> list:
    """A lookup table of ``size`` entries in which each value appears in proportion to its weight.

    ``table[int(random() * size)]`` is then a weighted draw at the cost of a list index.
    """
    ws = list(weights.values()) if isinstance(weights, dict) else list(weights)
    total = sum(ws)
    out: list = []
    cumulative = 0.0
    for weight, value in zip(ws, values):
        cumulative += weight
        out.extend([value] * (round(cumulative / total * size) - len(out)))
    return out


ESTIMATED_HOURS = {  # hours: weight
    "0.25": 4, "0.50": 8, "1.00": 12, "1.50": 5, "2.00": 10, "3.00": 6, "4.00": 6,
    "6.00": 3, "8.00": 4, "12.00": 1.5, "16.00": 1, "24.00": 0.6, "40.00": 0.4,
}  # fmt: skip


class Pools:
    """Everything drawn per row, prepared once per run from the seed."""

    # Distinct titles and descriptions per run, at most: enough that a heavy user rarely sees one
    # twice and the vocabulary's long tail occurs. Composed once per run (start-up time, not time
    # per row), so a run with few tasks composes fewer.
    TITLES = 32768
    DESCRIPTIONS = 8192
    MIN_POOL = 1024

    def __init__(self, seed: int, profile) -> None:
        rng = random.Random(f"todoctl-seed/{seed}/pools")
        self.first_names = words("first_names")
        self.last_names = words("last_names")
        self.password_hashes = [text(h) for h in words("password_hashes")]
        self.list_names = [text(n) for n in words("list_names")]
        self.tag_names = [text(n) for n in words("tag_names")]
        self.themes = table(profile.themes, [text(t) for t in profile.themes])
        self.statuses = table(profile.status, list(profile.status))
        self.status_text = {s: text(s) for s in profile.status}
        self.priorities = table(profile.priority, [text(p) for p in profile.priority])
        self.estimates = table(ESTIMATED_HOURS, [numeric(Decimal(h)) for h in ESTIMATED_HOURS])
        self.tag_counts = table(profile.tags_per_task, list(range(len(profile.tags_per_task))))
        writer = Writer(rng)
        tasks = profile.total_tasks
        self.titles = [text(t) for t in writer.titles(_pool_size(tasks, self.TITLES, self.MIN_POOL))]
        self.descriptions = [text(d) for d in writer.descriptions(_pool_size(tasks // 4, self.DESCRIPTIONS, self.MIN_POOL))]


def _pool_size(wanted: int, most: int, least: int) -> int:
    """The power of two at or above ``wanted``, within ``least..most``."""
    return max(least, min(most, 1 << max(0, wanted - 1).bit_length()))


"""Block-read counters now, and the window since an earlier reading: what cache-hit judges.

PostgreSQL's counters (``pg_stat_database.blks_hit``/``blks_read``) add up everything since the last
stats reset, so one bulk load months ago (or a minute ago) would colour the ratio for ever.
Health judges a *window* instead: the difference between two readings, taken either during the
run (``--sample SECONDS``) or since the reading an earlier run recorded.

A reading is recorded in ``TODOCTL_HOME/health/counters-<key>.json`` (top-queries keeps its own,
``statements-<key>.json``), written atomically, mode 0600; health never writes to the database. The key names the counters' identity: the URL's host and port, the
server's system identifier, the database's oid and name and its ``stats_reset``. Counters that
went backwards (a reset, a restarted Neon compute) make the earlier reading unusable.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from todoctl.core.health.registry import Context

# Per relation (table with its indexes and TOAST): misses, and its size in blocks, so that the
# first read of each block (a cold cache, a one-off bulk read) can be told from a re-read. The size
# is pg_class.relpages (kept by VACUUM and ANALYZE), not pg_relation_size(), which would take a lock
# and could wait behind a migration; a stale, smaller size only makes the check stricter.
_RELATIONS = (
    "SELECT s.relid::text AS relid, "
    "coalesce(s.heap_blks_read, 0) + coalesce(s.idx_blks_read, 0) + coalesce(s.toast_blks_read, 0) "
    "+ coalesce(s.tidx_blks_read, 0) AS misses, "
    "c.relpages::bigint + coalesce(tc.relpages, 0) + coalesce((SELECT sum(i.relpages) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid IN (c.oid, c.reltoastrelid)), 0) AS blocks, "
    "coalesce(st.n_tup_ins, 0) AS inserted, coalesce(st.n_live_tup, 0) AS live "
    "FROM pg_statio_all_tables s JOIN pg_class c ON c.oid = s.relid "
    "LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid "
    "LEFT JOIN pg_stat_all_tables st ON st.relid = s.relid"
)
_DATABASE = (
    "SELECT d.datid, d.datname, d.stats_reset::text AS stats_reset, d.blks_hit, d.blks_read, "
    "extract(epoch FROM clock_timestamp())::float8 AS taken_at FROM pg_stat_database d "
    "WHERE d.datname = current_database()"
)


@dataclass
class Reading:
    key: str
    taken_at: float  # server clock, epoch seconds
    blks_hit: int
    blks_read: int
    # relid -> [misses, blocks, rows inserted, live rows]
    relations: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Window:
    """What happened between two readings."""

    source: str  # "sample" (measured during this run) | "since-last-run"
    seconds: float
    hits: int
    misses: int
    first_read_misses: int  # misses that can be each block's first read in the window
    load_misses: int = 0  # misses on tables (re)loaded in the window: the load's own reads

    @property
    def blocks(self) -> int:
        return self.hits + self.misses

    @property
    def reread_misses(self) -> int:
        return self.misses - self.first_read_misses - self.load_misses


def _system_identifier(ctx: "Context") -> str:
    from sqlalchemy.exc import DBAPIError

    from todoctl.core.health.registry import query

    try:
        return str(query(ctx, "SELECT system_identifier FROM pg_control_system()")[0][0])
    except DBAPIError:  # a role without EXECUTE on it: the URL's host and port still tell servers apart
        return "unknown"


def identity(ctx: "Context", *extra: str) -> tuple[str, float]:
    """A stable key for this database's counters (hashed: the file name says nothing) and the server's clock."""
    from todoctl.core.health.registry import query

    db = query(ctx, _DATABASE)[0]
    parts = [
        ctx.url.display,  # host, port and database: never the password
        _system_identifier(ctx),
        str(db.datid),
        db.datname,
        db.stats_reset or "never",
        *extra,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24], float(db.taken_at)


def read(ctx: "Context") -> Reading:
    """The block counters now (read-only queries under health's statement timeout)."""
    from todoctl.core.health.registry import query

    db = query(ctx, _DATABASE)[0]
    key, _ = identity(ctx)
    relations = {r.relid: [int(r.misses), int(r.blocks), int(r.inserted), int(r.live)] for r in query(ctx, _RELATIONS)}
    return Reading(key, float(db.taken_at), int(db.blks_hit or 0), int(db.blks_read or 0), relations)


def window(before: Reading, after: Reading, source: str) -> Window | None:
    """The window between two readings of the same counters; None when they went backwards (a reset)."""
    if before.key != after.key or after.blks_hit < before.blks_hit or after.blks_read < before.blks_read:
        return None
    first_reads = loads = 0
    for relid, (misses, blocks, inserted, live) in after.relations.items():
        earlier_misses, _, earlier_inserted, _ = before.relations.get(relid, [0, 0, 0, 0])
        new_misses = max(misses - earlier_misses, 0)
        new_rows = max(inserted - earlier_inserted, 0)
        if new_rows and new_rows * 2 >= live:
            # Most of the table was written in the window (a seed, a restore, a backfill): its index
            # builds, constraint checks and ANALYZE re-read it, which says nothing about the app's cache.
            loads += new_misses
        else:
            # Read no more than once over in the window: possibly each block's first read (cold cache,
            # a one-off bulk read), not a sign that the working set does not fit.
            first_reads += min(new_misses, max(blocks, 0))
    misses = after.blks_read - before.blks_read
    loads = min(loads, misses)
    return Window(
        source=source,
        seconds=max(after.taken_at - before.taken_at, 0.0),
        hits=after.blks_hit - before.blks_hit,
        misses=misses,
        first_read_misses=min(first_reads, misses - loads),
        load_misses=loads,
    )


# ---------------------------------------------------------------- the recorded reading


def store_dir() -> Path:
    from todoctl.paths import todoctl_home

    return todoctl_home() / "health"


def _path(kind: str, key: str) -> Path:
    return store_dir() / f"{kind}-{key}.json"


def load_record(kind: str, key: str) -> dict | None:
    """The record an earlier run left for ``kind`` and ``key``; an unreadable one counts as none."""
    try:
        data = json.loads(_path(kind, key).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def save_record(kind: str, key: str, data: dict) -> bool:
    """Record ``data`` atomically, readable by the owner only; False if it could not be written."""
    directory = store_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=directory)  # created 0600
        try:
            with os.fdopen(fd, "w") as out:
                json.dump({**data, "key": key}, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, _path(kind, key))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return False  # a read-only home must not make health fail: the next run just has no baseline
    return True


def load(key: str) -> Reading | None:
    """The block counters an earlier run recorded for this database, if any."""
    data = load_record("counters", key)
    try:
        reading = Reading(**data) if data else None
    except TypeError:
        return None
    if reading is None or any(not isinstance(v, list) or len(v) != 4 for v in reading.relations.values()):
        return None
    return reading


def save(reading: Reading) -> bool:
    return save_record("counters", reading.key, asdict(reading))

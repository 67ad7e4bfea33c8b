"""Seed: fast, deterministic, realistic data for every app table, in one transaction.

The profile (``seeds/*.toml``) sets counts, distributions and the reference time; options
override it. Same seed, profile and todoctl version give identical tables, UUIDs and
timestamps included, which ``fingerprint`` shows.

    report = seed.run(url, profile="small", seed=7)
    report.fingerprint == seed.fingerprint(url)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from todoctl.core.seed import load as seed_load
from todoctl.core.seed import profile as seed_profile
from todoctl.core.seed.produce import Producer
from todoctl.core.seed.profile import Profile
from todoctl.core.seed.rows import COLUMNS
from todoctl.core.shared.revision_gate import require_head
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError, usage_error

MODES = ("refuse", "append", "truncate")
# Below this many rows, keeping indexes and foreign keys in place is as fast as rebuilding.
REBUILD_INDEXES_FROM_ROWS = 100_000
# Primary keys and unique indexes go too (measured, bench/RESULTS.md: random UUID keys make
# per-row index inserts the biggest cost after the search vector); uniqueness is checked when
# they are rebuilt, still inside the transaction.
REBUILD_KEYS = True
# Indexes kept in place during a bulk load, maintained row by row by the COPY (see bench/RESULTS.md).
KEEP_DURING_COPY: frozenset[str] = frozenset()

# (table or phase, done, total): tables in COLUMNS order, then phases "indexes" and "analyze".
Progress = Callable[[str, int, int], None]
# What draws the rows: rows.Generator, or (bench/seed.py, for the floor) rows drawn beforehand.
RowSource = Callable[..., object]


@dataclass
class TableLoad:
    table: str
    rows: int
    seconds: float

    __json_properties__ = ("rows_per_second",)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SeedReport:
    database: str
    profile: str
    seed: int
    tables: list[TableLoad]
    seconds: float
    fingerprint: str
    dry_run: bool
    mode: str = "refuse"
    reference_time: datetime | None = None
    users: int = 0
    tasks_per_user: float = 0.0
    # Time spent outside the COPYs: rebuilding indexes, ANALYZE, fingerprint.
    phases: dict[str, float] = field(default_factory=dict)
    rebuilt_indexes: bool = False

    __json_properties__ = ("rows",)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def check_not_protected(conn, url: DatabaseURL, *, yes: bool) -> None:
    """Refuse to seed (or truncate) a database marked as production by `todoctl db protect`,
    unless given both ``yes`` and TODOCTL_ALLOW_PRODUCTION=1 (exit 4). Read on the seed's own
    connection, before any table is locked."""
    from todoctl.core.shared import protect

    protect.refuse_if_protected(protect.read_with(conn.execute, url.display), url, "seed it", yes=yes)


def run(
    url: DatabaseURL | None,  # None only with dry_run (nothing is connected to)
    *,
    profile: str | Path = "demo",
    users: int | None = None,
    tasks_per_user: float | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    mode: str = "refuse",  # "refuse" | "append" | "truncate"
    progress: Progress | None = None,  # (table, done, total); ("indexes" | "analyze", done, total)
    dry_run: bool = False,
    yes: bool = False,  # with TODOCTL_ALLOW_PRODUCTION=1: allowed on a protected database
    rows: RowSource | None = None,  # (profile, first_user=N) -> a Generator-like; default rows.Generator
) -> SeedReport:
    """Fill users, task_lists, tags, tasks and task_tags; all of it commits or none of it does."""
    if mode not in MODES:
        raise usage_error(f"unknown seed mode {mode!r}", f"use one of {', '.join(MODES)}")
    chosen = seed_profile.with_options(
        seed_profile.load(profile), users=users, tasks_per_user=tasks_per_user, seed=seed, now=now
    )
    if dry_run:
        return _dry_run(url, chosen, mode)
    if url is None:
        raise usage_error("a database URL is needed unless dry_run=True", "pass the DatabaseURL to seed into")
    return _load(url, chosen, mode, progress, yes, rows)


def fingerprint(url: DatabaseURL) -> str:
    """Content fingerprint of the app tables (deterministic, order-independent)."""
    with seed_load.connect(url) as conn, seed_load.database_errors(url, "fingerprinting"):
        _require_schema(conn)
        value = seed_load.fingerprint(conn)
        conn.rollback()
        return value


def _require_schema(conn) -> None:
    missing = seed_load.missing_schema(conn)
    if missing:
        raise TodoctlError(
            f"the database lacks what the seed writes: {', '.join(missing)}",
            hint="bring the schema to head first: `todoctl migrate up`",
            exit_code=ExitCode.CHECK_FAILED,
        )


def _report(url: DatabaseURL | None, profile: Profile, mode: str, **kwargs) -> SeedReport:
    return SeedReport(
        database=url.database if url is not None else "embedded",
        profile=profile.name,
        seed=profile.seed,
        mode=mode,
        reference_time=profile.reference_time,
        users=profile.users,
        tasks_per_user=profile.tasks_per_user,
        **kwargs,
    )


def _dry_run(url: DatabaseURL | None, profile: Profile, mode: str) -> SeedReport:
    """The row counts a run would produce, computed without connecting (task_tags is the
    expected count: the exact one is only known once every task is drawn)."""
    from todoctl.core.seed.rows import Generator

    started = time.perf_counter()
    gen = Generator(profile)
    weights = profile.tags_per_task
    total_weight = sum(weights)
    expected_links = 0.0
    for n_tasks, n_tags in zip(gen.tasks_of, gen.tags_of):
        if n_tasks and n_tags:
            mean = sum(w * min(k, n_tags) for k, w in enumerate(weights)) / total_weight
            expected_links += n_tasks * mean
    counts = dict(gen.counts, task_tags=round(expected_links))
    tables = [TableLoad(t, counts[t], 0.0) for t in COLUMNS]
    return _report(url, profile, mode, tables=tables, seconds=time.perf_counter() - started, fingerprint="", dry_run=True)


def _load(
    url: DatabaseURL, profile: Profile, mode: str, progress: Progress | None, yes: bool, rows: RowSource | None
) -> SeedReport:
    from todoctl.core.seed.rows import Generator

    started = time.perf_counter()
    phases: dict[str, float] = {}
    # The value pools (a quarter of a second of composing titles on the load profile) are
    # drawn on a thread while the server checks the schema, locks the tables and drops indexes.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="todoctl-seed-pools") as ahead:
        pools = ahead.submit(_pools, profile) if rows is None else None
        with seed_load.connect(url) as conn:
            with seed_load.database_errors(url, "checking the tables"):
                filled = _prepare(conn, url, mode, yes=yes)
                first_user = seed_load.last_email_number(conn) + 1 if filled else 1
            deferred = None
            if not filled and profile.total_tasks + profile.users >= REBUILD_INDEXES_FROM_ROWS:
                with seed_load.database_errors(url, "dropping indexes for the bulk load"):
                    deferred = seed_load.defer_indexes(conn, keys=REBUILD_KEYS, keep=KEEP_DURING_COPY)
            if pools is not None:
                gen = Generator(profile, first_user=first_user, pools=pools.result())
            else:
                gen = rows(profile, first_user=first_user)
            with Producer(gen) as producer:
                loads, parts = _pipeline(conn, url, gen, producer, deferred, phases, progress)
            with seed_load.database_errors(url, "committing"), _timed(phases, "commit"):
                conn.commit()
    return _report(
        url,
        profile,
        mode,
        tables=loads,
        seconds=time.perf_counter() - started,
        fingerprint=seed_load.combine(parts),
        dry_run=False,
        phases=phases,
        rebuilt_indexes=deferred is not None,
    )


def _pools(profile: Profile):
    """The run's value pools, and their numpy gather tables (numpy's import included: nothing
    on the main thread imports numpy while this runs)."""
    from todoctl.core.seed.pools import Pools
    from todoctl.core.seed.rows.encode import EncodedPools

    pools = Pools(profile.seed, profile)
    EncodedPools.of(pools)
    return pools


def _pipeline(conn, url: DatabaseURL, gen, producer: Producer, deferred, phases: dict[str, float], progress):
    """Per table, in foreign-key order: COPY, then at once what the table alone allows (its keys
    and indexes back, foreign keys whose tables are both in, ANALYZE, its fingerprint part),
    while the producer thread draws the next tables. Return the loads and fingerprint parts."""
    loads: list[TableLoad] = []
    parts: dict[str, str] = {}
    pending = list(deferred.steps) if deferred is not None else []
    total_steps, steps_done = len(pending), 0
    loaded: set[str] = set()
    for number, table in enumerate(COLUMNS, 1):
        t0 = time.perf_counter()
        with seed_load.database_errors(url, f"loading {table}"):
            # The total of task_tags is known once tasks are drawn: the producer is past them now.
            count = seed_load.copy_rows(conn, table, producer.chunks(table), progress, lambda: gen.counts[table])
        loads.append(TableLoad(table, count, time.perf_counter() - t0))
        loaded.add(table)
        ready = [step for step in pending if step.needs <= loaded]
        pending = [step for step in pending if not step.needs <= loaded]
        with seed_load.database_errors(url, f"rebuilding the indexes and keys of {table}"):
            if ready:
                with _timed(phases, "indexes"):
                    steps_done = seed_load.restore_indexes(conn, ready, progress, steps_done, total_steps)
            with _timed(phases, "analyze"):
                seed_load.analyze(conn, [table])
            if progress is not None:
                progress("analyze", number, len(COLUMNS))
            with _timed(phases, "fingerprint"):
                parts[table] = seed_load.table_fingerprint(conn, table)
    return loads, parts


def _timed_add(phases: dict[str, float], name: str, seconds: float) -> None:
    phases[name] = phases.get(name, 0.0) + seconds


def _prepare(conn, url: DatabaseURL, mode: str, *, yes: bool) -> list[str]:
    """Check the schema and protection, lock the app tables, apply the mode; return the
    tables that (still) hold rows."""
    # At head, not merely "the tables exist": an older revision may lack a column or a CHECK
    # the rows rely on, and seeding it would leave data the next migration trips over.
    check_not_protected(conn, url, yes=yes)  # first: a protected database is refused whatever state it is in
    require_head(conn, url.display, "seed")
    seed_load.lock_tables(conn)
    filled = seed_load.tables_with_rows(conn)
    if filled and mode == "refuse":
        raise TodoctlError(
            f"the app tables of {url.display} already hold rows ({', '.join(filled)})",
            hint="pass --append to add more, or --truncate to empty them first",
            exit_code=ExitCode.REFUSED,
        )
    if filled and mode == "truncate":
        seed_load.truncate(conn)
        return []
    return filled


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _timed_add(phases, name, time.perf_counter() - t0)

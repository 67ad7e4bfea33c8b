"""Seed: fast, deterministic, realistic data for every table of the app's models, in one transaction.

The plan (plan.py) says, before any connection, how many rows each table gets and which
generator fills each column; the profile (``<seeds>/*.toml``) and the app's hooks refine it, and
options override it. Same seed, profile, models and todoctl version give identical tables, UUIDs
and timestamps included, which ``fingerprint`` shows.

    report = seed.run(url, profile="small", seed=7)
    report.fingerprint == seed.fingerprint(url)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import todoctl.core.seed.load as seed_load
import todoctl.core.seed.plan as seed_plan
import todoctl.core.seed.profile as seed_profile
from todoctl.core.seed.produce import Producer
from todoctl.core.safety.revision_gate import require_head
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError, usage_error
from todoctl.results import human_only

MODES = ("refuse", "append", "truncate")
# Below this many rows, keeping indexes and foreign keys in place is as fast as rebuilding.
REBUILD_INDEXES_FROM_ROWS = 100_000
# Primary keys and unique indexes go too (measured, bench/RESULTS.md: random UUID keys make
# per-row index inserts the biggest cost after the search vector); uniqueness is checked when
# they are rebuilt, still inside the transaction.
REBUILD_KEYS = True
# Indexes kept in place during a bulk load, maintained row by row by the COPY (see bench/RESULTS.md).
KEEP_DURING_COPY: frozenset[str] = frozenset()

# (table or phase, done, total): tables in load order, then phases "indexes" and "analyze".
Progress = Callable[[str, int, int], None]
# What draws the rows: rows.Run, or (bench/seed.py, for the floor) rows drawn beforehand.
RowSource = Callable[..., object]


@dataclass
class ColumnReport:
    column: str
    generator: str


@dataclass
class TableLoad:
    table: str
    rows: int
    duration_ms: float
    parent: str | None = None  # how the count came about: "root table", "20 per parent ... of users"
    columns: list[ColumnReport] = field(default_factory=list)

    __json_properties__ = ("rows_per_second",)

    @property
    def rows_per_second(self) -> float:
        return self.rows * 1000 / self.duration_ms if self.duration_ms > 0 else 0.0


@dataclass
class SeedReport:
    database: str = human_only()
    profile: str
    seed: int
    tables: list[TableLoad]
    duration_ms: float
    fingerprint: str
    dry_run: bool
    mode: str = "refuse"
    reference_time: datetime | None = None
    locale: str = seed_profile.DEFAULT_LOCALE
    users: int = 0  # rows of the app's users table (what --users sets), 0 if it has none
    # Time spent outside the COPYs: rebuilding indexes, ANALYZE, fingerprint.
    phases_ms: dict[str, float] = field(default_factory=dict)
    rebuilt_indexes: bool = False

    __json_properties__ = ("rows",)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def check_not_protected(conn, url: DatabaseURL, *, yes: bool) -> None:
    """Refuse to seed (or truncate) a database marked as production by `todoctl db protect`,
    unless given both ``yes`` and TODOCTL_ALLOW_PRODUCTION=1 (exit 4). Read on the seed's own
    connection, before any table is locked."""
    import todoctl.core.safety.protect as protect

    protect.refuse_if_protected(protect.read_with(conn.execute, url.display), url, "seed it", yes=yes)


def run(
    url: DatabaseURL | None,  # None only with dry_run (nothing is connected to)
    *,
    profile: str | Path | None = None,  # None: the app's demo profile, else the models alone
    rows: list[str] | None = None,  # --rows N / --rows TABLE=N
    users: int | None = None,
    seed: int | None = None,
    now: datetime | None = None,
    locale: str | None = None,
    mode: str = "refuse",  # "refuse" | "append" | "truncate"
    progress: Progress | None = None,  # (table, done, total); ("indexes" | "analyze", done, total)
    dry_run: bool = False,
    yes: bool = False,  # with TODOCTL_ALLOW_PRODUCTION=1: allowed on a protected database
    source: RowSource | None = None,  # (plan, offsets) -> a Run-like; default rows.Run
) -> SeedReport:
    """Fill every table of the app's models; all of it commits or none of it does."""
    if mode not in MODES:
        raise usage_error(f"unknown seed mode {mode!r}", f"use one of {', '.join(MODES)}")
    chosen = seed_profile.with_options(seed_profile.load(profile), rows=rows, users=users, seed=seed, now=now, locale=locale)
    plan = seed_plan.build(chosen)
    if dry_run:
        return _dry_run(url, plan, mode)
    if url is None:
        raise usage_error("a database URL is needed unless dry_run=True", "pass the DatabaseURL to seed into")
    _load_code(plan)
    return _load(url, plan, mode, progress, yes, source)


def _load_code(plan) -> None:
    """Import what the run uses (the driver, Alembic's view of the migrations, protection, Faker's
    providers for the locale) on this thread, before the pools thread starts (two threads importing
    one module at once can end in Python's import deadlock) and before the run's clock starts: the
    seed's seconds are the seed's work, as for rows drawn beforehand in a process that has these
    loaded already."""
    import alembic.runtime.migration  # noqa: F401
    import alembic.script  # noqa: F401
    import psycopg  # noqa: F401

    import todoctl.core.history  # noqa: F401
    import todoctl.core.safety.protect  # noqa: F401
    import todoctl.db.engine  # noqa: F401

    plan.sources.load_faker()


def fingerprint(url: DatabaseURL) -> str:
    """Content fingerprint of the app tables (deterministic, order-independent)."""
    from todoctl import project
    import todoctl.core.seed.schema as seed_schema

    schema = seed_schema.read(project.app_metadata())
    with seed_load.connect(url) as conn, seed_load.database_errors(url, "fingerprinting"):
        _require_tables(conn, schema)
        value = seed_load.fingerprint(conn, schema)
        conn.rollback()
        return value


def _require_tables(conn, schema) -> None:
    names = [t.quoted for t in schema.tables.values()]
    found = conn.execute("SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NULL", (names,)).fetchall()
    if found:
        raise TodoctlError(
            f"the database lacks the app's tables: {', '.join(r[0] for r in found)}",
            hint="bring the schema to head first: `todoctl migrate up`",
            exit_code=ExitCode.CHECK_FAILED,
        )


def _require_schema(conn, plan) -> None:
    missing = seed_load.missing_schema(conn, plan)
    if missing:
        raise TodoctlError(
            f"the database lacks what the seed writes: {', '.join(missing)}",
            hint="bring the schema to head first: `todoctl migrate up`",
            exit_code=ExitCode.CHECK_FAILED,
        )


def _report(url: DatabaseURL | None, plan, mode: str, **kwargs) -> SeedReport:
    profile = plan.profile
    users = plan.tables[plan.users_table].count if plan.users_table else 0
    return SeedReport(
        database=url.database if url is not None else "embedded",
        profile=profile.name,
        seed=profile.seed,
        mode=mode,
        reference_time=profile.reference_time,
        locale=plan.sources.locale,
        users=users,
        **kwargs,
    )


def _described(plan) -> dict[str, tuple[str, list[ColumnReport]]]:
    return {
        t.key: (t.shape(), [ColumnReport(c.name, t.describe(c)) for c in t.columns])
        for t in plan.tables.values()
    }


def _dry_run(url: DatabaseURL | None, plan, mode: str) -> SeedReport:
    """Every table's count and every column's generator, computed without connecting. The pools
    are composed too, so a value no constraint allows is found here as in a real run."""
    from todoctl.core.seed.rows import Run

    started = time.perf_counter()
    Run(plan).prepare()
    described = _described(plan)
    tables = [TableLoad(t.name, t.count, 0.0, described[t.key][0], described[t.key][1]) for t in plan.tables.values()]
    return _report(url, plan, mode, tables=tables, duration_ms=(time.perf_counter() - started) * 1000, fingerprint="", dry_run=True)


def _load(url: DatabaseURL, plan, mode: str, progress: Progress | None, yes: bool, source: RowSource | None) -> SeedReport:
    from todoctl.core.seed.rows import Offsets, Run

    started = time.perf_counter()
    phases: dict[str, float] = {}
    # The pools (Faker's values, word lists, the texts of text models) are composed on a thread,
    # table by table, and rows are drawn on another as soon as their table's pools are ready: from
    # the start, unless they must be numbered after rows already there (--append), while the
    # server checks the schema, locks the tables and drops indexes.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="todoctl-seed-pools") as ahead, ExitStack() as stack:
        run_ = Run(plan) if source is None else None
        producer = None
        if run_ is not None:
            stack.callback(run_.stop)  # on any way out: the pools thread stops, ``ahead`` need not wait for it
            ahead.submit(run_.prepare)
            if mode != "append":
                producer = stack.enter_context(Producer(run_))
        with seed_load.connect(url) as conn:
            with seed_load.database_errors(url, "checking the tables"):
                filled = _prepare(conn, url, mode, plan, yes=yes)
                offsets = seed_load.offsets(conn, plan) if filled else Offsets()
                element_oids = seed_load.element_types(conn, plan)
            deferred = None
            if not filled and plan.total_rows >= REBUILD_INDEXES_FROM_ROWS:
                with seed_load.database_errors(url, "dropping indexes for the bulk load"):
                    deferred = seed_load.defer_indexes(conn, plan, keys=REBUILD_KEYS, keep=KEEP_DURING_COPY)
            if run_ is None:
                run_ = source(plan, offsets)
            elif producer is None:
                run_.offsets = offsets
            with seed_load.database_errors(url, "encoding values"):
                run_.bind(element_oids, seed_load.converter(conn))
            if producer is None:
                producer = stack.enter_context(Producer(run_))
            phases["setup"] = time.perf_counter() - started  # connecting, checking, locking, dropping indexes
            loads, parts = _pipeline(conn, url, plan, producer, deferred, phases, progress)
            with seed_load.database_errors(url, "moving sequences past the seeded keys"):
                seed_load.advance_sequences(conn, plan, offsets)
            with seed_load.database_errors(url, "committing"), _timed(phases, "commit"):
                seed_load.flush_counts_at_commit(conn)
                conn.commit()
            with _timed(phases, "analyze"):
                seed_load.analyze_committed(conn, list(plan.tables.values()), progress)
    described = _described(plan)
    for load in loads:
        load.parent, load.columns = described[plan.by_name(load.table).key]
    order = list(seed_load.fingerprinted(plan.schema))
    return _report(
        url,
        plan,
        mode,
        tables=loads,
        duration_ms=(time.perf_counter() - started) * 1000,
        fingerprint=seed_load.combine(parts, order),
        dry_run=False,
        phases_ms={name: spent * 1000 for name, spent in phases.items()},
        rebuilt_indexes=deferred is not None,
    )


def _pipeline(conn, url: DatabaseURL, plan, producer: Producer, deferred, phases: dict[str, float], progress):
    """Per table, in load order: COPY, then at once what the table alone allows (its keys and
    indexes back, foreign keys whose tables are both in, its fingerprint part), while
    the producer thread draws the next tables. Return the loads and fingerprint parts."""
    loads: list[TableLoad] = []
    parts: dict[str, str] = {}
    pending = list(deferred.steps) if deferred is not None else []
    total_steps, steps_done = len(pending), 0
    loaded: set[str] = set()
    fingerprinted = seed_load.fingerprinted(plan.schema)
    tables = list(plan.tables.values())
    for number, table in enumerate(tables, 1):
        t0 = time.perf_counter()
        with seed_load.database_errors(url, f"loading {table.name}"):
            count = seed_load.copy_rows(conn, table, producer.chunks(table.key), progress, table.count)
        loads.append(TableLoad(table.name, count, (time.perf_counter() - t0) * 1000))
        loaded.add(table.key)
        ready = [step for step in pending if step.needs <= loaded]
        pending = [step for step in pending if not step.needs <= loaded]
        with seed_load.database_errors(url, f"rebuilding the indexes and keys of {table.name}"):
            if ready:
                with _timed(phases, "indexes"):
                    steps_done = seed_load.restore_indexes(conn, ready, progress, steps_done, total_steps)
            with _timed(phases, "fingerprint"):
                quoted, columns = fingerprinted[table.key]
                parts[table.key] = seed_load.table_fingerprint(conn, table.key, quoted, columns)
    return loads, parts


def _timed_add(phases: dict[str, float], name: str, seconds: float) -> None:
    phases[name] = phases.get(name, 0.0) + seconds


def _prepare(conn, url: DatabaseURL, mode: str, plan, *, yes: bool) -> list[str]:
    """Check the schema and protection, lock the app tables, apply the mode; return the
    tables that (still) hold rows."""
    # At head, not merely "the tables exist": an older revision may lack a column or a CHECK
    # the rows rely on, and seeding it would leave data the next migration trips over.
    check_not_protected(conn, url, yes=yes)  # first: a protected database is refused whatever state it is in
    require_head(conn, url.display, "seed")
    _require_schema(conn, plan)
    seed_load.lock_tables(conn, plan)
    filled = seed_load.tables_with_rows(conn, plan)
    if filled and mode == "refuse":
        raise TodoctlError(
            f"the app tables of {url.display} already hold rows ({', '.join(filled)})",
            hint="pass --append to add more, or --truncate to empty them first",
            exit_code=ExitCode.REFUSED,
        )
    if filled and mode == "truncate":
        seed_load.truncate(conn, plan)
        return []
    return filled


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _timed_add(phases, name, time.perf_counter() - t0)

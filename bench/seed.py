"""Seed benchmarks; every figure comes with a baseline measured in the same run.

    .venv/bin/python bench/seed.py                  # both apps against their floors, ORM (about 8 minutes on 2 busy cores)
    .venv/bin/python bench/seed.py --only load      # the Todo app's load profile: seed and its floor
    .venv/bin/python bench/seed.py --only shelf     # the second app (tests/apps/shelf), 1 M rows, no profile
    .venv/bin/python bench/seed.py --only orm       # binary COPY vs SQLModel add_all
    .venv/bin/python bench/seed.py --only variants  # indexes kept during COPY or rebuilt
    .venv/bin/python bench/seed.py --repeat 3       # every measurement 3 times (seed and floor interleaved), medians

Uses TODOCTL_BENCH_DATABASE_URL (a server where it may create and drop databases), else an
embedded server it starts in a temporary directory. Prints Markdown for bench/RESULTS.md.

Measured:
  load      (a) `todoctl seed --profile load --quiet --json` as a subprocess: the seed's own
            seconds (its report), wall seconds and the peak RSS of the process;
            (b) its floor: the very same rows drawn beforehand (in this process, not timed), loaded
            by the same job (same COPY, producer thread, index, ANALYZE and fingerprint path) with
            no drawing. Efficiency = floor / seed; equal fingerprints prove the rows are the same.
  shelf     the same for the second app of the tests (tests/apps/shelf: identity keys, a table named
            "user", an enum, JSONB, arrays, a category tree, a link table) with no profile at all:
            `todoctl --project tests/apps/shelf seed --rows N --truncate` with N giving about
            1,000,000 rows in all (its data migration leaves a row, hence --truncate).
  orm       5,000 users x 20 tasks: todoctl's seed, then the very same rows (read back from that
            database) inserted with SQLModel ``session.add_all`` and one commit into a second
            database; equal fingerprints prove the rows are the same.
  variants  the load profile in-process with the search index kept during the COPY, against
            all secondary indexes rebuilt after it (todoctl's choice).
  cpu       a fixed pure-Python loop, to show how busy the machine was (no target).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from todoctl.db.url import DatabaseURL, normalise  # noqa: E402


def emit(*lines: str) -> None:
    print("\n".join(lines), flush=True)


def cpu_loop() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - started


class Server:
    def __init__(self) -> None:
        self._pgdata: Path | None = None
        external = os.environ.get("TODOCTL_BENCH_DATABASE_URL")
        if external:
            self.admin = normalise(external, source="bench")
            return
        from todoctl.db import embedded

        self._root = Path(tempfile.mkdtemp(prefix="todoctl-bench-"))
        self._pgdata = self._root / "pgdata"
        self.admin = normalise(embedded.start(self._pgdata).url("postgres"), source="bench")

    def close(self) -> None:
        if self._pgdata is not None:
            from todoctl.db import embedded

            embedded.stop(self._pgdata)
            shutil.rmtree(self._root, ignore_errors=True)

    def url_for(self, database: str) -> DatabaseURL:
        parts = urlsplit(self.admin.url)
        return DatabaseURL(urlunsplit(parts._replace(path="/" + database)), "bench")

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(sql)

    def create(self, template: str | None = None) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The seed's peak RSS, measured by a small process that starts it. Measured from this process, a
# child's ru_maxrss would include this process's own size once it holds the floor's rows: Linux
# records the high-water mark of the address space a child leaves at exec, which for a child
# forked (or vforked) from here is this process's.
RSS_WRAPPER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


SHELF = REPO / "tests" / "apps" / "shelf"


def load_subprocess(server: Server, template: str, seed_args: list[str] | None = None, project_dir: Path | None = None) -> dict:
    """`todoctl seed` (the load profile by default) as its own process: its report, wall time and peak RSS."""
    name = server.create(template)
    try:
        where = ["--project", str(project_dir)] if project_dir else []
        command = [sys.executable, "-m", "todoctl", *where, "-d", server.url_for(name).url, "seed",
                   *(seed_args or ["--profile", "load"]), "--quiet", "--json"]  # fmt: skip
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
            rss_file = Path(tmp) / "rss"
            process = subprocess.Popen([sys.executable, "-c", RSS_WRAPPER, str(rss_file), *command], stdout=out,
                                       stderr=err, cwd=REPO)  # fmt: skip
            process.wait()
            wall = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise SystemExit(f"seed failed ({process.returncode}): {err.read().decode()}")
            return {"wall": wall, "rss_mb": int(rss_file.read_text()) / 1024, "report": json.loads(out.read())}
    finally:
        server.drop(name)


class Replay:
    """Rows drawn beforehand: a run's COPY chunks, handed to the seed job with no drawing."""

    def __init__(self, plan, url: DatabaseURL) -> None:
        from todoctl.core.seed import load as seed_load
        from todoctl.core.seed.rows import Run

        with seed_load.connect(url) as conn:  # arrays name their element type, read from the catalog
            oids = seed_load.element_types(conn, plan)
            run = Run(plan).prepare().bind(oids, seed_load.converter(conn))
            self._chunks = {t: list(run.rows(t)) for t in run.tables}
            conn.rollback()
        self.tables = list(self._chunks)
        self.offsets = None

    def __call__(self, plan, offsets) -> "Replay":
        assert not offsets.rows, "replayed rows were drawn for empty tables"
        return self

    def bind(self, *args) -> "Replay":
        return self

    def rows(self, table):
        return iter(self._chunks[table])


def replay_for(url: DatabaseURL, **options) -> Replay:
    """The rows a seed with ``options`` would draw (for the app in use), drawn now."""
    from todoctl.core.seed import plan as seed_plan
    from todoctl.core.seed import profile as seed_profile

    profile = seed_profile.with_options(seed_profile.load(options.pop("profile", None)), **options)
    return Replay(seed_plan.build(profile), url)


def load_floor(server: Server, template: str, replay: Replay, **options) -> dict:
    """The same job over rows drawn beforehand: the floor of the COPY and index path."""
    from todoctl.core import seed

    name = server.create(template)
    try:
        report = seed.run(server.url_for(name), source=replay, **options)
        return {"seconds": report.duration_ms / 1000, "fingerprint": report.fingerprint, "phases": {k: v / 1000 for k, v in report.phases_ms.items()},
                "tables": {t.table: t.duration_ms / 1000 for t in report.tables}}  # fmt: skip
    finally:
        server.drop(name)


def load_in_process(server: Server, template: str, keep: frozenset[str]) -> float:
    from todoctl.core.seed import job as seed

    name = server.create(template)
    saved = seed.KEEP_DURING_COPY
    try:
        seed.KEEP_DURING_COPY = keep
        return seed.run(server.url_for(name), profile="load").duration_ms / 1000
    finally:
        seed.KEEP_DURING_COPY = saved
        server.drop(name)


def orm_insert(source: DatabaseURL, target: DatabaseURL) -> float:
    """Insert the rows of ``source`` into ``target`` with SQLModel add_all and one commit."""
    from sqlalchemy import text
    from sqlmodel import Session

    from todoctl.db.engine import make_engine
    from todoctl.todo.models import Tag, Task, TaskList, TaskTag, User

    models = {m.__tablename__: m for m in (User, TaskList, Tag, Task, TaskTag)}
    COLUMNS = {t: [c.name for c in m.__table__.columns] for t, m in models.items()}
    source_engine = make_engine(source)
    with source_engine.connect() as conn:
        rows = {t: [dict(r) for r in conn.execute(text(f"SELECT {', '.join(c)} FROM {t}")).mappings()] for t, c in COLUMNS.items()}
    source_engine.dispose()
    engine = make_engine(target)
    started = time.perf_counter()
    with Session(engine) as session:
        # Without relationship() the unit of work does not order tables by foreign key:
        # flush table by table (parents first), then the one commit.
        for table in COLUMNS:
            session.add_all([models[table](**row) for row in rows[table]])
            session.flush()
        session.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def orm_comparison(server: Server, template: str) -> dict:
    """The seed and SQLModel on 5,000 users x 20 tasks, and the seed's floor at that size: the
    most any seed on today's schema and load path could gain over the ORM is orm / floor."""
    from todoctl.core import seed

    size = {"users": 5_000, "rows": ["tasks=100000"]}
    a, b, c = server.create(template), server.create(template), server.create(template)
    try:
        report = seed.run(server.url_for(a), profile="load", **size)
        orm_seconds = orm_insert(server.url_for(a), server.url_for(b))
        same = seed.fingerprint(server.url_for(b)) == report.fingerprint
        replay = replay_for(server.url_for(c), profile="load", **size)
        floor = seed.run(server.url_for(c), profile="load", source=replay, **size)
        return {"copy": report.duration_ms / 1000, "orm": orm_seconds, "rows": report.rows, "same_rows": same,
                "floor": floor.duration_ms / 1000, "floor_phases": {k: v / 1000 for k, v in floor.phases_ms.items()}, "phases": {k: v / 1000 for k, v in report.phases_ms.items()},
                "tasks": next(t.rows for t in report.tables if t.table == "tasks")}  # fmt: skip
    finally:
        for name in (a, b, c):
            server.drop(name)


def peak_rss_mb(run: dict) -> float:
    return run["rss_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["load", "shelf", "orm", "variants"], action="append")
    parser.add_argument("--shelf-rows", type=int, default=1_000_000, help="rows in all for the second app")
    parser.add_argument("--repeat", type=int, default=1, help="seed/floor pairs, interleaved (medians reported)")
    args = parser.parse_args()
    only = set(args.only or ["load", "shelf", "orm"])

    from todoctl.core import migrate

    server = Server()
    template = server.create()
    shelf_template = None
    try:
        migrate.upgrade(server.url_for(template), "head")
        emit(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{' '.join(['bench/seed.py', *sys.argv[1:]])}`")
        emit(f"- machine load: 5M-iteration Python loop {cpu_loop():.2f} s at start, "
             f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if "load" in only:
            compare(server, template, args.repeat, "`todoctl seed --profile load`", ["--profile", "load"],
                    {"profile": "load"}, None)  # fmt: skip
        if "shelf" in only:
            from todoctl import project

            shelf = project.from_directory(SHELF)
            shelf_template = server.create()
            with project.use(shelf):
                migrate.upgrade(server.url_for(shelf_template), "head")
                rows = shelf_rows_for(args.shelf_rows)
                compare(server, shelf_template, args.repeat,
                        f"shelf, no profile: `todoctl --project tests/apps/shelf seed --rows {rows} --truncate`",
                        ["--rows", str(rows), "--truncate"], {"rows": [str(rows)], "mode": "truncate"}, SHELF)  # fmt: skip
        if "variants" in only:
            keep = frozenset({"ix_tasks_search"})
            times: dict[str, list[float]] = {"rebuild": [], "keep": []}
            for _ in range(args.repeat):
                times["rebuild"].append(load_in_process(server, template, frozenset()))
                times["keep"].append(load_in_process(server, template, keep))
            base = statistics.median(times["rebuild"])
            for variant, values in times.items():
                label = {"rebuild": "every secondary index rebuilt after the COPY (todoctl's choice)",
                         "keep": "ix_tasks_search kept during the COPY"}[variant]  # fmt: skip
                m = statistics.median(values)
                emit(f"- load profile, {label}: {m:.2f} s, {base / m:.2f}x")
        if "orm" in only:
            runs = [orm_comparison(server, template) for _ in range(args.repeat)]
            r = dict(runs[-1])
            for key in ("copy", "orm", "floor"):  # medians over the repeats
                r[key] = statistics.median(run[key] for run in runs)
            r["same_rows"] = all(run["same_rows"] for run in runs)
            for key in ("analyze", "fingerprint"):
                r["phases"][key] = statistics.median(run["phases"].get(key, 0) for run in runs)
            if args.repeat > 1:
                emit(*(f"  - seed {run['copy']:.2f} s, floor {run['floor']:.2f} s, SQLModel {run['orm']:.2f} s" for run in runs))
            emit(
                f"- 5,000 users x 20 tasks ({r['tasks']:,} tasks, {r['rows']:,} rows): todoctl seed {r['copy']:.2f} s, "
                f"SQLModel add_all (flushed per table) + one commit {r['orm']:.2f} s: **{r['orm'] / r['copy']:.1f}x faster** "
                f"(target >= 20x); same rows: {r['same_rows']}",
                f"  - the floor at this size (the same rows drawn beforehand, same path) {r['floor']:.2f} s: "
                f"at most **{r['orm'] / r['floor']:.1f}x** for any seed on this schema and load path; "
                f"seed phases {', '.join(f'{k} {v:.2f} s' for k, v in r['phases'].items())}",
                f"  - like for like (the seed without its ANALYZE and fingerprint, which the ORM path does not do): "
                f"{r['copy'] - r['phases'].get('analyze', 0) - r['phases'].get('fingerprint', 0):.2f} s, "
                f"{r['orm'] / (r['copy'] - r['phases'].get('analyze', 0) - r['phases'].get('fingerprint', 0)):.1f}x",
            )
        emit(f"- machine load at end: Python loop {cpu_loop():.2f} s, load average {os.getloadavg()[0]:.1f}")
    finally:
        server.drop(template)
        if shelf_template:
            server.drop(shelf_template)
        server.close()


def shelf_rows_for(total: int) -> int:
    """The --rows N that gives about ``total`` rows in all (from a dry run's counts at N = 1,000)."""
    from todoctl.core import seed

    report = seed.run(None, rows=["1000"], dry_run=True)
    return max(1, round(total * 1000 / report.rows))


def compare(server: Server, template: str, repeat: int, title: str, seed_args: list[str], options: dict,
            project_dir: Path | None) -> None:  # fmt: skip
    """The seed as its own process against its floor (the same rows drawn beforehand), interleaved."""
    seeds, floors = [], []
    replay = None
    for _ in range(repeat):  # interleaved, so drifting machine load hits both alike
        seeds.append(load_subprocess(server, template, seed_args, project_dir))
        if replay is None:  # drawn once, outside any timing, into a database made for the purpose
            scratch = server.create(template)
            try:
                replay = replay_for(server.url_for(scratch), **{k: v for k, v in options.items() if k != "mode"})
            finally:
                server.drop(scratch)
        floors.append(load_floor(server, template, replay, **options))
    del replay
    seed_s = statistics.median(r["report"]["duration_ms"] / 1000 for r in seeds)  # JSON speaks ms
    floor_s = statistics.median(f["seconds"] for f in floors)
    rss = max(peak_rss_mb(r) for r in seeds)
    report = seeds[-1]["report"]
    same = all(f["fingerprint"] == report["fingerprint"] for f in floors)
    for r, f in zip(seeds, floors):
        emit(f"  - seed {r['report']['duration_ms'] / 1000:.2f} s (wall {r['wall']:.2f} s), floor {f['seconds']:.2f} s")
    tables = ", ".join(f"{t['table']} {t['rows']:,} ({t['duration_ms'] / 1000:.2f} s, {t['rows_per_second']:,.0f}/s)"
                       for t in report["tables"])  # fmt: skip
    phases = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in report["phases_ms"].items())
    floor_tables = ", ".join(f"{k} {v:.2f} s" for k, v in floors[-1]["tables"].items())
    floor_phases = ", ".join(f"{k} {v:.2f} s" for k, v in floors[-1]["phases"].items())
    emit(
        f"- {title} ({report['rows']:,} rows): seed **{seed_s:.2f} s**, "
        f"floor (same rows drawn beforehand, same path) **{floor_s:.2f} s**: "
        f"**efficiency {floor_s / seed_s:.2f}**; peak RSS **{rss:.0f} MB** (target <= 150 MB); same rows: {same}",
        f"  - seed: COPY {tables}; {phases}; fingerprint {report['fingerprint']}",
        f"  - floor: COPY {floor_tables}; {floor_phases}",
    )


if __name__ == "__main__":
    main()

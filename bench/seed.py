"""Seed benchmarks; every figure comes with a baseline measured in the same run.

    /tmp/venv/bin/python bench/seed.py                 # everything (about 10-20 minutes on 2 busy cores)
    /tmp/venv/bin/python bench/seed.py --only load     # the load profile end to end
    /tmp/venv/bin/python bench/seed.py --only variants # rebuild indexes or not
    /tmp/venv/bin/python bench/seed.py --only orm      # binary COPY vs SQLModel add_all

Uses TODOCTL_BENCH_DATABASE_URL (a server where it may create and drop databases), else an
embedded server it starts in a temporary directory. Prints Markdown for bench/RESULTS.md.

Measured:
  load      `todoctl seed --profile load` as a subprocess: wall seconds, peak RSS of the process.
  variants  the load profile in-process three ways: indexes and foreign keys kept during COPY
            (baseline), secondary indexes and foreign keys dropped and rebuilt (todoctl's
            choice), and primary keys / unique indexes dropped and rebuilt as well.
  orm       10,000 users / 200,000 tasks: todoctl's COPY path, then the very same rows
            (read back from that database) inserted with SQLModel ``session.add_all`` and one
            commit into a second database; equal fingerprints prove the rows are the same.
  cpu       a fixed pure-Python loop, to show how busy the machine was (no target).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def load_subprocess(server: Server, template: str) -> dict:
    """`todoctl seed --profile load` as its own process: wall time and its peak RSS."""
    name = server.create(template)
    try:
        command = [sys.executable, "-m", "todoctl", "-d", server.url_for(name).url, "seed", "--profile", "load",
                   "--quiet", "--json"]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        # ru_maxrss of all waited-for children: this is the only child waited for so far.
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if process.returncode != 0:
            raise SystemExit(f"seed failed ({process.returncode}): {stderr.decode()}")
        report = json.loads(stdout)
        return {"wall": wall, "rss_mb": rss_mb, "report": report, "floor": search_vector_seconds(server.url_for(name))}
    finally:
        server.drop(name)


def search_vector_seconds(url: DatabaseURL) -> float:
    """What PostgreSQL spends computing tasks.search_vector (the STORED generated column) for
    the rows just loaded: a floor under any way of loading them."""
    import psycopg

    from todoctl.models import SEARCH_EXPRESSION

    with psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")  # COPY computes it on one core
        started = time.perf_counter()
        conn.execute(f"SELECT count({SEARCH_EXPRESSION}) FROM tasks").fetchone()
        return time.perf_counter() - started


def load_in_process(server: Server, template: str, variant: str) -> float:
    from todoctl.core.seed import job as seed

    name = server.create(template)
    saved = (seed.REBUILD_INDEXES_FROM_ROWS, seed.REBUILD_KEYS)
    try:
        seed.REBUILD_INDEXES_FROM_ROWS = 10**15 if variant == "keep" else 1
        seed.REBUILD_KEYS = variant == "rebuild+keys"
        report = seed.run(server.url_for(name), profile="load")
        return report.seconds
    finally:
        seed.REBUILD_INDEXES_FROM_ROWS, seed.REBUILD_KEYS = saved
        server.drop(name)


def orm_insert(source: DatabaseURL, target: DatabaseURL) -> float:
    """Insert the rows of ``source`` into ``target`` with SQLModel add_all and one commit."""
    from sqlalchemy import text
    from sqlmodel import Session

    from todoctl.core.seed.rows import COLUMNS
    from todoctl.db.engine import make_engine
    from todoctl.models import Tag, Task, TaskList, TaskTag, User

    models = {"users": User, "task_lists": TaskList, "tags": Tag, "tasks": Task, "task_tags": TaskTag}
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
    from todoctl.core import seed

    a, b = server.create(template), server.create(template)
    try:
        report = seed.run(server.url_for(a), profile="load", users=10_000)
        orm_seconds = orm_insert(server.url_for(a), server.url_for(b))
        same = seed.fingerprint(server.url_for(b)) == report.fingerprint
        return {"copy": report.seconds, "orm": orm_seconds, "rows": report.rows, "same_rows": same,
                "tasks": next(t.rows for t in report.tables if t.table == "tasks")}  # fmt: skip
    finally:
        server.drop(a)
        server.drop(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["load", "variants", "orm"], action="append")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant (median reported)")
    args = parser.parse_args()
    only = set(args.only or ["load", "variants", "orm"])

    from todoctl.core import migrate

    server = Server()
    template = server.create()
    try:
        migrate.upgrade(server.url_for(template), "head")
        emit(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{' '.join(['bench/seed.py', *sys.argv[1:]])}`")
        emit(f"- machine load: 5M-iteration Python loop {cpu_loop():.2f} s at start, "
                 f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if "load" in only:
            result = load_subprocess(server, template)
            report = result["report"]
            tables = ", ".join(f"{t['table']} {t['rows']:,} ({t['duration_ms'] / 1000:.2f} s)" for t in report["tables"])
            phases = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in report["phases_ms"].items())  # JSON speaks ms
            emit(
                f"- `todoctl seed --profile load` ({report['rows']:,} rows): **{result['wall']:.2f} s wall**, "
                f"peak RSS **{result['rss_mb']:.0f} MB** (targets: <= 5 s, <= 150 MB)",
                f"  - COPY: {tables}; {phases}; fingerprint {report['fingerprint']}",
                f"  - floor: computing `tasks.search_vector` (STORED generated column, migration 0005) for those "
                f"1,000,000 tasks alone takes {result['floor']:.2f} s on one core (a SELECT over the loaded rows)",
            )
        if "variants" in only:
            times: dict[str, list[float]] = {"keep": [], "rebuild": [], "rebuild+keys": []}
            for _ in range(args.repeat):
                for variant in times:  # interleaved, so drifting machine load hits all alike
                    times[variant].append(load_in_process(server, template, variant))
            base = statistics.median(times["keep"])
            for variant, values in times.items():
                label = {
                    "keep": "indexes and foreign keys kept during COPY (baseline)",
                    "rebuild": "secondary indexes + foreign keys dropped, rebuilt before commit",
                    "rebuild+keys": "also primary keys and unique indexes dropped and rebuilt (todoctl's choice)",
                }[variant]
                m = statistics.median(values)
                emit(f"- load profile, {label}: {m:.2f} s, **{base / m:.2f}x** vs baseline")
        if "orm" in only:
            r = orm_comparison(server, template)
            emit(
                f"- 10,000 users / {r['tasks']:,} tasks ({r['rows']:,} rows): todoctl binary COPY {r['copy']:.2f} s, "
                f"SQLModel add_all (flushed per table) + one commit {r['orm']:.2f} s: **{r['orm'] / r['copy']:.1f}x faster** "
                f"(target >= 20x); same rows: {r['same_rows']}",
            )
        emit(f"- machine load at end: Python loop {cpu_loop():.2f} s, load average {os.getloadavg()[0]:.1f}")
    finally:
        server.drop(template)
        server.close()


if __name__ == "__main__":
    main()

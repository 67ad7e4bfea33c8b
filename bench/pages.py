"""HTML pages: their size, and what building one costs beside the work it shows.

    python bench/pages.py [--runs 5]     # the database todoctl resolves (migrated and seeded)

For `explain task-list`, `explain check` and `schema erd`: the median time of the core call (the
same-run baseline: what the command costs without --html) and of building its page from the
result, and the page's size in bytes. No targets: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_ms(fn, runs: int):
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from todoctl.core import explain, schema
    from todoctl.db.engine import resolve
    from todoctl.render.html import erd, page, plans

    url = resolve(None)
    page.vendored("mermaid.min.js")  # read the bundles once, outside the timings
    page.vendored("pev2.umd.js")
    cases = [
        ("explain task-list", lambda: explain.explain(url, "task-list"), plans.explain_page),
        ("explain check", lambda: explain.check(url, runs=1), plans.check_page),
        ("schema erd", lambda: schema.erd(url), erd.erd_page),
    ]
    print(f"database: {url.display}; median of {args.runs} runs")
    print(f"{'command':20} {'core ms':>9} {'page ms':>9} {'page/core':>9} {'page bytes':>12}")
    for name, core, build in cases:
        core_ms, result = median_ms(core, args.runs)
        page_ms, text = median_ms(lambda: build(result), args.runs)
        size = len(text.encode())
        print(f"{name:20} {core_ms:9.1f} {page_ms:9.1f} {page_ms / core_ms:8.2f}x {size:12,}")


if __name__ == "__main__":
    main()

"""Start-up cost of `todoctl --help` against `python -c "import typer"`, interleaved in one run.

Usage: python bench/startup.py [--runs N]
Target (issue 2): median ratio <= 2.5.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    entry = Path(sys.executable).parent / "todoctl"
    todoctl = [str(entry), "--help"] if entry.exists() else [sys.executable, "-m", "todoctl", "--help"]
    baseline = [sys.executable, "-c", "import typer"]
    for command in (todoctl, baseline):  # warm the page cache and .pyc files
        timed(command)

    ours, theirs = [], []
    for _ in range(args.runs):
        ours.append(timed(todoctl))
        theirs.append(timed(baseline))
    median_ours, median_base = statistics.median(ours), statistics.median(theirs)
    ratio = median_ours / median_base
    print(f"runs: {args.runs} interleaved")
    print(f"todoctl --help        median {median_ours * 1000:7.1f} ms  min {min(ours) * 1000:7.1f} ms")
    print(f"python -c 'import typer' median {median_base * 1000:7.1f} ms  min {min(theirs) * 1000:7.1f} ms")
    print(f"ratio (median): {ratio:.2f}x  target <= 2.5x  {'OK' if ratio <= 2.5 else 'OVER'}")
    return 0 if ratio <= 2.5 else 1


if __name__ == "__main__":
    sys.exit(main())

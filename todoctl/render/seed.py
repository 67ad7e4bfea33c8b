"""Rich views of seeding: a progress bar per table on stderr, and the summary table."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.table import Table

from todoctl.core.seed.job import SeedReport
from todoctl.render import console
from todoctl.render.progress import bars

# The seed's steps without rows: index and key rebuilds (counted in statements), ANALYZE (in tables).
PHASES = frozenset({"indexes", "analyze"})


@contextmanager
def progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``(table or phase, done, total)`` callback drawing a bar per table (rows, percentage,
    rate, time remaining) and a line per phase (index builds, ANALYZE) on stderr; None when
    disabled or when stderr is not a terminal."""
    with bars(enabled=enabled, unit="rows", phases=PHASES) as drawn:
        yield drawn.update if drawn is not None else None


def summary(report: SeedReport) -> None:
    out = console()
    when = report.reference_time.isoformat() if report.reference_time else "?"
    verb = "Dry run: would seed" if report.dry_run else "Seeded"
    out.print(f"{verb} [bold]{report.database}[/]: profile {report.profile}, seed {report.seed}, reference time {when}")
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    if not report.dry_run:
        table.add_column("seconds", justify="right")
        table.add_column("rows/s", justify="right")
    for load in report.tables:
        if report.dry_run:
            approx = "~" if load.table == "task_tags" else ""
            table.add_row(load.table, f"{approx}{load.rows:,}")
        else:
            table.add_row(load.table, f"{load.rows:,}", f"{load.seconds:.2f}", f"{load.rows_per_second:,.0f}")
    if report.dry_run:
        table.add_row("total", f"~{report.rows:,}", style="bold")
    else:
        for phase, seconds in report.phases.items():
            table.add_row(f"({phase})", "", f"{seconds:.2f}", "")
        rate = report.rows / report.seconds if report.seconds else 0.0
        table.add_row("total", f"{report.rows:,}", f"{report.seconds:.2f}", f"{rate:,.0f}", style="bold")
    out.print(table)
    if report.dry_run:
        out.print("Nothing was written (task_tags is an expected count).")
    else:
        out.print(f"fingerprint {report.fingerprint}")

"""Rich views of seeding: a progress bar per table on stderr, and the summary table."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from todoctl.render.tables import Table

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
    if report.dry_run:
        out.print(
            f"Dry run: would seed [bold]{report.database}[/]: profile {report.profile}, seed {report.seed}, "
            f"locale {report.locale}, reference time {when}"
        )
        out.print(plan_table(report))
        out.print(f"total {report.rows:,} rows. Nothing was written.")
        return
    out.print(f"Seeded [bold]{report.database}[/]: profile {report.profile}, seed {report.seed}, reference time {when}")
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for load in report.tables:
        table.add_row(load.table, f"{load.rows:,}", f"{load.duration_ms / 1000:.2f}", f"{load.rows_per_second:,.0f}")
    for phase, spent_ms in report.phases_ms.items():
        table.add_row(f"({phase})", "", f"{spent_ms / 1000:.2f}", "")
    rate = report.rows * 1000 / report.duration_ms if report.duration_ms else 0.0
    table.add_row("total", f"{report.rows:,}", f"{report.duration_ms / 1000:.2f}", f"{rate:,.0f}", style="bold")
    out.print(table)
    out.print(f"fingerprint {report.fingerprint}")


def plan_table(report: SeedReport) -> Table:
    """Every table with its rows and how they come about, then each column with its generator."""
    table = Table()
    table.add_column("table / column")
    table.add_column("rows", justify="right")
    table.add_column("generator")
    for load in report.tables:
        table.add_row(f"[bold]{load.table}[/]", f"{load.rows:,}", load.parent or "", end_section=False)
        for column in load.columns:
            table.add_row(f"  {column.column}", "", column.generator)
        table.add_section()
    return table

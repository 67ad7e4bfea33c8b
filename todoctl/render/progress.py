"""Progress on stderr for long commands: a bar per item of work (rows done, percentage, rate,
time remaining) and a line per phase that has no row count (index builds, ANALYZE), whose
clock keeps moving so a long phase does not look like a hang.

Work with no honest total (pg_dump's) gets a spinner line instead: its phase, the bytes written
so far, their rate and the time elapsed; never a made-up percentage.

Nothing at all when disabled or when stderr is not a terminal: pipes and CI logs get no
control characters, and --json output stays one document.

    with progress.bars(enabled=not quiet, unit="rows") as bars:
        run(..., progress=bars.update if bars else None)
    with progress.activity("dump", enabled=not as_json) as update:
        dump(..., on_progress=(lambda p: update(p.phase, p.bytes)) if update else None)
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from rich.progress import ProgressColumn
from rich.text import Text

from todoctl.render import console

if TYPE_CHECKING:
    from rich.progress import Progress, Task


# A bar narrower than this says little; below it the columns on the right make room instead.
MIN_BAR_WIDTH = 5
# Columns never left out however narrow the terminal: the name, the bar, the count.
KEPT_COLUMNS = 3


def fitting_progress(*columns, **options) -> "Progress":
    """A rich Progress that fits the terminal without cutting a number: its text columns (counts,
    rates, times) stay whole on one line and the bar gives way first (Rich narrows only the
    columns that may wrap); when even a short bar leaves too little room, the rightmost columns
    (time left, elapsed, rate) are left out until the line fits."""
    from rich.measure import Measurement
    from rich.progress import BarColumn, Progress
    from rich.text import Text

    class FittingProgress(Progress):
        def _widest(self, column, tasks) -> int:
            options = self.console.options
            cells = (Text.from_markup(column.format(task=t)) if isinstance(column, str) else column(t) for t in tasks)
            return max((Measurement.get(self.console, options, cell).maximum for cell in cells), default=0)

        def make_tasks_table(self, tasks):
            shown = list(self.columns)
            while tasks and len(shown) > KEPT_COLUMNS:
                bars = sum(isinstance(c, BarColumn) for c in shown)
                text = sum(self._widest(c, tasks) for c in shown if not isinstance(c, BarColumn))
                if text + bars * MIN_BAR_WIDTH + len(shown) - 1 <= self.console.width:
                    break
                shown.pop(max(i for i, c in enumerate(shown) if not isinstance(c, BarColumn)))
            every = self.columns
            self.columns = tuple(shown)
            try:
                table = super().make_tasks_table(tasks)
            finally:
                self.columns = every
            for column, source in zip(table.columns, shown):
                column.no_wrap = not isinstance(source, BarColumn)
            return table

    return FittingProgress(*columns, **options)


class Bars:
    """Bars and phase lines by name, created on first update."""

    def __init__(self, progress: "Progress", phases: frozenset[str]) -> None:
        self._progress = progress
        self._phases = phases
        self._ids: dict[str, int] = {}

    def update(self, name: str, done: int, total: int) -> None:
        """``done`` of ``total`` for the bar (or phase) ``name``; a total of 0 means unknown."""
        total = max(total, done) or None
        if name not in self._ids:
            self._ids[name] = self._progress.add_task(name, total=total, phase=name in self._phases)
        self._progress.update(self._ids[name], completed=done, total=total)


@contextmanager
def bars(
    *, enabled: bool = True, unit: str = "rows", phases: frozenset[str] | set[str] = frozenset(), unit_of_phases: str = "steps"
) -> Iterator[Bars | None]:
    """A Bars on stderr, or None when disabled or stderr is not a terminal. Names in ``phases``
    are drawn as phase lines (counted in ``unit_of_phases``, no rate), the others as bars."""
    err = _terminal(enabled)
    if err is None:
        yield None
        return
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = fitting_progress(
        TextColumn("{task.description:<12}"),
        BarColumn(bar_width=30),
        _CountColumn(unit, unit_of_phases),
        TaskProgressColumn(),
        _RateColumn(unit),
        TimeElapsedColumn(),
        _RemainingColumn(TimeRemainingColumn(compact=True)),
        console=err,
        transient=False,
    )
    with progress:
        yield Bars(progress, frozenset(phases))


def _terminal(enabled: bool):
    """The stderr console when progress is wanted and stderr is a terminal, else None."""
    err = console(stderr=True)
    if not enabled or not sys.stderr.isatty() or not err.is_terminal:
        return None
    return err


@contextmanager
def activity(label: str, *, enabled: bool = True) -> Iterator[Callable[[str, int], None] | None]:
    """A spinner line on stderr for work whose total is unknown, or None when disabled or not a terminal.

    Yields ``update(phase, size_bytes)``, drawn as ``⠹ dump writing DDL  9.1 kB 36.3 kB/s 0:00:01``.
    The line disappears when the block ends. ``update`` may be called from any thread.
    """
    err = _terminal(enabled)
    if err is None:
        yield None
        return
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = fitting_progress(
        SpinnerColumn(),
        TextColumn(label),
        TextColumn("{task.description:<16}"),
        _SizeColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task("connecting", total=None)

        def update(phase: str, size_bytes: int) -> None:
            progress.update(task, description=phase, completed=size_bytes)

        yield update


class _SizeColumn(ProgressColumn):
    """Bytes written so far and their average rate since the start (``9.1 kB 30.2 kB/s``): output
    that comes in bursts makes an instantaneous rate swing wildly."""

    def render(self, task: "Task"):
        from rich.filesize import decimal

        elapsed = task.finished_time if task.finished else task.elapsed
        rate = f"{decimal(int(task.completed / elapsed))}/s" if elapsed and task.completed else "? B/s"
        return Text(f"{decimal(int(task.completed))} {rate}", style="progress.download")


class _CountColumn(ProgressColumn):
    """``12,345/50,000 rows``, or ``3/19 steps`` for a phase."""

    def __init__(self, unit: str, unit_of_phases: str) -> None:
        super().__init__()
        self.unit, self.unit_of_phases = unit, unit_of_phases

    def render(self, task: "Task"):
        unit = self.unit_of_phases if task.fields.get("phase") else self.unit
        total = f"{int(task.total):,}" if task.total is not None else "?"
        return Text(f"{int(task.completed):,}/{total} {unit}", style="progress.download")


class _RateColumn(ProgressColumn):
    """Rows per second while a bar runs, and its average once it is done; blank for phases."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: "Task"):
        if task.fields.get("phase"):
            return Text("")
        if task.finished and task.finished_time:
            speed = task.completed / task.finished_time
        else:
            speed = task.speed
        if not speed:
            return Text(f"? {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


class _RemainingColumn(ProgressColumn):
    """Time remaining for bars; phases have no meaningful estimate (one index build may be most of it)."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner

    def render(self, task: "Task"):
        if task.fields.get("phase"):
            return Text("")
        return self.inner.render(task)

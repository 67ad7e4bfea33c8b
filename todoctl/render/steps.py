"""A progress bar for work counted in steps (migrate verify's revisions, health --probe's sessions), on stderr.

Steps done of the total, percentage, rate and time left; on a terminal only: in a pipe, a CI
log or a test there is nothing at all. (Seed's row progress lives in render/progress.py.)
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def step_progress(
    label: str, unit: str = "steps", *, console=None, enabled: bool = True, from_first_advance: bool = False
) -> Iterator[Callable[[int, int, str], None]]:
    """Yield ``advance(done, total, what)``; the bar disappears when the block ends. Not enabled
    (--json, nothing to count) or not on a terminal, ``advance`` does nothing. ``advance`` may be
    called from any thread. ``from_first_advance``: the bar appears only once the counted work
    starts (health's probe follows its checks), not when the block begins."""
    import threading

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    out = console or Console(stderr=True)
    if not enabled or not out.is_terminal:
        yield lambda done, total, what: None
        return

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:.2f} {unit}/s" if task.speed else f"- {unit}/s", style="dim")

    from todoctl.render.progress import fitting_progress

    progress = fitting_progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[what]}", style="dim"),
        console=out,
        transient=True,
    )
    lock = threading.Lock()
    task = None

    def show(total: int | None) -> None:
        nonlocal task
        progress.start()
        task = progress.add_task(label, total=total, what="")

    def advance(done: int, total: int, what: str) -> None:
        with lock:
            if task is None:
                show(total)
            progress.update(task, completed=done, total=total, what=what)

    if not from_first_advance:
        show(None)
    try:
        yield advance
    finally:
        with lock:
            if task is not None:
                progress.stop()

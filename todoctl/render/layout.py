"""Output that fits: every table readable at 80 columns and in a pipe, or whole with ``--wide``.

Rich's defaults cut: a column's ``overflow`` is "ellipsis" (a long name becomes ``ix_tasks_us…``)
and ``no_wrap`` columns are squeezed to nothing. Every renderable todoctl prints goes through
:func:`fit` (render.console() does it), which makes each table column wrap at words and fold
what is longer than the column, so a value is never cut, only carried onto the next line. With
``--wide`` nothing folds: tables take the width they need and long lines are not wrapped.

Colours: Rich's own style names only (ANSI named colours, which every terminal theme maps to
something readable on its background); SQL uses the "ansi_dark" syntax theme (ANSI colours, no
fixed background). NO_COLOR and a pipe mean no colour at all (Rich reads NO_COLOR itself).
"""

from __future__ import annotations

from typing import Any

# The syntax theme of highlighted SQL: ANSI named colours and the terminal's own background,
# readable on light and dark themes alike (the default, monokai, paints light text on dark).
SQL_THEME = "ansi_dark"

# Wide enough for any table todoctl draws; a table without expand takes only what it needs.
WIDE_WIDTH = 10_000

# A column never gets narrower than this (or its header word), so wrapped text stays readable.
MIN_COLUMN_WIDTH = 4
MAX_HEADER_WIDTH = 12


def is_wide() -> bool:
    try:
        from todoctl.cli import state
    except ImportError:  # pragma: no cover - render is used without the CLI
        return False
    return bool(getattr(state.current, "wide", False))


def fit(renderable: Any, *, wide: bool | None = None) -> Any:
    """``renderable`` with every table in it made to fold instead of cut (in place; returned)."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table

    wide = is_wide() if wide is None else wide
    if isinstance(renderable, Table):
        _fit_table(renderable, wide)
        for row_cells in (column._cells for column in renderable.columns):
            for cell in row_cells:
                fit(cell, wide=wide)
    elif isinstance(renderable, Group):
        for part in renderable.renderables:
            fit(part, wide=wide)
    elif isinstance(renderable, Padding):
        fit(renderable.renderable, wide=wide)
    return renderable


def _fit_table(table, wide: bool) -> None:
    if wide:
        table.expand = False  # the width it needs, not the whole (huge) console
    for column in table.columns:
        column.overflow = "fold"
        if wide:
            column.no_wrap = True
            continue
        column.no_wrap = False
        header = column.header if isinstance(column.header, str) else ""
        longest_word = max((len(word) for word in header.split()), default=0)
        # Header words stay whole ("threshold", not "threshol/d"); long ones may fold.
        column.min_width = max(column.min_width or 0, min(MAX_HEADER_WIDTH, max(longest_word, MIN_COLUMN_WIDTH)))


def make_console(stderr: bool = False):
    """A Rich console whose print() fits every table first; ``--wide``: as wide as the output."""
    from rich.console import Console

    class FittingConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            super().print(*(fit(o) for o in objects), **options)

    wide = is_wide()
    extra = {"width": WIDE_WIDTH} if wide else {}
    return FittingConsole(stderr=stderr, highlight=False, soft_wrap=wide, **extra)


def sql(text: str):
    """SQL, highlighted in ANSI colours and wrapped (folded with the rest of the output)."""
    from rich.syntax import Syntax

    return Syntax(text, "sql", theme=SQL_THEME, word_wrap=not is_wide(), background_color="default")

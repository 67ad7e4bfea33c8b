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


# --wide: tables at full width, nothing folded. Set by the CLI's root callback for one invocation
# (render never reads the CLI's state: data flows down).
wide = False


def is_wide() -> bool:
    return wide


def fit(renderable: Any, *, wide: bool | None = None, width: int | None = None) -> Any:
    """``renderable`` with every table in it made to fold instead of cut; a table too cramped
    for ``width`` (the console's) is drawn stacked instead: one block per row, ``header: value``."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table

    wide = is_wide() if wide is None else wide
    if isinstance(renderable, Table):
        keep_no_wrap = True
        if not wide and width:
            if _needed(renderable, honour_no_wrap=True) > width:
                keep_no_wrap = False  # a name column may wrap rather than squeeze the rest
                if _needed(renderable, honour_no_wrap=False) > width:
                    return stacked(renderable)
        _fit_table(renderable, wide, keep_no_wrap)
        for row_cells in (column._cells for column in renderable.columns):
            for cell in row_cells:
                fit(cell, wide=wide)
    elif isinstance(renderable, Group):
        parts = renderable.renderables  # Rich keeps this list: replacing an item redraws it
        for i, part in enumerate(parts):
            parts[i] = fit(part, wide=wide, width=width)
    elif isinstance(renderable, Padding):
        renderable.renderable = fit(renderable.renderable, wide=wide, width=width)
    return renderable


# A column narrower than this many characters (or its longest word, if shorter) is cramped:
# words would be folded letter by letter. A table that cannot avoid it is stacked instead.
CRAMPED_WORD = 10


def _plain(cell: Any) -> str | None:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return None


def _needed(table, *, honour_no_wrap: bool) -> int:
    """The narrowest width at which no word is folded: each column gets min(its longest word,
    CRAMPED_WORD), a no_wrap column (when honoured) its longest line."""
    need = 1  # the left border
    for column in table.columns:
        texts = [_plain(column.header) or "", *(_plain(cell) or "" for cell in column._cells)]
        if honour_no_wrap and column.no_wrap:
            width = max((len(line) for text in texts for line in text.splitlines()), default=1)
        else:
            width = min(max((len(word) for text in texts for word in text.split()), default=1), CRAMPED_WORD)
        need += width + 2 * table.padding[1] + 1  # the cell padding and the border after it
    return need


def stacked(table):
    """The rows of ``table`` as blocks: the first cell in bold, then ``header: value`` lines."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    def as_text(cell: Any):
        plain = _plain(cell)
        if plain is None:
            return cell
        return cell if isinstance(cell, Text) else Text.from_markup(cell)

    parts: list = []
    if table.title:
        parts.append(as_text(table.title))
    headers = [_plain(column.header) or "" for column in table.columns]
    for row in zip(*(column._cells for column in table.columns)):
        first = as_text(row[0])
        if isinstance(first, Text):
            first = first.copy()
            first.stylize("bold")
        parts.append(first)
        for header, cell in zip(headers[1:], row[1:]):
            value = as_text(cell)
            if isinstance(value, Text):
                if not value.plain.strip():
                    continue
                label = Text(f"{header}: ", style="dim") if header else Text("")
                parts.append(Padding(Text.assemble(label, value), (0, 0, 0, 2), expand=False))
            else:
                parts.append(Padding(value, (0, 0, 0, 2), expand=False))
    if table.caption:
        parts.append(as_text(table.caption))
    return Group(*parts)


def _fit_table(table, wide: bool, keep_no_wrap: bool = True) -> None:
    # The width the table needs, at most the console's: Rich then narrows the widest wrapping
    # columns first, so short ones (a check name, a status) stay whole.
    table.expand = False
    for column in table.columns:
        column.overflow = "fold"
        if wide:
            column.no_wrap = True
            continue
        column.no_wrap = column.no_wrap and keep_no_wrap
        column.ratio = None  # Rich sizes ratio columns by ratio alone, below their minimum width
        header = column.header if isinstance(column.header, str) else ""
        longest_word = max((len(word) for word in header.split()), default=0)
        # Header words stay whole ("threshold", not "threshol/d"); long ones may fold.
        column.min_width = max(column.min_width or 0, min(MAX_HEADER_WIDTH, max(longest_word, MIN_COLUMN_WIDTH)))


def make_console(stderr: bool = False):
    """A Rich console whose print() fits every table first; ``--wide``: as wide as the output."""
    from rich.console import Console

    class FittingConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            super().print(*(fit(o, width=self.width) for o in objects), **options)

    wide = is_wide()
    extra = {"width": WIDE_WIDTH} if wide else {}
    return FittingConsole(stderr=stderr, highlight=False, soft_wrap=wide, **extra)


def sql(text: str):
    """SQL, highlighted in ANSI colours and wrapped (folded with the rest of the output)."""
    from rich.syntax import Syntax

    return Syntax(text, "sql", theme=SQL_THEME, word_wrap=not is_wide(), background_color="default")

"""Rich's Table with one change: a title is never wrapped to the table's own width.

Rich wraps a title to the width of the table under it, so a narrow table under a long title
("Migrated /home/me/app/pgdata/clinic up") printed it over three lines in a wide terminal. A titled
table here is at least as wide as its title, up to the terminal's width.
"""

from __future__ import annotations

from rich import table as rich_table
from rich.cells import cell_len
from rich.text import Text


class Table(rich_table.Table):
    def __rich_console__(self, console, options):
        if self.title is not None:
            title = self.title.plain if isinstance(self.title, Text) else Text.from_markup(str(self.title)).plain
            wanted = min(cell_len(title), options.max_width)
            if (self.min_width or 0) < wanted:
                self.min_width = wanted
        yield from super().__rich_console__(console, options)

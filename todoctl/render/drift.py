"""One way to show drift (core/drift/vocabulary.py) for `migrate status`, `migrate check` and `schema diff`:
the same labels, the same table and the same hint lines everywhere."""

from __future__ import annotations

from rich.markup import escape
from todoctl.render.tables import Table
from rich.text import Text

from todoctl.core.drift.vocabulary import BEHIND_HISTORY, LABELS, UNKNOWN_REVISION


def headline(database: str, current: list[str], head: str, differences: list, sides: str) -> str:
    """One line that says where the database stands, in Rich markup."""
    where = escape(", ".join(current) or "base")
    categories = {d.category for d in differences}
    pending = sum(1 for d in differences if d.category == BEHIND_HISTORY)
    if categories == {BEHIND_HISTORY}:
        return (
            f"[yellow]Behind[/]: {escape(database)} is at {where}, head {escape(head)} "
            f"({pending} pending): run `todoctl migrate up`"
        )
    if UNKNOWN_REVISION in categories and categories <= {UNKNOWN_REVISION}:
        return f"[red]Unknown revision[/]: {escape(database)} is at {where}, which these migration scripts do not know"
    return (
        f"[red]{len(differences)} difference(s)[/] between {escape(database)} "
        f"(at {where}, head {escape(head)}) and {sides}:"
    )


def differences(out, differences: list, hints: dict[str, str], notes: list[str] = ()) -> None:
    """The differences as a table (label, words), one hint per category, then the notes."""
    if differences:
        table = Table(show_header=True, header_style="bold")
        table.add_column("what")
        table.add_column("difference")
        for d in differences:
            table.add_row(Text(LABELS.get(d.category, d.category)), Text(d.message))
        out.print(table)
    for category, hint in hints.items():
        out.print(Text(f"Hint ({LABELS.get(category, category)}): {hint}", style="dim"))
    for note in notes:
        out.print(Text(f"Note: {note}", style="yellow"))

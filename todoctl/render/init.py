"""`todoctl init`'s report: the table, where each key came from, and what was written."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text

from todoctl.render import console


def report(plan) -> None:
    out = console()
    verb = "Would write" if plan.dry_run else "Wrote"
    target = plan.pyproject if not plan.written or plan.dry_run else plan.written[-1]
    out.print(Text(f"{verb} [tool.todoctl] in {target}:", style="bold"))
    out.print(Syntax(plan.toml, "toml", theme="ansi_dark", background_color="default"))
    for key, how in plan.found.items():
        out.print(Text(f"  {key}: from {how}", style="dim"))
    for key in plan.missing:
        out.print(Text(f"  {key}: not found; pass --{key}", style="yellow"))
    if plan.scaffold:
        out.print(Text(("Would create: " if plan.dry_run else "Created: ") + ", ".join(plan.scaffold)))
    if not plan.dry_run:
        out.print("Next: todoctl migrate status (then `todoctl migrate new -m ...` after a model change)")

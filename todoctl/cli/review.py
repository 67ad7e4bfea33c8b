"""`todoctl review`: the database review checklist as one CI gate."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from todoctl.cli import state
from todoctl.cli.options import JsonOption

OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Review the models, queries, settings and files only; skip the live database."),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")]
OnlyOption = Annotated[
    Optional[list[str]],
    typer.Option("--only", metavar="RULE", help="Run only this rule (repeatable).", show_default=False),
]


def review(offline: OfflineOption = False, strict: StrictOption = False, only: OnlyOption = None, as_json: JsonOption = False) -> None:
    """Run the database review checklist: critical findings exit 1 (warnings too with --strict).

    Waivers, each with its reason: [[tool.todoctl.review.waive]] in pyproject.toml.
    Exit 2 on an unknown rule or a waiver without a reason; 3 when the database cannot be reached.

    \b
    Examples:
      todoctl review --strict
      todoctl review --offline --only hardcoded-credentials --json
    """
    from todoctl import render
    from todoctl.core import review as core
    from todoctl.render import review as view

    core.select_rules(only or [])  # an unknown rule is exit 2 before any connection
    url = None if offline else state.database_url()
    result = core.review(None, url, only=only or [], strict=strict)  # the app's directory ([tool.todoctl])
    if as_json:
        render.print_json(result)
    else:
        view.report(result)
    if result.failed:
        raise typer.Exit(1)

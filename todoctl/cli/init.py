"""`todoctl init`: declare the app in its pyproject.toml (and, in an empty directory, start one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from todoctl import render
from todoctl.cli.confirm import confirm_or_refuse
from todoctl.cli.options import DryRunOption, JsonOption, YesOption


def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The app's directory.", show_default="the working directory")] = Path("."),
    metadata: Annotated[Optional[str], typer.Option("--metadata", metavar="MODULE:ATTR", help="The app's MetaData, when it cannot be found.")] = None,
    migrations: Annotated[Optional[str], typer.Option("--migrations", metavar="DIR", help="The Alembic directory, when it cannot be found.")] = None,
    engine: Annotated[Optional[str], typer.Option("--engine", metavar="MODULE:ATTR", help="The app's Engine (for health and review).")] = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write the [tool.todoctl] table for the app in DIR: its models, migrations and engine, found where they can be.

    In an empty directory it also writes alembic.ini, migrations/ with todoctl's env.py, and app/models.py.
    An existing [tool.todoctl] table is replaced only when confirmed (a terminal, or --yes).

    \b
    Examples:
      todoctl init --dry-run
      todoctl init --metadata app.models:SQLModel.metadata --migrations alembic
    """
    from todoctl.core import init as core
    from todoctl.render import init as view

    plan = core.plan(directory, metadata=metadata, migrations=migrations, engine=engine)
    if dry_run:
        plan.dry_run = True
    else:
        core.require_complete(plan)
        if plan.replaces_table:
            confirm_or_refuse(f"{plan.pyproject} already has [tool.todoctl]; replace it?", yes=yes)
        core.write(plan)
    if as_json:
        render.print_json(plan, ok=not plan.missing)
    else:
        view.report(plan)

"""Options shared by many commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from todoctl.cli import state


def _remember_json(value: bool) -> bool:
    if value:
        state.current.json = True
    return value


JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout instead of tables.", callback=_remember_json),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print what would run and change nothing.")]

MigrationsOption = Annotated[
    Optional[Path],
    typer.Option(
        "--migrations",
        envvar="TODOCTL_MIGRATIONS",
        metavar="DIR",
        help="Another Alembic migrations directory (holding env.py and versions/).",
        show_default="the bundled migrations",
    ),
]

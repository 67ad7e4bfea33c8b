"""Options shared by many commands, declared once."""

from __future__ import annotations

from typing import Annotated

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

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
        show_default="the app's, from [tool.todoctl]",
    ),
]

HtmlOption = Annotated[
    Optional[str],
    typer.Option(
        "--html",
        metavar="FILE",
        help="Also write a self-contained HTML page (opens offline; no script or style from the network); - for stdout.",
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite the --html file if it exists.")]


def check_page_target(html: str | None, *, force: bool, as_json: bool = False) -> None:
    """Refuse a page target that cannot work before any database work (exit 2)."""
    from todoctl.errors import usage_error

    if html is None:
        if force:
            raise usage_error("--force only goes with --html FILE", "add --html FILE, or leave out --force")
        return
    if html == "-" and as_json:
        raise usage_error("--html - and --json both want stdout", "write the page to a file: --html FILE")
    if html != "-":
        from todoctl.render.output import check_target

        check_target(html, force=force, option="--html")


def write_page(html: str | None, *, force: bool, build) -> bool:
    """Write the page ``build()`` returns to ``html`` and say where on stderr; True if it went to stdout."""
    if html is None:
        return False
    from todoctl.render.output import write_document

    written = write_document(build(), html, force=force, option="--html")
    if written.path == "-":
        return True
    from todoctl.render.layout import echo

    echo(f"{written.path} ({written.size_bytes / 1e6:.1f} MB)", stderr=True, prefix="wrote ")
    return False

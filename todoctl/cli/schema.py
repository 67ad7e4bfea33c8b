"""`todoctl schema`: what is in the database, how it differs from the models and the history."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from todoctl.cli import state
from todoctl.cli.options import ForceOption, HtmlOption, JsonOption, MigrationsOption, check_page_target, write_page

app = typer.Typer(help="Show, compare, dump, draw and lint the database schema.", no_args_is_help=True)


class Against(str, Enum):
    models = "models"
    history = "history"


class ErdFormat(str, Enum):
    mermaid = "mermaid"
    svg = "svg"



@app.command("show")
def show(
    table: Annotated[Optional[str], typer.Argument(metavar="TABLE", help="One table to describe in full.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """List the tables with estimated rows and size, or describe one table.

    \b
    Examples:
      todoctl schema show
      todoctl schema show tasks --json
    """
    from todoctl import render
    from todoctl.core import schema
    from todoctl.render import schema as view

    if table is None:
        result = schema.overview(state.database_url())
        if as_json:
            render.print_json(result)
        else:
            view.overview(result)
        return
    detail = schema.table_detail(state.database_url(), table)
    if as_json:
        render.print_json(detail)
    else:
        view.table_detail(detail)


@app.command("diff")
def diff(
    against: Annotated[
        Against,
        typer.Option(
            "--against",
            metavar="models|history",
            help="models: the models vs the live database. history: also replay the migrations "
            "on a throwaway database and say which side is off.",
        ),
    ] = Against.models,
    migrations: MigrationsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare the live database with the models (and the migration history). Exit 1 when they differ.

    \b
    Examples:
      todoctl schema diff
      todoctl schema diff --against history --json
    """
    from todoctl import render
    from todoctl.core import schema
    from todoctl.render import schema as view

    if against is Against.history:
        # Replaying the history creates a database and runs migrations: the direct endpoint.
        result = schema.against_history(state.database_url(direct=True, announce=True), migrations=migrations)
    else:
        result = schema.against_models(state.database_url(), migrations=migrations)
    if as_json:
        render.print_json(result, ok=result.in_sync)
    else:
        view.diff(result)
    if not result.in_sync:
        raise typer.Exit(1)


@app.command("dump")
def dump(
    tables: Annotated[
        Optional[list[str]], typer.Argument(metavar="TABLE", help="Only these tables (pg_dump -t patterns).", show_default=False)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the DDL of the live schema (pg_dump --schema-only, no owners or grants).

    \b
    Examples:
      todoctl schema dump > schema.sql
      todoctl schema dump tasks
    """
    from todoctl import render
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import schema
    from todoctl.render import schema as view
    from todoctl.render.progress import activity

    url = state.database_url()
    # On a terminal's stderr: the phase, bytes written, rate and time (never with --json).
    with terminate_as_interrupt(), activity("dump", enabled=not as_json) as update:
        on_progress = (lambda p: update(p.phase, p.bytes)) if update else None
        result = schema.dump(url, tables=tables or [], on_progress=on_progress)
    if as_json:
        render.print_json(result)
    else:
        view.dump(result)


@app.command("erd")
def erd(
    fmt: Annotated[
        ErdFormat,
        typer.Option("--format", "-f", metavar="mermaid|svg", help="mermaid text, or an SVG drawn by Graphviz's dot (no browser)."),
    ] = ErdFormat.mermaid,
    markdown: Annotated[bool, typer.Option("--markdown", help="Wrap the diagram in a ```mermaid fence.")] = False,
    html: HtmlOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print a Mermaid erDiagram of the tables and their foreign keys (or SVG, or a page).

    \b
    Examples:
      todoctl schema erd --markdown > erd.md
      todoctl schema erd --html erd.html
    """
    from todoctl import render
    from todoctl.core import schema
    from todoctl.render import schema as view

    if markdown and fmt is ErdFormat.svg:
        raise typer.BadParameter("--markdown wraps Mermaid text, not SVG", param_hint="--markdown")
    check_page_target(html, force=force, as_json=as_json)
    result = schema.erd(state.database_url())
    if write_page(html, force=force, build=lambda: _erd_page(result)):
        return  # the page is stdout
    if as_json:
        render.print_json(result)
    else:
        view.erd(result, markdown=markdown, svg=fmt is ErdFormat.svg)


def _erd_page(result) -> str:
    from todoctl.render.html import erd

    return erd.erd_page(result)


@app.command("lint")
def lint(
    skip: Annotated[
        Optional[list[str]], typer.Option("--skip", metavar="RULE", help="Do not run this rule (repeatable).", show_default=False)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Find design mistakes in the live schema, each with a hint. Exit 1 on findings.

    Rules: fk-without-index, no-primary-key, timestamp-without-time-zone, duplicate-index,
    redundant-index, missing-timestamps.

    \b
    Examples:
      todoctl schema lint
      todoctl schema lint --skip missing-timestamps --json
    """
    from todoctl import render
    from todoctl.core import schema
    from todoctl.render import schema as view

    schema.check_rules(skip or [])  # an unknown rule is exit 2 before any connection
    result = schema.lint(state.database_url(), skip=skip or [])
    if as_json:
        render.print_json(result, ok=result.clean)
    else:
        view.lint(result)
    if not result.clean:
        raise typer.Exit(1)

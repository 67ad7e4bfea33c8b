"""`todoctl explain`: the app's named queries under EXPLAIN ANALYZE, drawn as a tree, and a CI plan gate."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from todoctl.cli import state
from todoctl.cli.options import ForceOption, HtmlOption, JsonOption, check_page_target, write_page


class ExplainGroup(TyperGroup):
    """`todoctl explain NAME` is `todoctl explain run NAME`: a name that is not a subcommand is a query."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "run", self.commands["run"], args
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=ExplainGroup,
    help="EXPLAIN ANALYZE the app's named queries (always rolled back), and gate plans in CI.\n\n"
    "todoctl explain NAME is short for todoctl explain run NAME.",
    no_args_is_help=True,
)
baseline_app = typer.Typer(
    help="Record plan shapes and timings for `explain check --baseline`.\n\n\b\nExample:\n  todoctl explain baseline save plans.json",
    no_args_is_help=True,
)
app.add_typer(baseline_app, name="baseline")


class Format(str, Enum):
    tree = "tree"
    table = "table"
    json = "json"
    text = "text"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f", metavar="tree|table|json|text", help="tree, table, json (PostgreSQL's plan + analysis) or text."
    ),
]
AnalyzeOption = Annotated[
    bool,
    typer.Option("--analyze/--no-analyze", help="Execute (rolled back) for real timings, or only plan (safe on production)."),
]
# The bounds of explain's numbers, in one place (and in their --help).
MIN_RUNS, MAX_RUNS = 1, 1000
MAX_FACTOR = 1000.0
MAX_MIN_MS = 3_600_000.0  # an hour


def _above_one(value: float) -> float:
    # Typer has no open interval; nan fails every comparison, so say it positively.
    if not value > 1:
        raise typer.BadParameter(f"{value:g} is not above 1 (1 would flag every query that is not faster)")
    return value


def _duration(value: str) -> str:
    # Checked before connecting; 0 is refused: every EXPLAIN runs under a statement_timeout.
    from todoctl.settings import check_duration

    return check_duration(value, "--timeout", allow_zero=False)


RunsOption = Annotated[
    int,
    typer.Option(
        "--runs", "-n", min=MIN_RUNS, max=MAX_RUNS, metavar="N", help=f"Execute N times ({MIN_RUNS}..{MAX_RUNS}); report min and median."
    ),
]
TimeoutOption = Annotated[
    str,
    typer.Option("--timeout", callback=_duration, metavar="DURATION", help="statement_timeout for each EXPLAIN, e.g. 500ms, 10s."),
]



def _show(result, fmt: Format, as_json: bool, html: str | None = None, force: bool = False) -> None:
    from todoctl import render
    from todoctl.render import explain as view

    if write_page(html, force=force, build=lambda: _pages().explain_page(result)):
        return  # the page is stdout
    if as_json or fmt is Format.json:
        render.print_json(result)
    else:
        view.plan(result, fmt.value)


def _pages():
    from todoctl.render.html import plans

    return plans


@app.command("list")
def list_queries(as_json: JsonOption = False) -> None:
    """List the named queries, one line each (no database needed); --json adds parameters and budgets.

    \b
    Example:
      todoctl explain list
    """
    from todoctl import render
    from todoctl.named_queries import QueryList, app_queries
    from todoctl.render import explain as view

    queries = app_queries()
    if as_json:
        render.print_json(QueryList([_describe(q) for q in queries.values()]))
    else:
        view.registry(queries)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A named query (see `todoctl explain list`).")],
    as_json: JsonOption = False,
) -> None:
    """Show one named query: its parameters and their defaults, its SQL, its budget and the indexes it relies on (no database needed).

    \b
    Example:
      todoctl explain show task-list
    """
    from todoctl import render
    from todoctl.core.explain.statement import QueryDetail, statement_text
    from todoctl.named_queries import get
    from todoctl.render import explain as view

    named = get(name)
    detail = _describe(named, QueryDetail, sql=statement_text(named))
    if as_json:
        render.print_json(detail)
    else:
        view.query_card(detail)


def _describe(named, kind=None, **more):
    """``named`` as ``explain list`` describes it (a QueryInfo), or as ``kind`` with ``more`` fields."""
    from todoctl import render
    from todoctl.named_queries import ParamInfo, QueryInfo

    return (kind or QueryInfo)(
        name=named.name,
        description=named.description,
        modifies=named.modifies,
        params=[ParamInfo(p.name, p.type_name, p.description, p.optional, p.default_text) for p in named.params],
        where=named.where,
        budget={**render.jsonable(named.budget), "terms": named.budget.terms()},
        indexes=list(named.indexes),
        **more,
    )


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A named query (see `todoctl explain list`).")],
    param: Annotated[
        Optional[list[str]], typer.Option(
            "--param", metavar="NAME=VALUE", help="A parameter's value (repeatable); the others are picked from the data."
        )
    ] = None,
    analyze: AnalyzeOption = True,
    runs: RunsOption = 1,
    fmt: FormatOption = Format.tree,
    timeout: TimeoutOption = "10s",
    html: HtmlOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) a named query in a transaction that is rolled back.

    \b
    Examples:
      todoctl explain task-list --param status=completed --runs 5
      todoctl explain task-list --html plan.html
    """
    from todoctl.core import explain

    check_page_target(html, force=force, as_json=as_json or fmt is Format.json)
    result = explain.explain(state.database_url(), name, params=list(param or []), analyze=analyze, runs=runs, timeout=timeout)
    _show(result, fmt, as_json, html, force)


@app.command("sql")
def sql(
    statement: Annotated[str, typer.Argument(metavar="STATEMENT", help="One SQL statement.")],
    analyze: AnalyzeOption = True,
    runs: RunsOption = 1,
    fmt: FormatOption = Format.tree,
    timeout: TimeoutOption = "10s",
    allow_side_effects: Annotated[
        bool,
        typer.Option(
            "--allow-side-effects",
            help="Allow calls a rollback cannot undo (nextval, pg_terminate_backend, advisory locks...). "
            "Never allowed on a protected database.",
        ),
    ] = False,
    html: HtmlOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """EXPLAIN one ad-hoc statement (SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE) in a
    READ ONLY transaction that is rolled back.

    \b
    Example:
      todoctl explain sql "SELECT count(*) FROM tasks WHERE status = 'pending'"
    """
    from todoctl.core import explain

    check_page_target(html, force=force, as_json=as_json or fmt is Format.json)
    result = explain.explain_sql(
        state.database_url(), statement, analyze=analyze, runs=runs, timeout=timeout, allow_side_effects=allow_side_effects
    )
    _show(result, fmt, as_json, html, force)


@app.command("check")
def check(
    baseline: Annotated[
        Optional[Path], typer.Option("--baseline", "-b", metavar="FILE", help="Also fail on regressions against this saved baseline.")
    ] = None,
    query: Annotated[Optional[list[str]], typer.Option("--query", metavar="NAME", help="Check only this query; repeatable.")] = None,
    runs: RunsOption = 3,
    factor: Annotated[
        float,
        typer.Option(
            "--factor",
            max=MAX_FACTOR,
            metavar="NUMBER",
            callback=_above_one,
            help=f"Fail when execution exceeds the baseline by this factor (above 1, at most {MAX_FACTOR:g}).",
        ),
    ] = 3.0,
    min_ms: Annotated[
        float,
        typer.Option(
            "--min-ms",
            metavar="MS",
            min=0.0,
            max=MAX_MIN_MS,
            help="…and by at least this many ms (sub-millisecond noise is not a regression).",
        ),
    ] = 1.0,
    timeout: TimeoutOption = "10s",
    html: HtmlOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run every named query against its budget (and a baseline); exit 1 when one breaks it.

    --html FILE writes the gate as one page (each query's verdict, budget and plan), also when it fails.

    \b
    Examples:
      todoctl explain baseline save plans.json
      todoctl explain check --baseline plans.json --html plans.html
    """
    from todoctl import render
    from todoctl.core import explain
    from todoctl.render import explain as view

    check_page_target(html, force=force, as_json=as_json)
    report = explain.check(
        state.database_url(), names=query or None, runs=runs, timeout=timeout, baseline=baseline, factor=factor, min_ms=min_ms
    )
    if write_page(html, force=force, build=lambda: _pages().check_page(report)):
        pass  # the page is stdout
    elif as_json:
        render.print_json(report)
    else:
        view.check(report)
    if not report.ok:
        raise typer.Exit(1)


@baseline_app.command("save")
def baseline_save(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The JSON file to write.")],
    runs: RunsOption = 3,
    timeout: TimeoutOption = "10s",
    as_json: JsonOption = False,
) -> None:
    """Record every named query's plan shape, rows read and sorted, buffers and median execution time.

    \b
    Example:
      todoctl explain baseline save plans.json
    """
    from todoctl import render
    from todoctl.core import explain
    from todoctl.render import explain as view

    saved = explain.save_baseline(state.database_url(), file, runs=runs, timeout=timeout)
    if as_json:
        render.print_json(saved)
    else:
        view.baseline_saved(saved)

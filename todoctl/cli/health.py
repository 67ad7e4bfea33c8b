"""`todoctl health`: is this database fit to serve? Exit 0 healthy, 1 unhealthy, 3 unreachable."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from todoctl.cli import state
from todoctl.cli.help_words import left_to_core
from todoctl.cli.options import JsonOption

CheckOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--check",
        "-c",
        metavar="NAME",
        help="Run only this check (repeatable), e.g. migrations; an unknown name lists them all.",
        show_default=False,
    ),
]
ThresholdOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--threshold",
        "-t",
        metavar="NAME=VALUE",
        help="Override a threshold (repeatable), by the name and in the unit --json reports it "
        "(ms, ratio 0-1, bytes), e.g. long_query_warn_ms=30000; TODOCTL_HEALTH_LONG_QUERY_WARN_MS "
        "sets it too. `todoctl health thresholds` lists every name, unit, default and variable.",
        show_default=False,
    ),
]

StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")]
PingsOption = Annotated[
    Optional[str],
    typer.Option(
        "--pings",
        metavar="N",
        envvar="TODOCTL_HEALTH_PINGS",
        callback=left_to_core,
        help="Round trips to time, 1 to 1000.",
    ),
]
SampleOption = Annotated[
    float,
    typer.Option(
        "--sample",
        metavar="SECONDS",
        help="Measure cache-hit over SECONDS now, instead of over the time since the previous run.",
    ),
]
ShowQueryTextOption = Annotated[
    bool,
    typer.Option(
        "--show-query-text",
        help="Show other sessions' SQL in full; by default its literals and comments are masked.",
    ),
]
ProbeOption = Annotated[
    int,
    typer.Option(
        "--probe",
        min=0,
        max=1000,  # todoctl.core.health.pool.MAX_PROBE_SESSIONS: one thread per session
        metavar="N",
        help="Run N (1-1000) concurrent sessions through the app's pool (the engine in [tool.todoctl], on this database).",
    ),
]
ProbeHoldOption = Annotated[
    float,
    typer.Option("--probe-hold", min=0, metavar="SECONDS", help="How long each probe session holds its connection."),
]
WatchOption = Annotated[
    Optional[float],
    typer.Option(
        "--watch",
        min=0.1,
        metavar="SECONDS",
        help="Refresh a live view every SECONDS until Ctrl-C.",
        show_default=False,
    ),
]


def _overrides(pairs: list[str] | None, pings: str | None) -> dict[str, str]:
    from todoctl.core.health import Thresholds
    from todoctl.errors import usage_error

    overrides = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise usage_error(
                f"--threshold takes NAME=VALUE, not {pair!r}", "e.g. --threshold idle_in_transaction_warn_ms=10000"
            )
        overrides[name.strip().replace("-", "_")] = value.strip()
    if pings is not None:
        overrides["pings"] = str(Thresholds.parse("pings", pings, "--pings"))
    return overrides


# `todoctl health` runs the checks; `todoctl health thresholds` lists their limits.
app = typer.Typer(invoke_without_command=True, no_args_is_help=False, subcommand_metavar="[COMMAND]")


@app.callback()
def health(
    ctx: typer.Context,
    checks: CheckOption = None,
    strict: StrictOption = False,
    thresholds: ThresholdOption = None,
    pings: PingsOption = "10",
    probe: ProbeOption = 0,
    probe_hold: ProbeHoldOption = 0.05,
    watch: WatchOption = None,
    sample: SampleOption = 0.0,
    show_query_text: ShowQueryTextOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check that the database is fit to serve: exit 0 healthy, 1 a check failed, 3 cannot connect.

    `todoctl health thresholds` lists the limits each check judges by.

    \b
    Examples:
      todoctl health
      todoctl health --check migrations --check connections --json
    """
    if ctx.invoked_subcommand is not None:
        return  # `health thresholds`: a listing, no database
    from functools import partial

    from todoctl import render
    from todoctl.core import health as core
    from todoctl.errors import usage_error
    from todoctl.render import health as view

    if watch is not None and as_json:
        raise usage_error("--watch draws a live view; it cannot be combined with --json")
    limits = core.Thresholds.from_env(_overrides(thresholds, pings))
    core.selected(checks)  # an unknown check name is a usage error before any connection
    run = partial(
        core.run,
        state.database_url(),
        checks=checks,
        thresholds=limits,
        strict=strict,
        probe=probe,
        probe_hold=probe_hold,
        sample=sample,
        show_query_text=show_query_text,
    )
    if watch is not None:
        try:
            view.watch(run, watch)  # returns only through Ctrl-C
        except KeyboardInterrupt:
            raise typer.Exit(130) from None  # Ctrl-C is how a watch ends: no error message
    from todoctl.render.steps import step_progress

    with step_progress("probe", "sessions", enabled=bool(probe) and not as_json, from_first_advance=True) as advance:
        result = run(on_probe=advance)
    if as_json:
        render.print_json(result)
    else:
        view.report(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command("thresholds")
def thresholds(as_json: JsonOption = False) -> None:
    """List every threshold health judges by: its name, unit, default, check and environment variable.

    Set one with --threshold NAME=VALUE, or with TODOCTL_HEALTH_ and its NAME in capitals, in the unit
    shown (the option wins).

    \b
    Example:
      todoctl health thresholds --json
    """
    from todoctl import render
    from todoctl.core.health.thresholds import ThresholdList, listing
    from todoctl.render import health as view

    rows = listing()
    if as_json:
        render.print_json(ThresholdList(rows))
    else:
        view.thresholds(rows)

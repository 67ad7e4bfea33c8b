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
        # The names are written out because --help must not import core (tests/cli/test_startup.py);
        # tests/cli/health/test_health_thresholds.py checks they are Thresholds.names().
        help="Override a threshold (repeatable), in the units --json reports (ms, ratio 0-1, bytes), "
        "e.g. long_query_warn_ms=30000; each is also read from TODOCTL_HEALTH_ followed by its NAME in "
        "capitals. NAME: connect_warn_ms, connect_fail_ms, pings, latency_warn_ms, latency_fail_ms, "
        "connections_warn_ratio, connections_fail_ratio, long_query_warn_ms, long_query_fail_ms, "
        "idle_in_transaction_warn_ms, idle_in_transaction_fail_ms, blocking_warn_ms, blocking_fail_ms, "
        "cache_hit_warn_ratio, cache_hit_fail_ratio, cache_hit_min_blocks, window_max_ms, "
        "unused_index_min_scans, dead_tuple_warn_ratio, dead_tuple_fail_ratio, dead_tuple_min_rows, "
        "wraparound_warn_age, wraparound_fail_age, sequence_warn_ratio, sequence_fail_ratio, "
        "replication_lag_warn_bytes, replication_lag_fail_bytes, replication_lag_warn_ms, "
        "replication_lag_fail_ms, replication_slot_warn_bytes, replication_slot_fail_bytes, top_queries, "
        "top_query_mean_warn_ms, probe_wait_warn_ms, statement_timeout_ms. The older names in seconds, "
        "percent and MB (long_query_warn_s=30) still work.",
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
        help="Run N (1-1000) concurrent sessions through the app's pool (todoctl.app, DB_POOL_*).",
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


def health(
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

    \b
    Examples:
      todoctl health
      todoctl health --check migrations --check connections --json
    """
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
        render.print_json(view.document(result))
    else:
        view.report(result)
    if not result.ok:
        raise typer.Exit(1)

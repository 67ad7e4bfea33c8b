"""`todoctl seed`: fill the app tables with realistic, deterministic data."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from todoctl.cli import state
from todoctl.cli.options import JsonOption, YesOption


def _now(value: str | None):
    if value is None:
        return None
    from datetime import datetime

    from todoctl.errors import usage_error

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise usage_error(
            f"--now must be an ISO 8601 date-time, not {value!r}", "for example --now 2026-06-01T09:00:00Z"
        ) from None


def seed(
    users: Annotated[Optional[int], typer.Option("--users", "-u", metavar="N", help="Users to create (1 to 1,000,000).", show_default="the profile's")] = None,
    tasks_per_user: Annotated[
        Optional[float], typer.Option(
            "--tasks-per-user", metavar="NUMBER", help="Mean tasks per user, 0 to 10,000 (skewed: a few heavy users); at most 20,000,000 tasks in all.",
            show_default="the profile's",
        )
    ] = None,
    seed_value: Annotated[Optional[int], typer.Option("--seed", "-s", metavar="INTEGER", help="Random seed.", show_default="the profile's")] = None,
    profile: Annotated[str, typer.Option("--profile", "-p", metavar="NAME|FILE", help="small, demo, load, or a path to a TOML profile.")] = "demo",
    append: Annotated[bool, typer.Option("--append", help="Add to tables that already hold rows (emails stay unique).")] = False,
    truncate: Annotated[bool, typer.Option("--truncate", help="Empty the app tables first (same transaction).")] = False,
    now: Annotated[
        Optional[str], typer.Option("--now", metavar="DATETIME", help="Reference time for timestamps (ISO 8601).", show_default="the profile's")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the rows each table would get; connect to nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fill users, lists, tags, tasks and task tags with realistic data, all or nothing.

    Same seed and profile give identical tables; the fingerprint shows it. Refuses tables
    that already hold rows unless --append or --truncate, and a protected database unless
    --yes with TODOCTL_ALLOW_PRODUCTION=1.

    \b
    Examples:
      todoctl seed --truncate --users 100
      todoctl seed --profile load --dry-run
    """
    from todoctl.errors import usage_error

    if append and truncate:
        raise usage_error(
            "--append and --truncate cannot be used together",
            "--append adds to the rows there; --truncate replaces them: pick one",
        )
    from todoctl import render
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import seed as core
    from todoctl.render import seed as view

    when = _now(now)
    mode = "append" if append else "truncate" if truncate else "refuse"
    options = dict(profile=profile, users=users, tasks_per_user=tasks_per_user, seed=seed_value, now=when, mode=mode)
    if dry_run:  # no URL resolution either: the embedded server is not even started
        from todoctl.db.url import configured_url

        report = core.run(configured_url(state.current.database_url), dry_run=True, **options)
    else:
        url = state.database_url(announce=True)
        with terminate_as_interrupt(), view.progress(enabled=not (quiet or as_json)) as progress:
            report = core.run(url, progress=progress, yes=yes, **options)
    if as_json:
        render.print_json({"ok": True, **render.jsonable(report)})
    else:
        view.summary(report)

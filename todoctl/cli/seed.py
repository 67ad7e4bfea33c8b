"""`todoctl seed`: fill every table of the app's models with realistic, deterministic data."""

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
    rows: Annotated[
        Optional[list[str]], typer.Option(
            "--rows", metavar="N|TABLE=N",
            help="Rows of each table no key requires a parent for (N), or of one table (TABLE=N); repeatable.",
            show_default="the profile's",
        )
    ] = None,
    users: Annotated[
        Optional[int], typer.Option("--users", "-u", metavar="N", help="Rows of the app's users table.", show_default="the profile's")
    ] = None,
    seed_value: Annotated[Optional[int], typer.Option("--seed", "-s", metavar="INTEGER", help="Random seed.", show_default="the profile's")] = None,
    profile: Annotated[
        Optional[str], typer.Option(
            "--profile", "-p", metavar="NAME|FILE", help="A profile of the app's seed directory, or a path to a TOML profile.",
            show_default="demo if the app has one, else the models alone",
        )
    ] = None,
    locale: Annotated[
        Optional[str], typer.Option("--locale", metavar="LOCALE", help="Faker's locale for names and words (de_DE, ja_JP, ...).",
                                    show_default="the profile's, else en_US")  # fmt: skip
    ] = None,
    append: Annotated[bool, typer.Option("--append", help="Add to tables that already hold rows.")] = False,
    truncate: Annotated[bool, typer.Option("--truncate", help="Empty the app tables first (same transaction).")] = False,
    now: Annotated[
        Optional[str], typer.Option("--now", metavar="DATETIME", help="Reference time for timestamps (ISO 8601).", show_default="the profile's")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show every table's rows and every column's generator; touch no database.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fill every table of the app's models with realistic data, all or nothing.

    Rows, values and constraints come from the models; a profile (docs/seed.md) sets counts and
    column generators where realism needs them. Same seed and profile give identical tables; the
    fingerprint shows it. Refuses tables that already hold rows unless --append or --truncate,
    and a protected database unless --yes with TODOCTL_ALLOW_PRODUCTION=1.

    \b
    Examples:
      todoctl seed --users 100 --truncate
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
    options = dict(profile=profile, rows=rows, users=users, seed=seed_value, now=when, locale=locale, mode=mode)
    if dry_run:  # no URL resolution either: the embedded server is not even started
        from todoctl.db.target import configured_url

        report = core.run(configured_url(state.current.database_url), dry_run=True, **options)
    else:
        url = state.database_url(announce=True)
        with terminate_as_interrupt(), view.progress(enabled=not (quiet or as_json)) as progress:
            report = core.run(url, progress=progress, yes=yes, **options)
    if as_json:
        render.print_json(report)
    else:
        view.summary(report)

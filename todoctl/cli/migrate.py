"""`todoctl migrate`: move the database through the migration history, and gate CI on it."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from todoctl.cli import state
from todoctl.cli.help_words import left_to_core
from todoctl.cli.options import DryRunOption, JsonOption, MigrationsOption, YesOption

app = typer.Typer(help="Apply, roll back, inspect and check Alembic migrations.", no_args_is_help=True)

LockTimeoutOption = Annotated[
    Optional[str],
    typer.Option(
        "--lock-timeout",
        metavar="DURATION",
        envvar="TODOCTL_LOCK_TIMEOUT",
        callback=left_to_core,
        help="lock_timeout per statement, e.g. 5s or 500ms.",
    ),
]
StatementTimeoutOption = Annotated[
    Optional[str],
    typer.Option(
        "--statement-timeout",
        metavar="DURATION",
        envvar="TODOCTL_STATEMENT_TIMEOUT",
        callback=left_to_core,
        help="statement_timeout per statement, e.g. 10min.",
    ),
]
def _seconds(ctx, param, value):
    # Text, not a float option: Click would parse TODOCTL_LOCK_WAIT itself; core reads and checks it.
    value = left_to_core(ctx, param, value)
    if value is None:
        return None
    from todoctl.core.migrate.lock import check_lock_wait

    return check_lock_wait(value)


LockWaitOption = Annotated[
    Optional[str],
    typer.Option(
        "--lock-wait",
        metavar="SECONDS",
        envvar="TODOCTL_LOCK_WAIT",
        callback=_seconds,
        help="How long to wait for the migration lock (0 or more seconds), then exit 5.",
    ),
]
LockRetriesOption = Annotated[
    int, typer.Option("--lock-retries", min=0, metavar="N", help="Retries of a revision that hit lock_timeout, with backoff.")
]
SqlOption = Annotated[
    bool,
    typer.Option("--sql", help="Print the SQL instead of running it (Alembic's --sql; TARGET may be FROM:TO)."),
]



def _refuse_unknown_option(target: str) -> None:
    """`down` lets unknown options through so that ``-2`` is a target; any other ``-x`` is an option it lacks."""
    if target.startswith("-") and not target[1:].isdigit():
        from todoctl.cli.habits import no_such_option

        raise no_such_option(target)


def _options(lock_timeout, statement_timeout, lock_wait, lock_retries, yes=False):
    from todoctl.core.migrate import RunOptions, Timeouts

    return RunOptions(
        timeouts=Timeouts.from_env(lock_timeout, statement_timeout),
        lock_wait=lock_wait,
        lock_retries=lock_retries,
        yes=yes,
    )


def _show(result, as_json: bool, view_name: str, *, ok: bool = True) -> None:
    from todoctl import render
    from todoctl.render import migrate as view

    if as_json:
        render.print_json(result, ok=ok)
    else:
        getattr(view, view_name)(result)
    if not ok:
        raise typer.Exit(1)


@app.command("up")
def up(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="head, a revision id, or +N.")] = "head",
    migrations: MigrationsOption = None,
    lock_timeout: LockTimeoutOption = "5s",
    statement_timeout: StatementTimeoutOption = "10min",
    lock_wait: LockWaitOption = "60",
    lock_retries: LockRetriesOption = 3,
    sql_only: SqlOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Apply pending migrations under the migration lock, one transaction per revision.

    \b
    Examples:
      todoctl migrate up --dry-run
      todoctl migrate up --lock-wait 300
    """
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import migrate
    from todoctl.core.migrate import alembic_words

    alembic_words.reject_step_count(target, "up", migrations=migrations)
    if sql_only:
        return _print_sql(target, "up", migrations, as_json)
    if dry_run:
        return _dry_run("up", target, migrations, as_json)
    options = _options(lock_timeout, statement_timeout, lock_wait, lock_retries)
    with terminate_as_interrupt():
        result = migrate.upgrade(state.database_url(direct=True, announce=True), target, migrations=migrations, options=options)
    _show(result, as_json, "run")


# "-2" is a target, not an option.
@app.command("down", context_settings={"ignore_unknown_options": True})
def down(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="-N, a revision id, or base.")] = "-1",
    migrations: MigrationsOption = None,
    lock_timeout: LockTimeoutOption = "5s",
    statement_timeout: StatementTimeoutOption = "10min",
    lock_wait: LockWaitOption = "60",
    lock_retries: LockRetriesOption = 3,
    yes: YesOption = False,
    sql_only: SqlOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Roll back migrations: one step by default. Refused on a protected database.

    \b
    Examples:
      todoctl migrate down
      todoctl migrate down -2
    """
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import migrate
    from todoctl.core.migrate import alembic_words

    _refuse_unknown_option(target)
    alembic_words.reject_step_count(target, "down", migrations=migrations)
    if sql_only:
        return _print_sql(target, "down", migrations, as_json)
    if dry_run:
        return _dry_run("down", target, migrations, as_json, yes=yes)
    options = _options(lock_timeout, statement_timeout, lock_wait, lock_retries, yes)
    url = state.database_url(direct=True, announce=True)
    options = _confirm_drops(url, "down", target, migrations, options, yes=yes)
    with terminate_as_interrupt():
        result = migrate.downgrade(url, target, migrations=migrations, options=options)
    _show(result, as_json, "run")


def _confirm_drops(url, direction: str, target: str, migrations, options, *, yes: bool):
    """Say what the downgrade drops that holds rows and ask (exit 4 without a terminal unless --yes);
    the runner counts again under the lock and refuses what was not confirmed."""
    import sys
    from dataclasses import replace

    from todoctl.core.migrate.losses import refusal, summary, total
    from todoctl.core.migrate.plan import plan
    from todoctl.errors import ExitCode, TodoctlError

    planned = plan(url, direction, target, migrations=migrations, options=options)
    if total(planned.losses) and not yes:
        what = f"migrate {direction} to {_revs(planned.after)}"
        if not sys.stdin.isatty():
            raise refusal(url.display, what, planned.losses)
        question = f"{what} on {url.display} drops {summary(planned.losses)}. Continue?"
        if not typer.confirm(question, default=False):
            raise TodoctlError("not confirmed; nothing changed", exit_code=ExitCode.REFUSED)
    return replace(options, drop_rows=True)


def _revs(revisions: list[str]) -> str:
    return ", ".join(revisions) or "base"


@app.command("reset")
def reset(
    migrations: MigrationsOption = None,
    lock_timeout: LockTimeoutOption = "5s",
    statement_timeout: StatementTimeoutOption = "10min",
    lock_wait: LockWaitOption = "60",
    lock_retries: LockRetriesOption = 3,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Roll back every revision, then apply them all again: the app's tables are dropped with their rows.

    Asks first (--yes without a terminal); refused on a protected database unless --yes with
    TODOCTL_ALLOW_PRODUCTION=1. One lock hold, one transaction per revision, like up and down.

    \b
    Example:
      todoctl migrate reset --yes
    """
    from todoctl.cli.confirm import confirm_or_refuse
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import migrate
    import todoctl.core.safety.protect as protect

    if dry_run:
        return _dry_run("reset", "head", migrations, as_json, yes=yes)
    from dataclasses import replace

    from todoctl.core.migrate.losses import summary, total
    from todoctl.core.migrate.plan import plan

    url = state.database_url(direct=True, announce=True)
    protect.guard_url(url, "reset it (every table of the app dropped, then migrated again)", yes=yes)
    options = _options(lock_timeout, statement_timeout, lock_wait, lock_retries, yes)
    losses = plan(url, "reset", "head", migrations=migrations, options=options).losses
    dropped = f" ({summary(losses)}: {total(losses):,} rows and values)" if losses else ""
    confirm_or_refuse(f"Reset {url.display}: drop the app's tables and every row{dropped}, then migrate up to head?", yes=yes)
    options = replace(options, drop_rows=True)
    with terminate_as_interrupt():
        result = migrate.reset(url, migrations=migrations, options=options)
    _show(result, as_json, "run")


@app.command("stamp")
def stamp(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="A revision id, head or base.")],
    migrations: MigrationsOption = None,
    lock_wait: LockWaitOption = "60",
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record REVISION as current without running migrations. Refused on a protected database.

    \b
    Example:
      todoctl migrate stamp 0006
    """
    from todoctl.core import migrate

    if dry_run:
        return _dry_run("stamp", revision, migrations, as_json, yes=yes)
    options = _options(None, None, lock_wait, 0, yes)
    result = migrate.stamp(state.database_url(direct=True, announce=True), revision, migrations=migrations, options=options)
    _show(result, as_json, "run")


@app.command("status")
def status(
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code/--no-exit-code",
            help="Exit 1 when not at head (dbmate's --exit-code, Prisma's migrate status); "
            "--no-exit-code: exit 0 whatever the state.",
        ),
    ] = True,
    migrations: MigrationsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every revision, applied [X] or pending [ ], the current one and the head. Exit 1 when not at head.

    \b
    Examples:
      todoctl migrate status
      todoctl migrate status --no-exit-code --json
    """
    from todoctl.core import migrate

    result = migrate.status(state.database_url(), migrations=migrations)
    _show(result, as_json, "status", ok=result.at_head or not exit_code)


@app.command("history")
def history(migrations: MigrationsOption = None, as_json: JsonOption = False) -> None:
    """List every revision, oldest first (reads the scripts; no database needed).

    \b
    Example:
      todoctl migrate history
    """
    from todoctl import render
    from todoctl.core import migrate
    from todoctl.render import migrate as view

    revisions = migrate.history(migrations=migrations)
    if as_json:
        render.print_json(migrate.RevisionList(revisions))
    else:
        view.history(revisions)


@app.command("new")
def new(
    message: Annotated[str, typer.Option("--message", "-m", metavar="TEXT", help="What the revision does.")],
    empty: Annotated[bool, typer.Option("--empty", help="Write a blank revision instead of autogenerating.")] = False,
    migrations: MigrationsOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a new revision, autogenerated from the models against a database at head.

    Refused when the models and the database agree (nothing to migrate); --empty writes a blank
    revision for what autogenerate cannot see (data moves, renames).

    \b
    Examples:
      todoctl migrate new -m "backfill due dates" --empty --dry-run
      todoctl migrate new -m "backfill due dates" --empty
    """
    from todoctl.core import migrate

    url = None if empty else state.database_url(direct=True)
    result = migrate.new_revision(message, url=url, empty=empty, migrations=migrations, dry_run=dry_run)
    _show(result, as_json, "new")


@app.command("merge")
def merge(
    message: Annotated[str, typer.Option("--message", "-m", metavar="TEXT", help="What the merge joins.")] = "merge heads",
    migrations: MigrationsOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a revision that joins several heads into one (no database needed).

    \b
    Examples:
      todoctl migrate merge --dry-run
      todoctl migrate merge -m "merge tags and reminders"
    """
    from todoctl.core import migrate

    result = migrate.merge_heads(message, migrations=migrations, dry_run=dry_run)
    _show(result, as_json, "new")


@app.command("check")
def check(migrations: MigrationsOption = None, as_json: JsonOption = False) -> None:
    """CI gate: exit 1 when the database is behind, at an unknown revision, or differs from the models.

    A difference at head is blamed on the models (no migration) or on a hand change.

    \b
    Example:
      todoctl migrate check --json
    """
    from todoctl.core import migrate

    result = migrate.check(state.database_url(), migrations=migrations)
    _show(result, as_json, "check", ok=result.ok)


@app.command("sql")
def sql(
    rev_range: Annotated[
        Optional[str],
        typer.Argument(
            metavar="REV|FROM:TO",
            help="REV: that revision's SQL; FROM:TO: the range, a downgrade when TO is older.",
            show_default="what is pending on the database",
        ),
    ] = None,
    down: Annotated[bool, typer.Option("--down", help="REV's downgrade SQL instead of its upgrade.")] = False,
    migrations: MigrationsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the SQL a migration would run, with the timeouts todoctl sets (offline).

    \b
    Examples:
      todoctl migrate sql 0007 --down
      todoctl migrate sql base:head > schema.sql
    """
    from todoctl.core import migrate

    url = None if rev_range or down else state.database_url()  # --down alone is refused before connecting
    _echo_sql(migrate.offline_sql(url, rev_range, migrations=migrations, down=down), as_json)


def _dry_run(direction: str, target: str, migrations, as_json: bool, *, yes: bool = False) -> None:
    """--dry-run: the plan, read without the lock; refused where the real run would be."""
    from todoctl.core.migrate import RunOptions
    from todoctl.core.migrate.plan import plan

    url = state.database_url(direct=True, announce=True)
    _show(plan(url, direction, target, migrations=migrations, options=RunOptions(yes=yes)), as_json, "plan")


def _echo_sql(result, as_json: bool) -> None:
    if as_json:
        from todoctl import render

        render.print_json(result)
    else:
        typer.echo(result.sql or f"-- nothing to migrate for {result.range}", nl=not result.sql)


def _print_sql(target: str, direction: str, migrations, as_json: bool) -> None:
    """`up/down --sql`: Alembic's offline mode; a range FROM:TO needs no database."""
    from todoctl.core.migrate import alembic_words

    url = None if ":" in target else state.database_url()
    _echo_sql(alembic_words.offline_sql(url, target, direction, migrations=migrations), as_json)


@app.command("lint")
def lint(
    rev_range: Annotated[Optional[str], typer.Argument(metavar="FROM:TO", help="The revisions to lint.", show_default="all")] = None,
    migrations: MigrationsOption = None,
    pg_version: Annotated[str, typer.Option("--pg-version", metavar="VERSION", help="Oldest server version to lint for.")] = "14",
    as_json: JsonOption = False,
) -> None:
    """CI gate: squawk over every revision's SQL; exit 1 on findings that are not allowed.

    \b
    Example:
      todoctl migrate lint
    """
    from todoctl.core import migrate

    result = migrate.lint(rev_range, migrations=migrations, pg_version=pg_version)
    _show(result, as_json, "lint", ok=result.ok)


@app.command("verify")
def verify(migrations: MigrationsOption = None, as_json: JsonOption = False) -> None:
    """CI gate: replay the history on a throwaway database, down and up at every step.

    \b
    Example:
      todoctl migrate verify
    """
    from todoctl.cli.signals import terminate_as_interrupt
    from todoctl.core import migrate

    from todoctl.render.steps import step_progress

    # It creates a database and migrates it: the direct endpoint, like every schema change.
    url = state.database_url(direct=True, announce=True)
    with terminate_as_interrupt(), step_progress("verify", "revisions", enabled=not as_json) as advance:
        result = migrate.verify(url, migrations=migrations, on_step=advance)
    _show(result, as_json, "verify", ok=result.ok)


@app.command("current")
def current(migrations: MigrationsOption = None, as_json: JsonOption = False) -> None:
    """Print the revision the database records (like `alembic current`; exit 0 even when behind).

    \b
    Example:
      todoctl migrate current
    """
    from todoctl.core.migrate import alembic_words

    _show(alembic_words.current(state.database_url(), migrations=migrations), as_json, "current")


@app.command("heads")
def heads(migrations: MigrationsOption = None, as_json: JsonOption = False) -> None:
    """Print the head revision(s) of the history (like `alembic heads`; no database needed).

    \b
    Example:
      todoctl migrate heads
    """
    from todoctl import render
    from todoctl.core.migrate import alembic_words
    from todoctl.render import migrate as view

    revisions = alembic_words.heads(migrations=migrations)
    if as_json:
        from todoctl.core.history import Heads

        render.print_json(Heads(revisions))
    else:
        view.heads(revisions)


# Alembic's verbs, as aliases: the same functions under a second name, listed as "Alias of ...".
app.command("upgrade", help="Alias of `up` (Alembic's word).\n\n\b\nExample:\n  todoctl migrate upgrade head")(up)
app.command(
    "downgrade",
    help="Alias of `down` (Alembic's word).\n\n\b\nExample:\n  todoctl migrate downgrade -1",
    context_settings={"ignore_unknown_options": True},
)(down)

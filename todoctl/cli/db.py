"""`todoctl db`: the embedded PostgreSQL server, and the URL todoctl resolves."""

from __future__ import annotations

import typer

from todoctl.cli import state
from todoctl.cli.options import DryRunOption, JsonOption, YesOption

app = typer.Typer(help="Manage the embedded PostgreSQL server and show the database URL.", no_args_is_help=True)


def _print(result, as_json: bool, line: str, indent: int | None = None) -> None:
    from todoctl import render

    if as_json:
        render.print_json(result)
    else:
        from todoctl.render.layout import echo

        echo(line, indent=indent)


def _would(action: str, database: str, sentence: str, as_json: bool, **facts) -> None:
    """A --dry-run's answer: what would happen; nothing was changed."""
    from todoctl.core.db.server import DryRun

    _print(DryRun(action, database, sentence, **facts), as_json, f"Dry run: would {sentence}. Nothing changed.")


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Show whether the embedded server runs, where its data lives, and which URL todoctl would use.

    \b
    Example:
      todoctl db status
    """
    from todoctl.core import db

    info = db.status(state.current.database_url)

    label = len("embedded server: ")
    target = info.target_database
    uses = (
        f"{target.url} (from {target.source})"
        if target.url
        else f"the embedded server's database {target.name}, started on first use"
    )
    text = (
        f"embedded server: {'running (pid %s)' % info.pid if info.running else 'stopped'}\n"
        f"data directory:  {info.pgdata}\n"
        f"todoctl uses:    {uses}"
    )
    _print(info, as_json, text, indent=label)


@app.command("start")
def start(dry_run: DryRunOption = False, as_json: JsonOption = False) -> None:
    """Start the embedded server (it keeps running for later commands).

    \b
    Example:
      todoctl db start
    """
    from todoctl.core import db

    if dry_run:
        info = db.status()
        sentence = f"leave the embedded server running (pid {info.pid})" if info.running else f"start the embedded server on {info.pgdata}"
        return _would("start", info.pgdata, sentence, as_json, running=info.running)

    info = db.start()

    _print(info, as_json, f"embedded server running (pid {info.pid}), data in {info.pgdata}")


@app.command("stop")
def stop(dry_run: DryRunOption = False, as_json: JsonOption = False) -> None:
    """Stop the embedded server.

    \b
    Example:
      todoctl db stop
    """
    from todoctl.core import db

    if dry_run:
        info = db.status()
        sentence = f"stop the embedded server (pid {info.pid})" if info.running else "do nothing: the embedded server is not running"
        return _would("stop", info.pgdata, sentence, as_json, running=info.running)

    stopped = db.stop()
    _print(db.Stopped(stopped), as_json, "embedded server stopped" if stopped else "embedded server was not running")


@app.command("url")
def url(
    show_password: bool = typer.Option(False, "--show-password", help="Print the password (for scripts)."),
) -> None:
    """Print the database URL todoctl resolves (password masked unless --show-password).

    \b
    Example:
      todoctl db url --show-password
    """
    from todoctl.core import db

    typer.echo(db.libpq_url(state.current.database_url, show_password=show_password))


@app.command("shell")
def shell() -> None:
    """Open psql on the database (the embedded package ships psql).

    \b
    Example:
      todoctl db shell
    """
    from todoctl.core import db

    raise typer.Exit(db.shell(state.current.database_url))


@app.command("protect")
def protect(
    reason: str = typer.Option(None, "--reason", metavar="TEXT", help="Why (shown when a command is refused)."),
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Mark the connected database as production: destructive commands refuse on it.

    \b
    Example:
      todoctl db protect --reason "shared staging database"
    """
    import todoctl.core.safety.protect as core

    url = state.database_url(direct=True, announce=True)
    if dry_run:
        now = core.status(url)
        return _would("protect", url.display, f"mark {url.display} as protected" + (" (it already is)" if now.protected else ""),
                      as_json, protected=now.protected)
    mark = core.protect(url, reason)
    _print(mark, as_json, f"{mark.database} is now protected (by {mark.by}).")


@app.command("unprotect")
def unprotect(yes: YesOption = False, dry_run: DryRunOption = False, as_json: JsonOption = False) -> None:
    """Remove the production mark: needs --yes and TODOCTL_ALLOW_PRODUCTION=1, like the commands it unlocks.

    On a database that is not protected there is nothing to do (exit 0).

    \b
    Example:
      todoctl db unprotect --yes
    """
    import todoctl.core.safety.protect as core

    url = state.database_url(direct=True, announce=True)
    now = core.status(url)
    core.refuse_if_protected(now, url, "remove its production mark", yes=yes)
    if dry_run:
        sentence = f"remove the production mark from {url.display}" if now.protected else f"do nothing: {url.display} is not protected"
        return _would("unprotect", url.display, sentence, as_json, protected=now.protected)
    if not now.protected:
        _print(now, as_json, f"{now.database} is not protected: nothing to do.")
        return
    mark = core.unprotect(url, yes=yes)
    _print(mark, as_json, f"{mark.database} is no longer protected.")


@app.command("protection")
def protection(as_json: JsonOption = False) -> None:
    """Show whether the connected database is protected.

    \b
    Example:
      todoctl db protection --json
    """
    import todoctl.core.safety.protect as core

    mark = core.status(state.database_url())
    line = f"{mark.database}: " + (f"protected (by {mark.by} at {mark.at})" if mark.protected else "not protected")
    _print(mark, as_json, line)


@app.command("cancel")
def cancel(
    pid: int = typer.Argument(..., metavar="PID", help="The session's process id (pg_stat_activity.pid)."),
    terminate: bool = typer.Option(
        False, "--terminate", help="End the whole session (pg_terminate_backend), not only its query."
    ),
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Cancel another session's query (pg_cancel_backend), or end the session with --terminate.

    Asks for confirmation (--yes without a terminal); refused on a protected database unless
    --yes with TODOCTL_ALLOW_PRODUCTION=1.

    \b
    Example:
      todoctl db cancel "$PID" --terminate --yes
    """
    from todoctl.cli.confirm import confirm_or_refuse
    from todoctl.core.db import sessions
    import todoctl.core.safety.protect as protect

    url = state.database_url(announce=True)
    checked = sessions.target(url, pid, terminate=terminate)
    action = "end the session of" if terminate else "cancel the query of"
    protect.refuse_if_protected(checked.protection, url, f"{action} pid {pid}", yes=yes)
    if dry_run:  # checked as the real run checks it (session, permission, protection); not signalled
        return _would("terminate" if terminate else "cancel", url.display, f"{action} {checked.session.describe()}", as_json, pid=pid)
    confirm_or_refuse(f"{action.capitalize()} {checked.session.describe()} on {url.display}?", yes=yes)
    result = sessions.signal(url, pid, terminate=terminate)
    if terminate:
        line = f"pid {pid}: " + ("session ended" if result.session_gone else "asked to end; still listed")
    else:
        line = f"pid {pid}: " + ("query cancelled" if result.signalled else "not signalled (it had just gone)")
    _print(result, as_json, line)


@app.command("wait")
def wait(
    timeout: float = typer.Option(60, "--timeout", min=0, metavar="SECONDS", help="Seconds to keep trying before giving up (exit 3)."),
    as_json: JsonOption = False,
) -> None:
    """Wait until the database accepts connections (dbmate's `wait`), retrying with backoff.

    Exit 0 when it does; exit 3 with the last connection error when --timeout passes.

    \b
    Example:
      todoctl db wait --timeout 30 && todoctl migrate up
    """
    from todoctl.core.db.wait import wait_for

    result = wait_for(state.database_url(), timeout=timeout)
    _print(result, as_json, f"{result.database} accepts connections ({result.attempts} attempts, {result.duration_ms / 1000:g}s).")

"""The root `todoctl` command: global options, sub-apps, and the one place errors are reported."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # Typer >= 0.29 vendors Click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption
except ImportError:  # pragma: no cover - older Typer on Click
    from click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption

from todoctl import __version__, render
from todoctl.cli import state
from todoctl.cli.help_words import left_to_core, with_examples
from todoctl.cli.options import JsonOption
from todoctl.errors import ExitCode, TodoctlError


class TodoctlGroup(TyperGroup):
    """Reports a TodoctlError, a usage error or Ctrl-C once, with the documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra: Any):
        from todoctl.cli.habits import hoist_global_options
        from todoctl.cli.help_words import in_words

        in_words(self)
        args = hoist_global_options(self, list(sys.argv[1:] if args is None else args))
        state.current = state.Settings(json="--json" in args)
        render.document_fields.clear()
        guard = _ClosedPipeGuard.install()
        try:
            result = super().main(
                args=args, prog_name=prog_name or "todoctl", complete_var=complete_var, standalone_mode=False, **extra
            )
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except TodoctlError as exc:
            code = report_error(exc)
        except NoArgsIsHelpError as exc:  # `todoctl migrate`: a question, not a mistake
            from todoctl.cli.habits import short_help

            sys.stdout.write(short_help(exc.ctx))
            code = 0
        except NoSuchOption as exc:
            code = report_error(_no_such_option(exc))
        except ClickException as exc:
            code = report_error(TodoctlError(exc.format_message(), hint=_usage_hint(exc), exit_code=ExitCode.USAGE))
        except (KeyboardInterrupt, typer.Abort):
            code = report_error(_interrupted())
        except Exception as exc:  # a bug or an unexpected driver error: still one message, masked
            code = report_unexpected(exc)
        if guard is not None:
            guard.flush()  # what is still buffered, now: interpreter shutdown must find nothing to complain about
        if standalone_mode:
            sys.exit(code)
        return code


    def invoke(self, ctx):
        # Typer would turn Ctrl-C into a silent exit 130; say what happened.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _interrupted() from None


class _ClosedPipeGuard:
    """sys.stdout, except that a reader who went away (``todoctl explain list | head -1``) ends
    the output quietly instead of the command.

    Python ignores SIGPIPE, so a write to a closed pipe raises BrokenPipeError; Rich answers it
    with a silent exit 1 mid-work. Here the first BrokenPipeError points file descriptor 1 at
    /dev/null (Python's docs, "Note on SIGPIPE") and the command runs to its end: a migration is
    never cut short because its reader left, and the exit code is the one it would have had (a
    failing gate piped into head still exits 1). Errors still go to stderr.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    @classmethod
    def install(cls) -> "_ClosedPipeGuard | None":
        """Wrap the real stdout (a file descriptor); test runners' captured streams are left alone."""
        stream = sys.stdout
        if isinstance(stream, cls):
            return stream
        try:
            stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            return None
        sys.stdout = guard = cls(stream)
        return guard

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        try:  # what was buffered for the closed pipe now goes to /dev/null
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str):  # isatty, encoding, fileno, ... of the real stream
        return getattr(self._stream, name)


def _interrupted() -> TodoctlError:
    return TodoctlError("interrupted; work in flight was rolled back", exit_code=ExitCode.INTERRUPTED)


def _no_such_option(exc: NoSuchOption) -> TodoctlError:
    from todoctl.cli.habits import option_suggestion

    hint = _usage_hint(exc)
    meant = option_suggestion(getattr(exc, "ctx", None), exc.option_name, exc.possibilities)
    if meant:
        hint = f"did you mean {meant}? {hint}"
    return TodoctlError(exc.message, hint=hint, exit_code=ExitCode.USAGE)


def _usage_hint(exc: ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "todoctl"
    return f"run '{path} --help' for usage"


# For an error raised without a hint: every error prints one Hint line (README, "Exit codes").
_FALLBACK_HINTS = {
    ExitCode.CHECK_FAILED: "run again with --verbose for details",
    ExitCode.USAGE: "see the command's --help for what it accepts",
    ExitCode.CONNECTION: "check the URL, the server and the network",
    ExitCode.REFUSED: "see the README's safety rules for the override",
    ExitCode.BUSY: "try again when the other session has finished",
    ExitCode.INTERRUPTED: "run the command again when you are ready",
}


def report_error(exc: TodoctlError) -> int:
    from todoctl.db.url import mask

    if not exc.hint:
        exc.hint = _FALLBACK_HINTS.get(exc.exit_code)

    if state.current.json:  # the target rides along when the command got that far
        render.print_error_json({k: (mask(v) if isinstance(v, str) else v) for k, v in exc.to_dict().items()})
    else:
        sys.stderr.write(f"Error: {mask(exc.message)}\n")
        if exc.hint:
            sys.stderr.write(f"Hint: {mask(exc.hint)}\n")
    if state.current.verbose and exc.__cause__ is not None:
        _print_traceback(exc.__cause__)
    return int(exc.exit_code)


def report_unexpected(exc: BaseException) -> int:
    from todoctl.db.url import mask

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    error = TodoctlError(
        f"unexpected {type(exc).__name__}: {mask(first)}",
        hint="run again with --verbose for the traceback",
        exit_code=ExitCode.CHECK_FAILED,
    )
    code = report_error(error)
    if state.current.verbose:
        _print_traceback(exc)
    return code


def _print_traceback(exc: BaseException) -> None:
    import traceback

    from todoctl.db.url import mask

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    sys.stderr.write(mask(text))


app = typer.Typer(
    cls=TodoctlGroup,
    name="todoctl",
    help=with_examples(
        "Administration for a SQLModel + Alembic app's PostgreSQL database: migrations, seed data, plans, health.",
        "todoctl migrate up && todoctl seed",
        "todoctl health --json",
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # We report errors ourselves (TodoctlGroup.main); plain help keeps `--help` free of rich.markdown.
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"todoctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            "-d",
            metavar="URL",
            envvar="DATABASE_URL",
            callback=left_to_core,  # core also reads .env and DATABASE_URL_UNPOOLED
            help="PostgreSQL URL; DATABASE_URL is read from the environment, then .env.",
            show_default="the embedded server",
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            metavar="DIR",
            envvar="TODOCTL_PROJECT",
            help="The app's directory: its pyproject.toml's [tool.todoctl] table names the models, migrations, queries and engine.",
            show_default="the nearest pyproject.toml with [tool.todoctl], else the bundled Todo app",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Draw tables at their full width instead of folding long cells to fit the terminal.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Show todoctl's version and exit (`todoctl version`: every version).", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """todoctl: an app's PostgreSQL database, from the terminal and from CI."""
    from todoctl import project as app_project

    app_project.select(project)
    state.current.database_url = database_url
    state.current.verbose = verbose
    state.current.wide = wide


def version(as_json: JsonOption = False) -> None:
    """Show todoctl's, Python's and the drivers' versions, and the server's when a database is at hand.

    The server is asked only if a database is configured or the embedded server already runs;
    exit 0 even when it cannot be reached (the reason is shown).

    \b
    Example:
      todoctl version --json
    """
    from todoctl.core.db.versions import report
    from todoctl.render import version as view

    result = report(state.current.database_url)
    if as_json:
        render.print_json({"ok": True, **render.jsonable(result)})
    else:
        view.report(result)


def _wire() -> None:
    from todoctl.cli import db as db_cli
    from todoctl.cli import explain as explain_cli
    from todoctl.cli import health as health_cli
    from todoctl.cli import init as init_cli
    from todoctl.cli import migrate as migrate_cli
    from todoctl.cli import review as review_cli
    from todoctl.cli import schema as schema_cli
    from todoctl.cli import seed as seed_cli

    # Each group's help is its own module's, ending with examples as every command's does.
    groups = (
        (migrate_cli.app, "migrate", ("todoctl migrate status", "todoctl migrate up --dry-run")),
        (schema_cli.app, "schema", ("todoctl schema show tasks", "todoctl schema diff --json")),
        (db_cli.app, "db", ("todoctl db status", "todoctl db wait --timeout 30")),
        (explain_cli.app, "explain", ("todoctl explain task-list", "todoctl explain check --json")),
    )
    for group, name, examples in groups:
        app.add_typer(group, name=name, help=with_examples(group.info.help, *examples))
    app.command("health")(health_cli.health)
    app.command("seed")(seed_cli.seed)
    app.command("review")(review_cli.review)
    app.command("version")(version)
    app.command("init")(init_cli.init)


_wire()


def main() -> None:
    app()

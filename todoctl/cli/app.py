"""The root `todoctl` command: global options, sub-apps, and the one place errors are reported."""

from __future__ import annotations

import io
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
from todoctl.render import layout


class TodoctlGroup(TyperGroup):
    """Reports a TodoctlError, a usage error or Ctrl-C once, with the documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra: Any):
        from todoctl.cli.habits import hoist_global_options
        from todoctl.cli.help_words import in_words, whole_summaries

        in_words(self)
        whole_summaries(self)
        args = list(sys.argv[1:] if args is None else args)
        state.current = state.Settings(json="--json" in args)
        render.document_fields.clear()
        layout.wide = False
        guard = _ClosedPipeGuard.install()
        try:
            _require_utf8_arguments(args)
            args = hoist_global_options(self, args)
            state.current.command = command_words(self, args)
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
            code = report_error(_habit(self, args) or _usage_error(exc))
        except (KeyboardInterrupt, typer.Abort):
            code = report_error(_interrupted())
        except Exception as exc:  # a bug or an unexpected driver error: still one message, masked
            code = report_unexpected(exc)
        if guard is not None:
            guard.flush()  # what is still buffered, now: interpreter shutdown must find nothing to complain about
            code = guard.check(code)
        if standalone_mode:
            sys.exit(code)
        return code


    def make_context(self, *args, **kwargs):
        # Parsing the root options can take a while (Typer imports pydantic to coerce them): an
        # interrupt there would also become Typer's silent exit 130.
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise _interrupted() from None

    def invoke(self, ctx):
        # Typer would turn Ctrl-C into a silent exit 130; say what happened.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _interrupted() from None


def _require_utf8_arguments(args: list[str]) -> None:
    """An argument that is not UTF-8 (POSIX hands its bytes to Python as lone surrogates) is a
    usage error, named by position and never echoed: it may be a URL with a password in it."""
    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            previous = args[position - 2] if position > 1 and args[position - 2].startswith("-") else None
            which = f"argument {position}" + (f" (the value of {previous})" if previous else "")
            raise TodoctlError(
                f"{which} is not valid UTF-8 text",
                hint="pass arguments as UTF-8 (percent-encode other bytes in a URL)",
                exit_code=ExitCode.USAGE,
            ) from None


class _ClosedPipeGuard:
    """sys.stdout, except that a reader who went away (``todoctl explain list | head -1``) ends
    the output quietly instead of the command, and a write that fails (``> /dev/full``, a full
    disk) is remembered and makes the command exit 1.

    Python ignores SIGPIPE, so a write to a closed pipe raises BrokenPipeError; Rich answers it
    with a silent exit 1 mid-work. Here the first BrokenPipeError points file descriptor 1 at
    /dev/null (Python's docs, "Note on SIGPIPE") and the command runs to its end: a migration is
    never cut short because its reader left, and the exit code is the one it would have had (a
    failing gate piped into head still exits 1). Errors still go to stderr.

    Any other write error is the same, except that the output the user asked for is incomplete:
    the command still runs to its end (nothing half-done), then :meth:`check` reports one line
    on stderr and turns a success into exit 1 (README, "Exit codes"): never a truncated success.
    """

    def __init__(self, stream) -> None:
        self._stream = stream
        self.failure: OSError | None = None

    @classmethod
    def install(cls) -> "_ClosedPipeGuard | None":
        """Wrap the real stdout (a file descriptor); test runners' captured streams are left alone."""
        import os

        if sys.stderr is None:  # started with 2>&-: errors have nowhere to go, the exit code still says
            sys.stderr = open(os.devnull, "w")
        stream = sys.stdout
        if stream is None:  # started with >&-: nothing can be written, and that is a failure
            import errno

            sys.stdout = guard = cls(open(os.devnull, "w"))
            guard.failure = OSError(errno.EBADF, "standard output is closed")
            return guard
        if isinstance(stream, cls):
            if stream.failure is not None and stream.failure.errno == 9:  # EBADF
                return stream  # still closed
            stream.failure = None
            return stream
        try:
            stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            return None
        sys.stdout = guard = cls(stream)
        return guard

    def write(self, text: str) -> int:
        try:
            buffer = getattr(self._stream, "buffer", None)
            if isinstance(buffer, io.RawIOBase):
                # Unbuffered (python -u, PYTHONUNBUFFERED=1): TextIOWrapper writes straight to the file
                # and drops the rest of a short write (a full disk) without a word. Write it all here.
                self._stream.flush()
                view = memoryview(text.encode(self._stream.encoding, self._stream.errors or "strict"))
                while view:
                    view = view[buffer.write(view) or 0 :]
                return len(text)
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
        except OSError as exc:
            self._failed(exc)
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()
        except OSError as exc:
            self._failed(exc)

    def check(self, code: int) -> int:
        """The exit code once the output is known to be written (or not)."""
        if self.failure is None:
            return code
        if code == 0 or state.current.json:  # in JSON mode the document itself was what failed
            from todoctl.render.layout import echo

            reason = self.failure.strerror or str(self.failure)
            echo(f"could not write the output to stdout: {reason}", stderr=True, prefix="Error: ")
            import errno

            hint = {
                errno.ENOSPC: "free space on the device, or send the output somewhere else",
                errno.EFBIG: "the file size limit was reached (ulimit -f): send the output somewhere else",
                errno.EBADF: "run the command with its standard output open",
            }.get(self.failure.errno, "check where the standard output goes (a full disk, a device, a permission)")
            echo(hint, stderr=True, prefix="Hint: ")
        return code or int(ExitCode.CHECK_FAILED)

    def _failed(self, exc: OSError) -> None:
        if self.failure is None:
            self.failure = exc
        self._to_devnull()

    def _reader_gone(self) -> None:
        self._to_devnull()

    def _to_devnull(self) -> None:
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
    from todoctl.cli.habits import option_hint

    hint = _usage_hint(exc)
    meant = option_hint(getattr(exc, "ctx", None), exc.option_name)
    if meant:
        hint = f"{meant} {hint}"
    return TodoctlError(exc.message, hint=hint, exit_code=ExitCode.USAGE)


def _habit(root, args: list[str]) -> TodoctlError | None:
    """Another tool's command typed to todoctl (``todoctl showmigrations``): todoctl's for it, exit 2."""
    from todoctl.cli.habits import pointer

    meant = pointer(root, args)
    if meant is None:
        return None
    return TodoctlError(f"No such command {meant.word!r}. Did you mean: {meant.suggestion}?", hint=meant.hint, exit_code=ExitCode.USAGE)


def _usage_error(exc: ClickException) -> TodoctlError:
    return TodoctlError(exc.format_message(), hint=_usage_hint(exc), exit_code=ExitCode.USAGE)


def _usage_hint(exc: ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "todoctl"
    return f"run '{path} --help' for usage"


# For an error raised without a hint: every error prints one Hint line (docs/exit-codes.md).
_FALLBACK_HINTS = {
    ExitCode.CHECK_FAILED: "run again with --verbose for details",
    ExitCode.USAGE: "see the command's --help for what it accepts",
    ExitCode.CONNECTION: "check the URL, the server and the network",
    ExitCode.REFUSED: "see the command's --help for the override (docs/commands/migrate.md, \"Protected databases\")",
    ExitCode.BUSY: "try again when the other session has finished",
    ExitCode.INTERRUPTED: "run the command again when you are ready",
}


def command_words(group, args: list[str]) -> str | None:
    """``migrate status`` for ``-d URL migrate status --json``: the command an error document names.

    Read from the words, since an error can come before (or after) Click's context exists; words
    before the first command may be option values, after it the first word that names no
    subcommand ends the command. ``None`` when no command was named.
    """
    from todoctl.render.document import canonical_command

    words: list[str] = []
    command = group
    for arg in args:
        commands = getattr(command, "commands", None)
        if not commands:
            break
        if arg in commands:
            words.append(arg)
            command = commands[arg]
        elif words and not arg.startswith("-"):
            break
    return canonical_command(" ".join(words)) if words else None


def report_error(exc: TodoctlError) -> int:
    from todoctl.db.url import mask

    if not exc.hint:
        exc.hint = _FALLBACK_HINTS.get(exc.exit_code)

    if state.current.json:  # the target rides along when the command got that far
        error = {k: (mask(v) if isinstance(v, str) else v) for k, v in exc.to_dict().items()}
        render.print_error_json(error, command=state.current.command)
    else:
        from todoctl.render.layout import echo

        # Folded at words to the terminal's width, continuing under the message (render/layout.py).
        echo(mask(exc.message), stderr=True, prefix="Error: ")
        if exc.hint:
            echo(mask(exc.hint), stderr=True, prefix="Hint: ")
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
        "todoctl migrate up && todoctl seed --truncate",
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
    layout.wide = wide


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
        render.print_json(result)
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
    app.add_typer(health_cli.app, name="health")
    app.command("seed")(seed_cli.seed)
    app.command("review")(review_cli.review)
    app.command("version")(version)
    app.command("init")(init_cli.init)


_wire()


def main() -> None:
    app()

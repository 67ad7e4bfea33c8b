"""The program's first code: SIGTERM becomes Ctrl-C before anything heavy is imported.

Importing the CLI (Typer, Rich, then a command's SQLAlchemy and psycopg) takes a good part of a
second; a SIGTERM in that time used to kill the process outright (no message, exit -15). From
here on (the interpreter's own start, before this module runs, cannot be covered) it raises
KeyboardInterrupt, which every layer already handles as Ctrl-C: the work in
flight is cancelled and rolled back, one ``Error: interrupted`` line (or the JSON error
document) is printed, and the exit code is 130.
"""

from __future__ import annotations

import sys

# The C module itself: `signal` would first import enum (tens of milliseconds on a loaded machine).
import _signal


def main() -> None:
    from todoctl import interrupts  # only the C signal module: nothing heavy yet

    interrupts.install()
    try:
        from todoctl.cli.app import main as run

        try:
            run()
        except SystemExit as done:
            if done.code in (0, None) and interrupts.pending():  # swallowed where it landed, never raised
                sys.stderr.write("Note: an interrupt arrived where it could not stop the command; the command ran to its end.\n")
            raise
    except KeyboardInterrupt:  # before the CLI could report it itself (during imports, or setup)
        sys.exit(_report_interrupt())
    finally:
        # The work is done and its exit code chosen: a SIGTERM now, while the interpreter shuts
        # down, ends the process as it would any other, instead of a KeyboardInterrupt in teardown.
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        # ... and a Ctrl-C then changes nothing: the exit code already says what happened.
        try:
            _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
        except ValueError:
            pass
        # CPython flags a KeyboardInterrupt that escapes code run by exec() of a string (dataclasses
        # and namedtuples build their methods so, at import) as unhandled, even once it is caught,
        # and then ends the process by SIGINT instead of with the exit code (130). Running a string
        # through exec() resets that flag.
        exec("pass")  # noqa: S102


def _report_interrupt() -> int:
    from todoctl.errors import ExitCode, TodoctlError

    error = TodoctlError(
        "interrupted; work in flight was rolled back",
        hint="run the command again when you are ready",
        exit_code=ExitCode.INTERRUPTED,
    )
    try:
        if "--json" in sys.argv[1:]:
            from todoctl.cli import state
            from todoctl.render import print_error_json

            print_error_json(error.to_dict(), command=state.current.command)
        else:
            sys.stderr.write(f"Error: {error.message}\nHint: {error.hint}\n")
            sys.stderr.flush()
    except (KeyboardInterrupt, OSError):  # a second signal, or nowhere to write: the code still says it
        pass
    return int(error.exit_code)

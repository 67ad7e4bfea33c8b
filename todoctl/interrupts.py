"""Ctrl-C and SIGTERM, remembered: a KeyboardInterrupt can be swallowed where Python cannot raise it
(a weakref callback or a ``__del__`` running when the signal lands prints "Exception ignored in"
and carries on), so the handler also records the signal, and long work checks the record at safe
points (`migrate up`/`down`: each revision boundary) and stops there.

No imports beyond the C signal module: todoctl/cli/entry.py installs the handler before anything
heavy is imported.
"""

from __future__ import annotations

import sys

import _signal

_requested = False


def _unraisable(unraisable) -> None:
    """A KeyboardInterrupt Python could not raise (in a weakref callback or ``__del__``) is not
    printed as "Exception ignored ... Traceback": the signal is recorded, and the next ``check``
    raises it where it can be handled. Anything else is printed as Python would."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _requested:
        return
    sys.__unraisablehook__(unraisable)


def handler(signum, frame) -> None:
    """The SIGINT/SIGTERM handler: remember the signal, then raise where the program is."""
    global _requested
    _requested = True
    raise KeyboardInterrupt


def install() -> tuple:
    """Handle SIGINT and SIGTERM with ``handler``; returns the previous handlers for ``restore``.
    Outside the main thread (a test runner's worker) signals are left alone: returns ()."""
    forget()
    sys.unraisablehook = _unraisable
    try:
        return (_signal.signal(_signal.SIGINT, handler), _signal.signal(_signal.SIGTERM, handler))
    except ValueError:
        return ()


def restore(previous: tuple) -> None:
    if previous:
        _signal.signal(_signal.SIGINT, previous[0])
        _signal.signal(_signal.SIGTERM, previous[1])
    forget()


def forget() -> None:
    global _requested
    _requested = False


def pending() -> bool:
    """A signal arrived and no ``check`` has raised it yet."""
    return _requested


def check() -> None:
    """Raise KeyboardInterrupt if a signal arrived whose KeyboardInterrupt may have been swallowed."""
    global _requested
    if _requested:
        _requested = False
        raise KeyboardInterrupt

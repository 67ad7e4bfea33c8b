"""SIGTERM is handled like Ctrl-C while work is in flight: cancel, roll back, exit 130."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread (e.g. a test runner's worker): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

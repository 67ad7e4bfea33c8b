"""SIGTERM is handled like Ctrl-C while work is in flight: cancel, roll back, exit 130.

Both are remembered (todoctl/interrupts.py), so work that checks at safe points stops there even
when the KeyboardInterrupt itself was swallowed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from todoctl import interrupts


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    previous = interrupts.install()
    try:
        yield
    finally:
        interrupts.restore(previous)

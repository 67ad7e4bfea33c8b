"""Global options of one invocation (set by the root callback, read by commands)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    database_url: str | None = None
    verbose: bool = False
    json: bool = False


# One invocation at a time per process (CliRunner tests included): reset by the root callback.
current = Settings()


def database_url(*, direct: bool = False):
    """The URL this invocation works on (``direct``: the one schema changes use)."""
    from todoctl.db.engine import resolve

    return resolve(current.database_url, direct=direct)

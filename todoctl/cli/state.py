"""Global options of one invocation (set by the root callback, read by commands)."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Settings:
    database_url: str | None = None
    verbose: bool = False
    json: bool = False
    wide: bool = False  # --wide: tables at full width, nothing folded (render/layout.py)
    command: str | None = None  # "migrate status": what an error document names (cli/app.command_words)


# One invocation at a time per process (CliRunner tests included): reset by the root callback.
current = Settings()


def database_url(*, direct: bool = False, announce: bool = False):
    """The URL this invocation works on (``direct``: the one schema changes use).

    ``announce=True`` is for commands that change a database: they name it before they start
    (one ``target:`` line on stderr, and a ``target_database`` object in the JSON document;
    ``target`` was taken: migrate results use it for the revision), so a CI log
    always shows which database a migration or a seed ran against.
    """
    from todoctl import render
    from todoctl.db.engine import resolve

    url = resolve(current.database_url, direct=direct)
    # Every JSON document names its database the same way (render/document.py), reading or changing.
    render.document_fields["target_database"] = target_of(url)
    if announce:
        announce_target(url)
    return url


def target_of(url) -> dict:
    """The ``target_database`` object of a JSON document: masked URL, database name, where it came from."""
    from todoctl.render.document import target_shape

    return target_shape(url)


def announce_target(url) -> None:
    from todoctl import render

    target = target_of(url)
    render.document_fields["target_database"] = target
    if not current.json:
        origin = f", {url.origin}" if url.origin else ""
        from todoctl.render.layout import echo

        echo(f"{target['url']} (from {url.source}{origin})", stderr=True, prefix="target: ")
        sys.stderr.flush()

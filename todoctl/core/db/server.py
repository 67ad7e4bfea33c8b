"""The embedded server and the resolved URL, as data for `todoctl db`."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from todoctl.db import embedded
from todoctl.db.engine import embedded_database
from todoctl.db.target import configured_url
from todoctl.db.url import mask_url
from todoctl.results import TargetDatabase, human_only


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: str
    target_database: TargetDatabase  # the URL todoctl uses, and where it came from


@dataclass(frozen=True)
class DryRun:
    """What a ``--dry-run`` of a db command would do; nothing was changed."""

    action: str  # start | stop | protect | unprotect | cancel | terminate
    database: str = human_only()  # the subject of ``would`` (a data directory or a database)
    would: str = ""
    dry_run: bool = True
    running: bool | None = None  # db start / stop: the embedded server runs now
    protected: bool | None = None  # db protect / unprotect: the database is protected now
    pid: int | None = None  # db cancel: the session it would signal


@dataclass(frozen=True)
class Stopped:
    stopped: bool  # False: the embedded server was not running


def status(explicit: str | None = None) -> ServerStatus:
    server = embedded.inspect()
    configured = configured_url(explicit)
    if configured is not None:
        return ServerStatus(
            server.running, server.pid, str(server.pgdata), TargetDatabase.of(configured)
        )
    if not server.running:  # no URL yet (its socket and port are chosen at start): url "" and the database
        return ServerStatus(False, None, str(server.pgdata), TargetDatabase("", embedded_database(), "embedded"))
    return ServerStatus(True, server.pid, str(server.pgdata), TargetDatabase.from_text(server.url(embedded_database()), "embedded"))


def start() -> ServerStatus:
    database = embedded_database()
    server = embedded.start(database=database)
    return ServerStatus(True, server.pid, str(server.pgdata), TargetDatabase.from_text(server.url(database), "embedded"))


def stop() -> bool:
    return embedded.stop()


def libpq_url(explicit: str | None = None, *, show_password: bool = False) -> str:
    """The URL in libpq form (what psql and other tools take)."""
    from todoctl.db.engine import resolve

    resolved = resolve(explicit)
    url = resolved.libpq if show_password else resolved.shown
    return url if show_password else mask_url(url)


def shell(explicit: str | None = None) -> int:
    """Run psql on the database; the password goes in its environment, never its argv (``ps``)."""
    from todoctl.db.engine import resolve

    conninfo, secret_env = resolve(explicit).for_child_process()
    return subprocess.call([embedded.psql_path(), conninfo], env={**os.environ, **secret_env})

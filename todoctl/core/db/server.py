"""The embedded server and the resolved URL, as data for `todoctl db`."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from todoctl.db import embedded
from todoctl.db.engine import embedded_database
from todoctl.db.target import configured_url
from todoctl.db.url import mask_url


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: str
    url: str  # masked
    source: str
    origin: str | None = None  # a .env setting's file and line


def status(explicit: str | None = None) -> ServerStatus:
    server = embedded.inspect()
    configured = configured_url(explicit)
    if configured is not None:
        return ServerStatus(
            server.running, server.pid, str(server.pgdata), configured.masked, configured.source, configured.origin or None
        )
    url = server.url(embedded_database()) if server.running else "(embedded server, started on first use)"
    return ServerStatus(server.running, server.pid, str(server.pgdata), url, "embedded")


def start() -> ServerStatus:
    database = embedded_database()
    server = embedded.start(database=database)
    return ServerStatus(True, server.pid, str(server.pgdata), server.url(database), "embedded")


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

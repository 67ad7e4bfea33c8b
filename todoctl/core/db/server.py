"""The embedded server and the resolved URL, as data for `todoctl db`."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from todoctl.db import embedded
from todoctl.db.engine import embedded_database
from todoctl.db.url import configured_url, mask


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: str
    url: str  # masked
    source: str


def status(explicit: str | None = None) -> ServerStatus:
    server = embedded.inspect()
    configured = configured_url(explicit)
    if configured is not None:
        url, source = configured.masked, configured.source
    else:
        url, source = (server.url(embedded_database()) if server.running else "(embedded server, started on first use)"), "embedded"
    return ServerStatus(server.running, server.pid, str(server.pgdata), url, source)


def start() -> ServerStatus:
    database = embedded_database()
    server = embedded.start(database=database)
    return ServerStatus(True, server.pid, str(server.pgdata), server.url(database), "embedded")


def stop() -> bool:
    return embedded.stop()


def libpq_url(explicit: str | None = None, *, show_password: bool = False) -> str:
    """The URL in libpq form (what psql and other tools take)."""
    from todoctl.db.engine import resolve

    url = resolve(explicit).libpq
    return url if show_password else mask(url)


def shell(explicit: str | None = None) -> int:
    """Run psql on the database; the password goes in its environment, never its argv (``ps``)."""
    from todoctl.db.engine import resolve

    conninfo, secret_env = resolve(explicit).for_child_process()
    return subprocess.call([embedded.psql_path(), conninfo], env={**os.environ, **secret_env})

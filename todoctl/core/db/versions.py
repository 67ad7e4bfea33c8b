"""`todoctl version`: the versions a bug report needs, and the server's when one is at hand.

Package versions come from importlib.metadata, so `todoctl --version` and a version report with
no database import none of the heavy packages they name.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata

PACKAGES = ("todoctl", "psycopg", "sqlalchemy", "alembic")


@dataclass
class ServerVersion:
    url: str | None  # masked; None: the configured setting is unusable
    source: str
    origin: str | None = None  # a .env setting's file and line
    version: str | None = None
    error: str | None = None


@dataclass
class VersionReport:
    todoctl: str
    python: str
    packages: dict[str, str | None] = field(default_factory=dict)
    server: ServerVersion | None = None  # None: nothing configured and the embedded server is stopped


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def report(explicit: str | None = None, *, with_server: bool = True) -> VersionReport:
    """todoctl's, Python's and the drivers' versions; the server's if a database is configured or
    the embedded server already runs (it is never started for this)."""
    from todoctl import __version__

    packages = {name: package_version(name) for name in PACKAGES if name != "todoctl"}
    result = VersionReport(__version__, platform.python_version(), packages)
    if with_server:
        result.server = _server(explicit)
    return result


def _server(explicit: str | None) -> ServerVersion | None:
    from todoctl.db import embedded
    from todoctl.db.target import configured_url
    from todoctl.db.url import DatabaseURL, mask
    from todoctl.errors import TodoctlError

    try:
        url = configured_url(explicit)
    except TodoctlError as exc:  # an unusable setting: say so, the versions above still stand
        return ServerVersion(None, "configured", error=mask(exc.message))
    if url is None:
        running = embedded.inspect()
        if not running.running:
            return None
        from todoctl.db.engine import embedded_database

        url = DatabaseURL(running.url(embedded_database()), "embedded")
    found = ServerVersion(url.masked, url.source, url.origin or None)
    try:
        found.version = server_version(url)
    except TodoctlError as exc:
        found.error = mask(exc.message)
    return found


def server_version(url) -> str:
    from todoctl.db.engine import psycopg_connection

    with psycopg_connection(url, autocommit=True, application_name="todoctl version") as conn:
        return conn.execute("SHOW server_version").fetchone()[0]

"""`todoctl version`: the versions a bug report needs, and the server's when one is at hand.

Package versions come from importlib.metadata, so `todoctl --version` and a version report with
no database import none of the heavy packages they name.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata

from todoctl.results import TargetDatabase

PACKAGES = ("todoctl", "psycopg", "sqlalchemy", "alembic")


@dataclass
class ServerVersion:
    version: str | None = None
    error: str | None = None


@dataclass
class VersionReport:
    todoctl: str
    python: str
    packages: dict[str, str | None] = field(default_factory=dict)
    server: ServerVersion | None = None  # None: nothing configured and the embedded server is stopped
    # The server's database; None when nothing is configured (or the setting is unusable: server.error says why).
    target_database: TargetDatabase | None = None


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
        result.server, result.target_database = _server(explicit)
    return result


def _server(explicit: str | None) -> tuple[ServerVersion | None, TargetDatabase | None]:
    from todoctl.db import embedded
    from todoctl.db.target import configured_url
    from todoctl.db.url import DatabaseURL, mask
    from todoctl.errors import TodoctlError

    try:
        url = configured_url(explicit)
    except TodoctlError as exc:  # an unusable setting: say so, the versions above still stand
        return ServerVersion(error=mask(exc.message)), None
    if url is None:
        running = embedded.inspect()
        if not running.running:
            return None, None
        from todoctl.db.engine import embedded_database

        url = DatabaseURL(running.url(embedded_database()), "embedded")
    found = ServerVersion()
    try:
        found.version = server_version(url)
    except TodoctlError as exc:
        found.error = mask(exc.message)
    return found, TargetDatabase.of(url)


def server_version(url) -> str:
    from todoctl.db.engine import psycopg_connection

    with psycopg_connection(url, autocommit=True, application_name="todoctl version") as conn:
        return conn.execute("SHOW server_version").fetchone()[0]

"""Engines and connections, with connection failures turned into exit code 3."""

from __future__ import annotations

import random
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from todoctl.db import embedded
from todoctl.db.target import configured_url
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import connection_error

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

DEFAULT_CONNECT_TIMEOUT = 10
MAX_CONNECT_TIMEOUT = 3600  # seconds; libpq's 0 (wait forever) is refused: CI must not hang
REMOTE_CONNECT_ATTEMPTS = 3


def connect_timeout() -> int:
    from todoctl.settings import env_number

    return env_number("TODOCTL_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, minimum=1, maximum=MAX_CONNECT_TIMEOUT)


def resolve(explicit: str | None = None, *, direct: bool = False) -> DatabaseURL:
    """The configured database (the precedence table, todoctl/db/target.py), else the embedded server."""
    url = configured_url(explicit, direct=direct)
    if url is not None:
        return url
    database = embedded_database()
    server = embedded.ensure_running(database=database)
    return DatabaseURL(server.url(database), "embedded")


def embedded_database() -> str:
    """The app's database on the embedded server: named after the app (``todo`` for the Todo app)."""
    from todoctl.project import current

    return current().database_name


def make_engine(url: DatabaseURL, **kwargs) -> "Engine":
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    connect_args: dict = {"connect_timeout": connect_timeout(), "application_name": "todoctl"}
    if url.is_pooled:
        # PgBouncer in transaction mode cannot keep server-side prepared statements.
        connect_args["prepare_threshold"] = None
    connect_args.update(kwargs.pop("connect_args", {}))
    kwargs.setdefault("poolclass", NullPool)
    return create_engine(url.url, hide_parameters=True, connect_args=connect_args, **kwargs)


def psycopg_connection(url: DatabaseURL, *, autocommit: bool, application_name: str = "todoctl"):
    """A plain psycopg connection (for COPY, advisory locks, CREATE DATABASE), set up like the
    engine's: connect_timeout, no prepared statements through a pooler, failures as exit 3."""
    import psycopg

    kwargs: dict = {"connect_timeout": connect_timeout(), "application_name": application_name}
    if url.is_pooled:
        kwargs["prepare_threshold"] = None  # PgBouncer in transaction mode
    try:
        return psycopg.connect(url.libpq, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        raise explain_connect_failure(url, exc) from None


def _server_said(text: str) -> str | None:
    """The server's own message in a connection error (``FATAL:  ...``), or None when libpq or the
    network failed before the server said anything."""
    for line in text.splitlines():
        for severity in ("FATAL:", "PANIC:", "ERROR:"):
            if severity in line:
                return line.split(severity, 1)[1].strip()
    return None


def explain_connect_failure(url: DatabaseURL, exc: BaseException):
    """Turn a driver's connection error into a TodoctlError with a hint (exit 3)."""
    text = mask(str(getattr(exc, "orig", None) or exc)).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    lowered = text.lower()
    where = url.display
    said = _server_said(text)
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return connection_error(f"authentication failed connecting to {where}", "check the user name and password in the URL")
    if said and "does not exist" in said and said.lower().startswith("database"):
        hint = "run `todoctl db start` to recreate it" if url.source == "embedded" else "create it (createdb) or fix the database name in the URL"
        return connection_error(f"database {url.database!r} does not exist on {where}", hint)
    if said:  # the server answered and refused: show what it said, not a guess (issue 26)
        return connection_error(
            f"the server at {where} refused the connection: {said}",
            "fix the setting it names (the URL's options=..., PGOPTIONS) or the role's rights",
        )
    if "could not translate host name" in lowered or "name or service not known" in lowered or "nodename nor servname" in lowered or "failed to resolve host" in lowered:
        return connection_error(f"unknown host {url.host!r}", "check the host name in the URL")
    if "connection refused" in lowered:
        return connection_error(f"connection refused by {where}", "is the server running, and is the port right?")
    if "timeout expired" in lowered or "timed out" in lowered:
        return connection_error(
            f"timed out after {connect_timeout()}s connecting to {where}",
            "is the host reachable? TODOCTL_CONNECT_TIMEOUT sets the limit",
        )
    if "no such file or directory" in lowered:
        if url.source == "embedded":
            return connection_error("the embedded server is not running", "run `todoctl db start`")
        return connection_error(f"no server is listening at {where}", "is the server running?")
    if "definition of service" in lowered or "service file" in lowered:
        return connection_error(f"cannot connect to {where}: {first}", "check PGSERVICE (or service=) and the service file")
    return connection_error(f"cannot connect to {where}: {first}", "check the URL, the server and the network")


def _permanent(exc: BaseException) -> bool:
    lowered = str(exc).lower()
    permanent = ("authentication failed", "does not exist", "could not translate host name", "failed to resolve host",
                 "invalid value for parameter", "unrecognized configuration parameter")
    return any(s in lowered for s in permanent)


@contextmanager
def connection(url: DatabaseURL, engine: "Engine | None" = None) -> Iterator["Connection"]:
    """A connection, with bounded retry and backoff for connection setup on remote hosts only."""
    from sqlalchemy.exc import DBAPIError

    own_engine = engine is None
    engine = engine or make_engine(url)
    attempts = 1 if url.is_local else REMOTE_CONNECT_ATTEMPTS
    try:
        for attempt in range(1, attempts + 1):
            try:
                conn = engine.connect()
                break
            except DBAPIError as exc:
                if attempt == attempts or _permanent(exc):
                    raise explain_connect_failure(url, exc) from None
                time.sleep(min(4.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        with conn:
            yield conn
    finally:
        if own_engine:
            engine.dispose()

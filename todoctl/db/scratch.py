"""Throwaway databases on the same server, created and always dropped again."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError


def _with_database(url: DatabaseURL, database: str) -> DatabaseURL:
    return url.with_database(database)


def _admin(url: DatabaseURL):
    from todoctl.db.engine import psycopg_connection

    return psycopg_connection(url, autocommit=True, application_name="todoctl (scratch database)")


@contextmanager
def scratch_database(url: DatabaseURL, purpose: str = "scratch") -> Iterator[DatabaseURL]:
    """A new empty database next to ``url``'s, dropped on exit (even on error or Ctrl-C)."""
    import psycopg
    from psycopg import sql

    name = f"todoctl_{purpose}_{uuid.uuid4().hex[:10]}"
    with _admin(url) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            raise TodoctlError(
                f"cannot create a throwaway database on {url.display}: permission denied",
                hint="use a role with CREATEDB, or point --database-url at a development server",
                exit_code=ExitCode.REFUSED,
            ) from None
    try:
        yield _with_database(url, name)
    finally:
        with _admin(url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

"""Protected (production) databases: a mark stored in the database itself.

The mark is the ``protected`` row of a table named ``todoctl_meta`` (a table todoctl owns; drift
checks ignore it), so every checkout, CI job and laptop that connects sees it. Destructive
commands refuse on a protected database unless given both ``--yes`` and
``TODOCTL_ALLOW_PRODUCTION=1``.

The mark cannot be hidden by the connection's settings: it is looked for in every schema of the
database (pg_catalog.pg_class by name, never through ``search_path``), each table is read by its
schema-qualified name, and every catalog reference is qualified with ``pg_catalog`` so a schema
placed before it cannot shadow one. ``db protect`` writes into the ``todoctl_meta`` that exists
already, else creates one in the connection's current schema, named explicitly. A role that
cannot read a ``todoctl_meta`` cannot know whether the database is protected: that is exit 4,
saying so, never "not protected".
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError
from todoctl.results import human_only

if TYPE_CHECKING:
    from sqlalchemy import Connection

META_TABLE = "todoctl_meta"
ALLOW_ENV = "TODOCTL_ALLOW_PRODUCTION"

# Every todoctl_meta table in the database, whatever the search path, and whether this role may
# read it. Operators and functions are pg_catalog's by name: nothing on the path can stand in.
_MARK_TABLES = (
    "SELECT n.nspname, pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
    "AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
    "WHERE c.relname OPERATOR(pg_catalog.=) %s AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[]) "
    "ORDER BY n.nspname"
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _table(schema: str) -> str:
    return f"{_quote(schema)}.{_quote(META_TABLE)}"


@dataclass(frozen=True)
class Protection:
    database: str = human_only()
    protected: bool
    by: str | None = None
    at: str | None = None
    reason: str | None = None


def cannot_read(database: str, where: str, why: str) -> TodoctlError:
    """Exit 4: whether the database is protected is unknown, so nothing that needs to know runs."""
    return TodoctlError(
        f"cannot read the protection mark of {database} ({where}: {why}); "
        "refusing, since the database may be protected",
        hint=f"GRANT USAGE on its schema and SELECT ON {where} to this role, or run as a role that can read it",
        exit_code=ExitCode.REFUSED,
    )


def read_with(execute, database: str = "") -> Protection:
    """The mark, through any ``execute(sql, params)`` returning a cursor: a psycopg connection's
    ``execute`` or a SQLAlchemy connection's ``exec_driver_sql``. Exit 4 (:func:`cannot_read`)
    when a ``todoctl_meta`` exists that this role cannot read."""
    tables = execute(_MARK_TABLES, (META_TABLE,)).fetchall()
    unreadable = [schema for schema, readable in tables if not readable]
    for schema, readable in tables:
        if not readable:
            continue
        row = execute(
            f"SELECT value OPERATOR(pg_catalog.->>) 'by', value OPERATOR(pg_catalog.->>) 'at', "
            f"value OPERATOR(pg_catalog.->>) 'reason' FROM {_table(schema)} WHERE key OPERATOR(pg_catalog.=) %s",
            ("protected",),
        ).fetchone()
        if row is not None:
            return Protection(database, True, row[0], row[1], row[2])
    if unreadable:
        raise cannot_read(database, f"{unreadable[0]}.{META_TABLE}", "permission denied")
    return Protection(database, False)


def read(conn: "Connection", database: str = "") -> Protection:
    return read_with(conn.exec_driver_sql, database)


def status(url: DatabaseURL) -> Protection:
    with connection(url) as conn:
        return read(conn, url.display)


def _home(conn: "Connection") -> str:
    """The schema the mark is written to: the existing ``todoctl_meta``'s, else the current schema."""
    tables = conn.exec_driver_sql(_MARK_TABLES, (META_TABLE,)).fetchall()
    if tables:
        return tables[0][0]
    schema = conn.exec_driver_sql("SELECT pg_catalog.current_schema()").scalar()
    if schema is None or schema in ("pg_catalog", "information_schema") or schema.startswith("pg_"):
        raise TodoctlError(
            f"no schema to create the protection mark in: the search path names no schema of the database's own "
            f"this role can use (current schema: {schema or 'none'})",
            hint="connect with a search_path that names the app's schema (e.g. public)",
            exit_code=ExitCode.REFUSED,
        )
    return schema


def protect(url: DatabaseURL, reason: str | None = None) -> Protection:
    with connection(url) as conn, conn.begin():
        table = _table(_home(conn))
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "key pg_catalog.text PRIMARY KEY, value pg_catalog.jsonb NOT NULL, "
            "updated_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now())"
        )
        me = conn.exec_driver_sql("SELECT CURRENT_USER::pg_catalog.text").scalar()
        conn.exec_driver_sql(
            f"INSERT INTO {table} (key, value) VALUES ('protected', "
            "pg_catalog.jsonb_build_object('by', %s::pg_catalog.text, 'at', pg_catalog.now()::pg_catalog.text, "
            "'reason', %s::pg_catalog.text)) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = pg_catalog.now()",
            (f"{getpass.getuser()} as {me}", reason),
        )
    return status(url)


def unprotect(url: DatabaseURL, *, yes: bool = False) -> Protection:
    """Remove the mark from every ``todoctl_meta``; on a protected database only with the same two
    keys as the commands it unlocks (``--yes`` and ``TODOCTL_ALLOW_PRODUCTION=1``)."""
    with connection(url) as conn, conn.begin():
        mark = read(conn, url.display)
        refuse_if_protected(mark, url, "remove its production mark", yes=yes)
        if mark.protected:
            for (schema, _readable) in conn.exec_driver_sql(_MARK_TABLES, (META_TABLE,)).fetchall():
                conn.exec_driver_sql(f"DELETE FROM {_table(schema)} WHERE key OPERATOR(pg_catalog.=) 'protected'")
    return status(url)


def production_override(yes: bool) -> bool:
    return yes and os.environ.get(ALLOW_ENV) == "1"


def refuse_if_protected(mark: Protection, url: DatabaseURL, action: str, *, yes: bool) -> None:
    """Refuse ``action`` on a protected database unless explicitly overridden (exit 4)."""
    if mark.protected and not production_override(yes):
        who = f" (marked by {mark.by} at {mark.at})" if mark.by else ""
        raise TodoctlError(
            f"{url.display} is a protected production database{who}: refusing to {action}",
            hint=f"if you really mean it, pass --yes and set {ALLOW_ENV}=1",
            exit_code=ExitCode.REFUSED,
        )


def guard(conn: "Connection", url: DatabaseURL, action: str, *, yes: bool) -> None:
    mark = read(conn, url.display)
    conn.commit()
    refuse_if_protected(mark, url, action, yes=yes)


def guard_url(url: DatabaseURL, action: str, *, yes: bool) -> None:
    with connection(url) as conn:
        guard(conn, url, action, yes=yes)

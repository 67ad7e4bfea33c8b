"""Protected (production) databases: a mark stored in the database itself.

The mark lives in ``todoctl_meta`` (a table todoctl owns; drift checks ignore it), so every
checkout, CI job and laptop that connects sees it. Destructive commands refuse on a
protected database unless given both ``--yes`` and ``TODOCTL_ALLOW_PRODUCTION=1``.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError

if TYPE_CHECKING:
    from sqlalchemy import Connection

META_TABLE = "todoctl_meta"
ALLOW_ENV = "TODOCTL_ALLOW_PRODUCTION"


@dataclass(frozen=True)
class Protection:
    database: str
    protected: bool
    by: str | None = None
    at: str | None = None
    reason: str | None = None


def read_with(execute, database: str = "") -> Protection:
    """The mark, through any ``execute(sql, params)`` returning a cursor: a psycopg connection's
    ``execute`` or a SQLAlchemy connection's ``exec_driver_sql``."""
    exists = execute("SELECT to_regclass(%s) IS NOT NULL", (META_TABLE,)).fetchone()[0]
    if not exists:
        return Protection(database, False)
    row = execute(
        f"SELECT value ->> 'by', value ->> 'at', value ->> 'reason' FROM {META_TABLE} WHERE key = %s",
        ("protected",),
    ).fetchone()
    if row is None:
        return Protection(database, False)
    return Protection(database, True, row[0], row[1], row[2])


def read(conn: "Connection", database: str = "") -> Protection:
    return read_with(conn.exec_driver_sql, database)


def status(url: DatabaseURL) -> Protection:
    with connection(url) as conn:
        return read(conn, url.display)


def protect(url: DatabaseURL, reason: str | None = None) -> Protection:
    with connection(url) as conn, conn.begin():
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} ("
                "key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO {META_TABLE} (key, value) VALUES ('protected', "
                "jsonb_build_object('by', CAST(:by AS text), 'at', now()::text, 'reason', CAST(:reason AS text))) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
            ),
            {"by": f"{getpass.getuser()} as {conn.execute(text('SELECT current_user')).scalar()}", "reason": reason},
        )
    return status(url)


def unprotect(url: DatabaseURL) -> Protection:
    with connection(url) as conn, conn.begin():
        if read(conn).protected:
            conn.execute(text(f"DELETE FROM {META_TABLE} WHERE key = 'protected'"))
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

"""Other sessions on the database, described safely: who they are, how long, and their SQL masked.

Used by migrate (to name what blocks a revision or the migration lock) and by ``todoctl db cancel``.
Every function takes a psycopg connection; query text always goes through
:func:`todoctl.core.sessions.query_text.mask_literals`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Session:
    pid: int
    user: str | None
    application: str
    state: str | None
    duration_ms: float | None  # how long its transaction (or, outside one, its connection) has been open
    query: str | None  # masked

    def describe(self) -> str:
        """``pid 123 (alice, app "worker", idle in transaction for 12s: SELECT … WHERE id = ?)``."""
        how_long = f" for {self.duration_ms / 1000:.0f}s" if self.duration_ms is not None else ""
        query = f": {self.query}" if self.query else ""
        return (
            f"pid {self.pid} ({self.user or 'unknown user'}, application {self.application or 'unnamed'!r}, "
            f"{self.state or 'unknown state'}{how_long}{query})"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = (
    "a.pid, a.usename, coalesce(a.application_name, ''), a.state, "
    "extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.backend_start))::float8, a.query"
)
QUERY_LIMIT = 200


def _session(row) -> Session:
    from todoctl.core.sessions.query_text import mask_literals

    pid, user, application, state, seconds, sql = row
    text = mask_literals(sql) if sql else sql
    if text and len(text) > QUERY_LIMIT:
        text = text[: QUERY_LIMIT - 1] + "…"
    return Session(pid, user, application, state, round(seconds * 1000) if seconds is not None else None, text)


def find(conn, pid: int) -> Session | None:
    """The client session ``pid`` on this connection's database, or None."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM pg_stat_activity a "
        # Without pg_read_all_stats another role's row hides its backend_type (and state, query).
        "WHERE a.pid = %s AND a.datname = current_database() "
        "AND coalesce(a.backend_type, 'client backend') = 'client backend'",
        (pid,),
    ).fetchone()
    return _session(row) if row else None


def holding_app_locks(conn, limit: int = 10) -> list[Session]:
    """Other sessions holding a lock on any table, index or sequence of the app (not the catalogs).

    After a revision gave up on ``lock_timeout`` its own locks are gone, so the statement it waited
    on cannot be asked; but whatever it needed is held by one of these. Any held lock counts: DDL
    takes ACCESS EXCLUSIVE, which conflicts with every mode, even the ACCESS SHARE of a plain SELECT
    in an open transaction. Longest-open first.
    """
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM pg_stat_activity a WHERE a.pid IN ("
        "  SELECT l.pid FROM pg_locks l"
        "  JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
        "  WHERE l.locktype = 'relation' AND l.granted"
        "    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        "    AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%')"
        " AND a.pid <> pg_backend_pid() ORDER BY 5 DESC NULLS LAST LIMIT %s",
        (limit,),
    ).fetchall()
    return [_session(r) for r in rows]


def how_to_end(pids: list[int]) -> str:
    """The hint that names the commands which end these sessions."""
    if not pids:
        return "find the session holding it in pg_stat_activity"
    pid = pids[0]
    return (
        f"end {'it' if len(pids) == 1 else 'them'}: `todoctl db cancel {pid}` stops its query, "
        f"`todoctl db cancel {pid} --terminate` ends its session (an idle transaction needs this), "
        f"or SELECT pg_terminate_backend({pid})"
    )

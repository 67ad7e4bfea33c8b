"""`todoctl db cancel PID [--terminate]`: stop another session's query, or end the session.

:func:`target` finds the session and checks, before anything is sent, that it belongs to this
database and that this role may signal it (the server's own rules: a superuser may signal anyone;
otherwise the target must not be a superuser's session, and this role must have the privileges of
the target's role or of ``pg_signal_backend``). :func:`signal` then sends it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import todoctl.core.safety.protect as protect
from todoctl.core.sessions.others import Session, find
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError
from todoctl.results import human_only


@dataclass(frozen=True)
class Target:
    session: Session
    protection: protect.Protection


@dataclass(frozen=True)
class SignalResult:
    action: str  # "cancel" | "terminate"
    pid: int
    database: str = human_only()
    signalled: bool  # what pg_cancel_backend / pg_terminate_backend returned
    session: Session  # as it was before the signal
    session_gone: bool  # after: the backend has left pg_stat_activity


def _connect(url: DatabaseURL):
    from todoctl.db.engine import psycopg_connection

    return psycopg_connection(url, autocommit=True, application_name="todoctl db cancel")


def _verb(terminate: bool) -> str:
    return "terminate" if terminate else "cancel"


def _refuse_unless_allowed(conn, session: Session, terminate: bool) -> None:
    me_super, target_super, same_role, signaller, me = conn.execute(
        "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
        " coalesce((SELECT rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false),"
        " a.usesysid IS NOT NULL AND pg_has_role(current_user, a.usesysid, 'USAGE'),"
        " pg_has_role(current_user, 'pg_signal_backend', 'USAGE'), current_user::text "
        "FROM pg_stat_activity a WHERE a.pid = %s",
        (session.pid,),
    ).fetchone()
    if me_super:
        return
    why = None
    if target_super:
        why = f"it belongs to superuser {session.user} and {me} is not a superuser"
    elif not (same_role or signaller):
        why = f"it belongs to {session.user or 'another role'}, and {me} neither has that role's privileges nor pg_signal_backend"
    if why:
        raise TodoctlError(
            f"refusing to {_verb(terminate)} pid {session.pid}: {why}",
            hint=f"run it as that role or a superuser, or GRANT pg_signal_backend TO {me}",
            exit_code=ExitCode.REFUSED,
        )


def target(url: DatabaseURL, pid: int, *, terminate: bool = False) -> Target:
    """The session ``pid`` on this database, once it is known this role may signal it.

    Exit 2 when ``pid`` is not a client session of this database (or is todoctl's own); exit 4
    when the role may not signal it.
    """
    with _connect(url) as conn:
        own = conn.info.backend_pid
        session = None if pid == own else find(conn, pid)
        if session is None:
            raise TodoctlError(
                f"pid {pid} is not a client session of database {url.database}",
                hint="list the sessions: todoctl health --check blocking, or SELECT pid, usename, "
                "application_name, state, query FROM pg_stat_activity WHERE datname = current_database()",
                exit_code=ExitCode.USAGE,
            )
        _refuse_unless_allowed(conn, session, terminate)
        mark = protect.read_with(conn.execute, url.display)
    return Target(session, mark)


def signal(url: DatabaseURL, pid: int, *, terminate: bool = False, wait: float = 5.0) -> SignalResult:
    """Cancel the query of session ``pid`` (or, ``terminate``, end the session); checks as :func:`target`."""
    checked = target(url, pid, terminate=terminate)
    function = "pg_terminate_backend" if terminate else "pg_cancel_backend"
    with _connect(url) as conn:
        if terminate:
            # Wait up to `wait` seconds for the backend to exit, so "gone" is a fact, not a hope.
            sent = conn.execute(f"SELECT {function}(%s, %s)", (pid, int(wait * 1000))).fetchone()[0]
        else:
            sent = conn.execute(f"SELECT {function}(%s)", (pid,)).fetchone()[0]
        gone = find(conn, pid) is None
        if terminate and sent and not gone:  # pre-14 servers, or a slow exit: look once more
            time.sleep(0.2)
            gone = find(conn, pid) is None
    return SignalResult(_verb(terminate), pid, url.database, bool(sent), checked.session, gone)

"""One EXPLAIN in its own transaction, always rolled back, with every wait bounded (:func:`begin`).

The statement is sent with the extended query protocol (binary=True), which the server refuses to run
with more than one statement; every database error becomes a TodoctlError with its exit code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import todoctl.core.explain.plan as plan_nodes
from todoctl.db.url import mask
from todoctl.errors import ExitCode, TodoctlError, connection_error, usage_error

if TYPE_CHECKING:
    pass


DEFAULT_TIMEOUT = "10s"


_TIMEOUT = re.compile(r"^\d+(\.\d+)?\s*(ms|s|min|h)?$")


def check_timeout(timeout: str) -> str:
    if not _TIMEOUT.match(timeout.strip()):
        raise usage_error(f"--timeout {timeout!r} is not a duration", "for example 500ms, 10s or 2min")
    return timeout.strip().replace(" ", "")


def _explain_sql(sql: str, analyze: bool) -> str:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON, SUMMARY"
    return f"EXPLAIN ({options}) {sql}"


def execute_one(cur, sql: str, bindings: dict | None = None):
    """Send one statement with the extended query protocol and return the first column of its row.

    The extended protocol carries one statement: the server itself refuses a second ("cannot insert
    multiple commands into a prepared statement"). psycopg 3 uses the simple protocol, which runs
    any number of statements, whenever a query has no parameters, even with ``params=[]`` or with
    ``prepare=True`` when prepared statements are off (pooled URLs); a binary result always goes
    through PQsendQueryParams, so ``binary=True`` is what forces the extended protocol here.
    ``prepare=False``: nothing is left prepared on the server (PgBouncer in transaction mode).
    """
    cur.execute(sql, bindings or None, prepare=False, binary=True)
    return cur.fetchone()[0]


def lock_timeout_for(timeout: str) -> str:
    """The lock_timeout that goes with a statement timeout: half of it, so a statement that waits
    for a lock (planning takes its table locks first) gives up as a lock wait, which names who
    holds the lock (exit 5), before the statement timeout would call it slow (exit 1)."""
    from todoctl.settings import duration_ms

    return f"{max(1, int(duration_ms(timeout) / 2))}ms"


def idle_timeout_for(timeout: str) -> str:
    """idle_in_transaction_session_timeout: the statement timeout, at least 10 s (a round trip
    between two of todoctl's own statements must never trip it)."""
    from todoctl.settings import duration_ms

    return f"{max(10_000, int(duration_ms(timeout)))}ms"


def begin(cur, timeout: str, *, read_only: bool) -> None:
    """Open the transaction one EXPLAIN (or what prepares it) runs in, with every wait bounded:
    statement_timeout, lock_timeout, idle_in_transaction_session_timeout (should todoctl stop
    between two statements, the server ends the transaction itself); READ ONLY for ad-hoc SQL.
    All LOCAL: nothing outlives the transaction, so nothing leaks into a pooler's shared session."""
    if read_only:
        cur.execute("SET TRANSACTION READ ONLY")
        # Ad-hoc text is judged by PostgreSQL's grammar as pglast parses it, which reads string
        # literals the standard way; a role, database or URL setting standard_conforming_strings
        # off would let the server read the same text differently (a backslash ending a literal
        # early and a call judged as text running). Read it the way it was judged.
        cur.execute("SELECT pg_catalog.set_config('standard_conforming_strings', 'on', true)")
    cur.execute(
        "SELECT pg_catalog.set_config('statement_timeout', %(statement)s, true), "
        "pg_catalog.set_config('lock_timeout', %(lock)s, true), "
        "pg_catalog.set_config('idle_in_transaction_session_timeout', %(idle)s, true), "
        "pg_catalog.set_config('default_transaction_read_only', %(read_only)s, true)",
        {
            "statement": timeout,
            "lock": lock_timeout_for(timeout),
            "idle": idle_timeout_for(timeout),
            "read_only": "on" if read_only else "off",
        },
    )


def catalog_first(cur) -> None:
    """For todoctl's own catalog reads after a statement ran on the user's search path: pg_catalog
    first for the rest of the transaction (SET LOCAL), so no schema the path lists before it can
    stand in for a catalog table, function or operator; the app's tables still resolve as before."""
    cur.execute(
        "SELECT pg_catalog.set_config('search_path', "
        "pg_catalog.concat('pg_catalog, ', pg_catalog.current_setting('search_path')), true)"
    )


def lock_wait(raw, what: str, timeout: str) -> TodoctlError:
    """Exit 5 for a statement that gave up waiting for a lock, naming the sessions that hold locks
    on the database's tables (what it waited for is among them), as migrations do."""
    from todoctl.core.sessions.others import holding_app_locks, how_to_end

    _rollback(raw)
    try:
        blockers = holding_app_locks(raw)
    except Exception:  # the connection is gone too: report the wait without them
        blockers = None
    finally:
        _rollback(raw)
    held = ("; held by " + "; ".join(b.describe() for b in blockers)) if blockers else ""
    return TodoctlError(
        f"{what} waited longer than {lock_timeout_for(timeout)} for a lock and was rolled back{held}",
        hint=(how_to_end([b.pid for b in blockers]) + "; or try again later") if blockers
        else "another session holds a lock on the table; try again later",
        exit_code=ExitCode.BUSY,
        details={"blockers": [b.as_dict() for b in blockers or []]},
    )


def _explain_once(raw, sql: str, bindings: dict | None, *, analyze: bool, timeout: str, read_only: bool, what: str):
    """One EXPLAIN in its own transaction, always rolled back."""
    import psycopg

    try:
        with raw.cursor() as cur:
            begin(cur, timeout, read_only=read_only)
            # Plan with the actual values, as the app's first executions do (never a generic plan).
            cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            document = execute_one(cur, _explain_sql(sql, analyze), bindings)
    except psycopg.errors.LockNotAvailable:
        raise lock_wait(raw, what, timeout) from None
    except psycopg.errors.QueryCanceled as exc:
        _rollback(raw)
        if "statement timeout" in str(exc):
            raise TodoctlError(
                f"{what} did not finish within the statement timeout ({timeout}); it was cancelled and rolled back",
                hint="raise --timeout, or plan it without running it: --no-analyze",
                exit_code=ExitCode.CHECK_FAILED,
            ) from None
        raise TodoctlError("interrupted; the statement was cancelled and rolled back", exit_code=ExitCode.INTERRUPTED) from None
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        _rollback(raw)
        raise TodoctlError(
            f"{what} writes, and ad-hoc SQL is explained in a READ ONLY transaction: {_first_line(exc)}",
            hint="add --no-analyze to see its plan without running it",
            exit_code=ExitCode.REFUSED,
        ) from None
    except psycopg.OperationalError as exc:
        if raw.closed or raw.broken:
            raise connection_error(f"lost the connection while explaining {what}: {_first_line(exc)}") from None
        _rollback(raw)
        raise TodoctlError(f"EXPLAIN of {what} failed: {_first_line(exc)}") from None
    except psycopg.Error as exc:
        _rollback(raw)
        state = getattr(exc, "sqlstate", None) or ""
        if read_only and state[:2] in ("42", "22", "0A", "25"):
            raise usage_error(f"cannot explain that statement: {_first_line(exc)}", "check the SQL") from None
        raise TodoctlError(
            f"EXPLAIN of {what} failed: {_first_line(exc)}",
            hint="is the database at head? `todoctl migrate status`",
        ) from None
    except KeyboardInterrupt:
        # Stop the statement on the server too, then roll back; the CLI reports exit 130.
        try:
            raw.cancel_safe(timeout=5)
        except Exception:
            pass
        _rollback(raw)
        raise
    except BaseException:
        _rollback(raw)
        raise
    _rollback(raw)
    return document


def _rollback(raw) -> None:
    try:
        raw.rollback()
    except Exception:  # a broken connection rolls back on the server anyway
        pass


def _first_line(exc: BaseException) -> str:
    text = mask(str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _run(raw, sql, bindings, *, analyze, runs, timeout, read_only, what):
    documents = [
        _explain_once(raw, sql, bindings, analyze=analyze, timeout=timeout, read_only=read_only, what=what)
        for _ in range(max(1, runs) if analyze else 1)
    ]
    run_ms = []
    for document in documents:
        _, _, execution = plan_nodes.parse(document)
        if execution is not None:
            run_ms.append(round(execution, 4))
    document = documents[-1]
    root, planning, execution = plan_nodes.parse(document)
    return document, root, planning, execution, run_ms

"""One EXPLAIN in its own transaction, always rolled back, under statement_timeout and lock_timeout.

The statement is sent with the extended query protocol (binary=True), which the server refuses to run
with more than one statement; every database error becomes a TodoctlError with its exit code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from todoctl.core.explain import plan as plan_nodes
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


def _explain_once(raw, sql: str, bindings: dict | None, *, analyze: bool, timeout: str, read_only: bool, what: str):
    """One EXPLAIN in its own transaction, always rolled back."""
    import psycopg

    try:
        with raw.cursor() as cur:
            if read_only:
                cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
            # Plan with the actual values, as the app's first executions do (never a generic plan).
            cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            document = execute_one(cur, _explain_sql(sql, analyze), bindings)
    except psycopg.errors.QueryCanceled as exc:
        _rollback(raw)
        if "statement timeout" in str(exc) or "lock timeout" in str(exc):
            raise TodoctlError(
                f"{what} did not finish within the statement timeout ({timeout}); it was cancelled and rolled back",
                hint="raise --timeout, or plan it without running it: --no-analyze",
                exit_code=ExitCode.CHECK_FAILED,
            ) from None
        raise TodoctlError("interrupted; the statement was cancelled and rolled back", exit_code=ExitCode.INTERRUPTED) from None
    except psycopg.errors.LockNotAvailable:
        _rollback(raw)
        raise TodoctlError(
            f"{what} waited longer than {timeout} for a lock; rolled back",
            hint="another session holds the rows; try again, or use --no-analyze",
            exit_code=ExitCode.BUSY,
        ) from None
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

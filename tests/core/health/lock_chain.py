"""Real lock waits for tests: one session holds a lock on ``tasks``, another queues behind it."""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

import psycopg

from tests.core.health.test_health import libpq, wait_until


def blocked_by(pg, url, pid: int) -> list[int]:
    rows = pg.execute(f"SELECT pg_blocking_pids({pid})", database=url.database)
    return rows[0][0] if rows else []


@contextmanager
def holding_lock(url, table: str = "tasks"):
    """A session holding ``LOCK TABLE <table>`` in an open transaction; its last query carries a secret.

    Yields (pid, secret). The transaction is rolled back and the session closed afterwards.
    """
    secret = f"secret-lock-{uuid.uuid4().hex}"
    holder = psycopg.connect(libpq(url), application_name="lock-holder")
    try:
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        holder.execute(f"SELECT '{secret}' AS token")
        yield holder.info.backend_pid, secret
    finally:
        holder.rollback()
        holder.close()


@contextmanager
def waiting_on(pg, url, holder_pid: int, table: str = "tasks"):
    """A second session queued behind ``holder_pid`` on ``LOCK TABLE <table>`` (statement_timeout 30 s).

    Yields its pid once the server reports it blocked. Release the holder to let it finish; it is
    cancelled and closed afterwards in any case.
    """
    waiter = psycopg.connect(libpq(url), application_name="lock-waiter", autocommit=True)
    pid = waiter.info.backend_pid

    def wait() -> None:
        try:
            with waiter.transaction():
                waiter.execute("SET LOCAL statement_timeout = '30s'")
                waiter.execute(f"LOCK TABLE {table} IN ACCESS SHARE MODE")
        except psycopg.Error:
            pass

    worker = threading.Thread(target=wait, daemon=True)
    worker.start()
    try:
        wait_until(lambda: holder_pid in blocked_by(pg, url, pid), what="the waiter to queue on the lock")
        yield pid
    finally:
        pg.execute(f"SELECT pg_cancel_backend({pid})", database=url.database)
        worker.join(15)
        waiter.close()

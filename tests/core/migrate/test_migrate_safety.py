"""Safe migrations on a real server: the lock, lock_timeout retries, protection, pooled URLs."""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg
import pytest

from tests.helpers import copy_migrations, libpq, revision_source
from todoctl.core import migrate
from todoctl.core.migrate.lock import LOCK_KEY, migration_lock
from todoctl.core.migrate.runner import RunOptions
from todoctl.core.migrate.settings import Timeouts
import todoctl.core.safety.protect as protect
from todoctl.db.target import configured_url
from todoctl.errors import ExitCode, TodoctlError

HEAD = migrate.history()[-1].revision



def test_lock_busy_names_the_holder(migrated_db):
    with psycopg.connect(libpq(migrated_db), autocommit=True) as blocker:
        blocker.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        blocker_pid = blocker.info.backend_pid
        started = time.monotonic()
        with pytest.raises(TodoctlError) as caught:
            migrate.upgrade(migrated_db, options=RunOptions(lock_wait=0.5))
        assert time.monotonic() - started < 10
    assert caught.value.exit_code == ExitCode.BUSY
    assert f"pid {blocker_pid}" in caught.value.message
    assert caught.value.details["holder_pid"] == blocker_pid


def test_lock_is_released_after_use(migrated_db):
    with migration_lock(migrated_db, wait=1):
        pass
    with psycopg.connect(libpq(migrated_db), autocommit=True) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0] is True


def _hold_table_lock(url, seconds: float, ready: threading.Event) -> None:
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        ready.set()
        time.sleep(seconds)
        conn.rollback()


def test_lock_timeout_is_retried_then_gives_up_with_exit_5(migrated_db):
    migrate.downgrade(migrated_db, "-2")  # 0005 and 0006 touch tasks again
    ready = threading.Event()
    blocker = threading.Thread(target=_hold_table_lock, args=(migrated_db, 6, ready))
    blocker.start()
    ready.wait(10)
    try:
        with pytest.raises(TodoctlError) as caught:
            migrate.upgrade(
                migrated_db,
                options=RunOptions(timeouts=Timeouts("100ms", "1min"), lock_retries=2, retry_base=0.05),
            )
    finally:
        blocker.join()
    error = caught.value
    assert error.exit_code == ExitCode.BUSY
    assert "after 3 attempts" in error.message
    assert error.details["failed"] == migrate.history()[-2].revision
    assert migrate.status(migrated_db).current == [migrate.history()[-3].revision]


def test_lock_timeout_retry_succeeds_when_the_blocker_goes_away(migrated_db):
    migrate.downgrade(migrated_db, "-2")
    ready = threading.Event()
    blocker = threading.Thread(target=_hold_table_lock, args=(migrated_db, 1.0, ready))
    blocker.start()
    ready.wait(10)
    try:
        run = migrate.upgrade(
            migrated_db, options=RunOptions(timeouts=Timeouts("200ms", "1min"), lock_retries=8, retry_base=0.3)
        )
    finally:
        blocker.join()
    assert run.after == [HEAD]
    assert len(run.steps) == 2  # each revision recorded once, despite the retries


def test_protected_database_refuses_down_and_stamp(migrated_db, monkeypatch):
    protect.protect(migrated_db, reason="production")
    assert protect.status(migrated_db).protected
    for action in (
        lambda yes: migrate.downgrade(migrated_db, options=RunOptions(yes=yes)),
        lambda yes: migrate.stamp(migrated_db, "base", options=RunOptions(yes=yes)),
    ):
        monkeypatch.delenv("TODOCTL_ALLOW_PRODUCTION", raising=False)
        for yes in (False, True):
            with pytest.raises(TodoctlError) as caught:
                action(yes)
            assert caught.value.exit_code == ExitCode.REFUSED
        monkeypatch.setenv("TODOCTL_ALLOW_PRODUCTION", "1")
        with pytest.raises(TodoctlError):
            action(False)
    assert migrate.status(migrated_db).current == [HEAD]
    # migrate up stays allowed: that is what deploys do.
    assert migrate.upgrade(migrated_db).after == [HEAD]
    # Both overrides together: allowed.
    monkeypatch.setenv("TODOCTL_ALLOW_PRODUCTION", "1")
    assert migrate.downgrade(migrated_db, options=RunOptions(yes=True)).after == [migrate.history()[-2].revision]
    protect.unprotect(migrated_db, yes=True)
    assert not protect.status(migrated_db).protected


def test_pooled_url_is_refused_before_connecting(monkeypatch):
    pooled = "postgresql://u:pw-xyz@ep-quiet-1-pooler.example.invalid/app?sslmode=require"
    with pytest.raises(TodoctlError) as caught:
        configured_url(pooled, direct=True)
    assert caught.value.exit_code == ExitCode.REFUSED
    monkeypatch.setenv("DATABASE_URL", pooled)
    monkeypatch.delenv("DATABASE_URL_UNPOOLED", raising=False)
    with pytest.raises(TodoctlError) as caught:
        configured_url(None, direct=True)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "DATABASE_URL_UNPOOLED" in caught.value.hint


def test_untracked_tables_ask_for_stamp(pg, migrated_db):
    pg.execute("DROP TABLE alembic_version", database=migrated_db.database)
    with pytest.raises(TodoctlError) as caught:
        migrate.upgrade(migrated_db)
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "migrate stamp" in caught.value.hint
    run = migrate.stamp(migrated_db, HEAD)
    assert run.after == [HEAD] and migrate.status(migrated_db).at_head


def _interrupt_when(url, pattern: str, done: threading.Event) -> None:
    """Send this process SIGINT once a statement like ``pattern`` runs on ``url`` (Ctrl-C, in-process)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        while time.monotonic() < deadline and not done.is_set():
            found = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND query LIKE %s AND pid <> pg_backend_pid()",
                (pattern,),
            ).fetchone()[0]
            if found:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)


def test_ctrl_c_inside_any_autocommit_block_is_reported_as_an_interrupt(tmp_path, migrated_db):
    # A plain Alembic autocommit block, not todoctl's migration_ops: after Ctrl-C, Alembic's own cleanup
    # raises SQLAlchemy's PendingRollbackError; the run must still be reported as interrupted.
    location = copy_migrations(tmp_path, {"0099_sleep.py": revision_source(
        "0099", HEAD, "with op.get_context().autocommit_block():\n    op.execute('SELECT pg_sleep(60)')"
    )})
    done = threading.Event()
    watcher = threading.Thread(target=_interrupt_when, args=(migrated_db, "SELECT pg_sleep(60)%", done))
    watcher.start()
    try:
        with pytest.raises(TodoctlError) as caught:
            migrate.upgrade(migrated_db, migrations=location)
    finally:
        done.set()
        watcher.join()
    error = caught.value
    assert error.exit_code == ExitCode.INTERRUPTED
    assert error.message.startswith("interrupted during upgrade to 0099")
    assert error.details["current"] == [HEAD] and error.details["applied"] == []
    with psycopg.connect(libpq(migrated_db), autocommit=True) as conn:
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0] is True
        assert conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE 'todoctl%%' AND state <> 'idle'"
        ).fetchone()[0] == 0


def test_failed_revision_names_the_concurrent_steps_it_had_committed(migrated_db):
    migrate.downgrade(migrated_db, "0005")  # at 0005; 0006 builds two indexes, each in its own autocommit block
    with psycopg.connect(libpq(migrated_db)) as other:
        other.execute("CREATE INDEX ix_tasks_pending_due ON users (name)")  # the second build waits on this name
        with pytest.raises(TodoctlError) as caught:
            migrate.upgrade(migrated_db, options=RunOptions(timeouts=Timeouts("1min", "500ms")))
        other.rollback()
    error = caught.value
    assert error.exit_code == ExitCode.CHECK_FAILED
    assert error.details["failed"] == "0006" and error.details["current"] == ["0005"]
    assert error.details["committed_steps"] == ["CREATE INDEX CONCURRENTLY ix_tasks_search"]
    assert "already committed: CREATE INDEX CONCURRENTLY ix_tasks_search" in error.message
    assert migrate.upgrade(migrated_db).after == [HEAD]  # the steps are idempotent: up finishes 0006

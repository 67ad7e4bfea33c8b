"""Faults with the database state checked afterwards: killed connections, a stopped server."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.cli.migrate.test_migrate_processes import (
    lock_free,
    sleeping_query,
    slow_migrations,
)
from tests.helpers import libpq, run_todoctl, start_todoctl, wait_for
from todoctl.core import migrate
from todoctl.db import embedded

HEAD = migrate.history()[-1].revision


def test_connection_killed_mid_migration_leaves_a_clean_revision(tmp_path, migrated_db, pg):
    location = slow_migrations(tmp_path)
    process = start_todoctl("-d", migrated_db.url, "migrate", "up", "--migrations", str(location))
    try:
        assert wait_for(lambda: sleeping_query(migrated_db)), "the slow revision never started"
        with psycopg.connect(libpq(migrated_db), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()"
            )
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # A connection ended under the run is a lost connection (exit 3, issue 26), not a failed revision.
    assert process.returncode == 3, stderr
    assert "lost the connection" in stderr and "0099" in stderr and f"the database is at {HEAD}" in stderr
    assert "`todoctl migrate up` again: it resumes" in stderr
    assert lock_free(migrated_db)
    assert migrate.status(migrated_db).current == [HEAD]
    assert pg.execute("SELECT to_regclass('slow_marker')", database=migrated_db.database) == [(None,)]
    assert run_todoctl("-d", migrated_db.url, "migrate", "up").returncode == 0


@pytest.fixture(scope="module")
def stopped_server_url():
    root = Path(tempfile.mkdtemp(prefix="todoctl-stopped-"))
    server = embedded.start(root / "pgdata")
    url = server.url()
    embedded.stop(root / "pgdata")
    yield url
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    "args",
    [("migrate", "up"), ("migrate", "down"), ("migrate", "status"), ("migrate", "check"), ("migrate", "stamp", "head")],
)
def test_stopped_server_is_exit_3_quickly(stopped_server_url, args):
    started = time.monotonic()
    result = run_todoctl("-d", stopped_server_url, *args, TODOCTL_CONNECT_TIMEOUT="3")
    assert result.returncode == 3, result.stderr
    assert "no server is listening" in result.stderr and "Hint:" in result.stderr
    assert time.monotonic() - started < 30


SERVER_STOPPED_COMMANDS = [
    ("health",),
    ("seed", "--users", "2", "--quiet"),
    ("explain", "task-list"),
    ("explain", "sql", "SELECT 1"),
    ("explain", "check"),
    ("schema", "show"),
    ("schema", "diff"),
    ("schema", "lint"),
    ("schema", "erd"),
    ("schema", "dump"),
    ("db", "protection"),
]


@pytest.mark.parametrize("args", SERVER_STOPPED_COMMANDS, ids=[" ".join(a) for a in SERVER_STOPPED_COMMANDS])
def test_stopped_server_is_exit_3_for_every_command(stopped_server_url, args):
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    result = CliRunner().invoke(app, ["-d", stopped_server_url, *args], env={"TODOCTL_CONNECT_TIMEOUT": "3"})
    assert result.exit_code == 3, result.output
    # Commands that change a database name it first (a "target:" line).
    stderr = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("target: "))
    assert stderr.startswith("Error: ") and "Hint: " in stderr


def test_ctrl_c_during_explain_exits_130_and_changes_nothing(migrated_db, pg):
    import signal

    def counts():
        return pg.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)", database=migrated_db.database
        )

    before = counts()
    process = start_todoctl("-d", migrated_db.url, "explain", "sql", "SELECT pg_sleep(60)")
    try:
        assert wait_for(lambda: sleeping_query(migrated_db)), "the explained statement never started"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert wait_for(lambda: not sleeping_query(migrated_db), timeout=10)  # the statement was cancelled
    assert counts() == before

"""Faults with the database state checked afterwards: killed connections, a stopped server."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from todoctl.core import migrate
from todoctl.db import embedded

from tests.cli.test_migrate_processes import libpq, lock_free, sleeping_query, slow_migrations, wait_for
from tests.helpers import run_todoctl, start_todoctl

HEAD = migrate.history()[-1].id


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
    assert process.returncode == 1, stderr
    assert "0099" in stderr and f"the database is at {HEAD}" in stderr
    assert lock_free(migrated_db)
    assert migrate.status(migrated_db).current == [HEAD]
    assert pg.execute("SELECT to_regclass('slow_marker')", database=migrated_db.database) == [(None,)]
    assert run_todoctl("-d", migrated_db.url, "migrate", "up").returncode == 0


@pytest.fixture
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

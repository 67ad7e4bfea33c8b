"""The real program under concurrency and signals: several deploys at once, kill -9, Ctrl-C, SIGTERM."""

from __future__ import annotations

import json
import signal
import time

import psycopg
import pytest

from tests.helpers import (
    copy_migrations,
    libpq,
    revision_source,
    run_todoctl,
    start_todoctl,
    wait_for,
)
from todoctl.core import migrate
from todoctl.core.migrate.lock import LOCK_KEY

ALL = [r.revision for r in migrate.history()]
HEAD = ALL[-1]



def sleeping_query(url) -> bool:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND query ILIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()"
        ).fetchone()
        return row[0] > 0


def lock_free(url) -> bool:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
        if got:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        return got


def slow_migrations(tmp_path):
    return copy_migrations(
        tmp_path,
        {
            "0099_slow.py": revision_source(
                "0099", HEAD, "op.execute('CREATE TABLE slow_marker (id int)')\nop.execute('SELECT pg_sleep(60)')"
            )
        },
    )


def test_five_concurrent_deploys_apply_each_revision_once(empty_db):
    processes = [start_todoctl("-d", empty_db.url, "migrate", "up", "--json") for _ in range(5)]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    applied = [step["revision"] for doc in outputs for step in doc["steps"]]
    assert sorted(applied) == ALL  # every revision exactly once, across all five
    assert all(doc["after"] == [HEAD] for doc in outputs)
    assert migrate.status(empty_db).at_head


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_cancels_the_statement_rolls_back_and_exits_130(tmp_path, migrated_db, pg, sig):
    location = slow_migrations(tmp_path)
    process = start_todoctl("-d", migrated_db.url, "migrate", "up", "--migrations", str(location))
    try:
        assert wait_for(lambda: sleeping_query(migrated_db)), "the slow revision never started"
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert wait_for(lambda: not sleeping_query(migrated_db), timeout=10)
    assert lock_free(migrated_db)
    assert migrate.status(migrated_db).current == [HEAD]
    assert pg.execute("SELECT to_regclass('slow_marker')", database=migrated_db.database) == [(None,)]
    # The next run proceeds (here with the stock history: nothing left to do).
    assert run_todoctl("-d", migrated_db.url, "migrate", "up").returncode == 0


def test_kill_9_never_leaves_the_lock_held(tmp_path, migrated_db):
    location = slow_migrations(tmp_path)
    process = start_todoctl("-d", migrated_db.url, "migrate", "up", "--migrations", str(location))
    try:
        assert wait_for(lambda: sleeping_query(migrated_db)), "the slow revision never started"
        assert not lock_free(migrated_db)
        process.kill()  # SIGKILL: no cleanup code runs
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    started = time.monotonic()
    result = run_todoctl("-d", migrated_db.url, "migrate", "up", "--lock-wait", "20", "--json")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert json.loads(result.stdout)["after"] == [HEAD]
    assert wait_for(lambda: not sleeping_query(migrated_db), timeout=15)


def test_busy_lock_exits_5_naming_the_pid(migrated_db):
    with psycopg.connect(libpq(migrated_db), autocommit=True) as blocker:
        blocker.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        pid = blocker.info.backend_pid
        result = run_todoctl("-d", migrated_db.url, "migrate", "up", "--lock-wait", "0.5")
    assert result.returncode == 5
    assert f"pid {pid}" in result.stderr

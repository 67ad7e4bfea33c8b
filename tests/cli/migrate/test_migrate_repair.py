"""INVALID indexes left by a failed concurrent build: reported by status and health, repaired by `migrate up`."""

from __future__ import annotations

import json
from contextlib import contextmanager

import psycopg
from typer.testing import CliRunner

from tests.helpers import schema_snapshot as snapshot
from todoctl.cli.app import app
from todoctl.core import migrate
import todoctl.core.catalog.snapshot as catalog

runner = CliRunner()
HEAD = migrate.history()[-1].revision
REBUILDS_LIST_ID = "0007"  # its downgrade rebuilds ix_tasks_list_id with CREATE INDEX CONCURRENTLY
WRITER = "LOCK TABLE tasks IN ROW EXCLUSIVE MODE"  # CREATE INDEX CONCURRENTLY waits for writers


def invoke(*args: str):
    return runner.invoke(app, list(args))


@contextmanager
def writer_open(url):
    """An open transaction that has written to tasks: concurrent index builds wait for it."""
    with psycopg.connect(url.libpq) as conn:
        conn.execute(WRITER)
        try:
            yield
        finally:
            conn.rollback()



def health_invalid(url) -> list[str]:
    result = invoke("-d", url.url, "health", "--check", "invalid-indexes", "--json")
    document = json.loads(result.stdout)
    (check,) = document["checks"]
    return [i["index"] for i in check["details"]["indexes"]]


def test_failed_down_leaves_an_invalid_index_that_migrate_up_drops(migrated_db):
    head_schema = snapshot(migrated_db)
    url = migrated_db.url
    # 0007's downgrade is the one that builds ix_tasks_list_id (CONCURRENTLY): start there.
    assert invoke("-d", url, "migrate", "down", REBUILDS_LIST_ID).exit_code == 0
    with writer_open(migrated_db):
        down = invoke("-d", url, "migrate", "down", "--statement-timeout", "300ms", "--lock-timeout", "30s", "--json")
    assert down.exit_code == 1, down.output
    error = json.loads(down.stdout)["error"]
    assert error["details"]["failed"] == REBUILDS_LIST_ID
    assert error["details"]["current"] == [REBUILDS_LIST_ID]
    assert error["details"]["invalid_indexes"] == [{"table": "tasks", "index": "ix_tasks_list_id"}]
    assert "INVALID index left: ix_tasks_list_id on tasks" in error["message"]

    status = invoke("-d", url, "migrate", "status", "--json")
    assert json.loads(status.stdout)["invalid_indexes"] == [
        {"table": "tasks", "index": "ix_tasks_list_id", "repair": "drop", "building_pid": None}
    ]
    text = invoke("-d", url, "migrate", "status")
    assert "invalid index ix_tasks_list_id on tasks" in text.stdout
    assert f"`todoctl migrate up` will DROP INDEX CONCURRENTLY it (head {HEAD} does not define it)" in text.stdout
    assert health_invalid(migrated_db) == ["ix_tasks_list_id"]

    up = invoke("-d", url, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    document = json.loads(up.stdout)
    assert document["after"] == [HEAD]
    assert [{k: r[k] for k in ("table", "index", "action", "done")} for r in document["repairs"]] == [
        {"table": "tasks", "index": "ix_tasks_list_id", "action": "drop", "done": True}
    ]
    assert invoke("-d", url, "migrate", "check").exit_code == 0
    assert health_invalid(migrated_db) == []
    assert not catalog.differences(head_schema, snapshot(migrated_db))
    assert "Nothing to do" in invoke("-d", url, "migrate", "up").stdout


def test_invalid_index_the_head_defines_is_rebuilt_under_the_timeouts(pg, migrated_db):
    head_schema = snapshot(migrated_db)
    url = migrated_db.url
    # A failed CREATE INDEX CONCURRENTLY of one of head's own indexes, as a deploy might leave it.
    pg.execute("DROP INDEX ix_tasks_pending_due", database=migrated_db.database)
    with writer_open(migrated_db), psycopg.connect(migrated_db.libpq, autocommit=True) as builder:
        builder.execute("SET statement_timeout = '200ms'")
        try:
            builder.execute("CREATE INDEX CONCURRENTLY ix_tasks_pending_due ON tasks (due_date) WHERE status = 'pending'")
        except psycopg.errors.QueryCanceled:
            pass
        status = invoke("-d", url, "migrate", "status")
        assert f"`todoctl migrate up` will REINDEX INDEX CONCURRENTLY it (head {HEAD} defines it)" in status.stdout

        # The repair honours --statement-timeout: the writer is still there, so the build cannot finish.
        blocked = invoke("-d", url, "migrate", "up", "--statement-timeout", "300ms", "--json")
        assert blocked.exit_code == 1, blocked.output
        error = json.loads(blocked.stdout)["error"]
        assert "repairing INVALID index ix_tasks_pending_due (rebuild) failed" in error["message"]
        assert error["details"]["failed_repair"]["index"] == "ix_tasks_pending_due"

    # ... and --lock-timeout: DROP INDEX CONCURRENTLY cannot get its lock past a SHARE lock: busy, exit 5.
    with psycopg.connect(migrated_db.libpq) as holder:
        holder.execute("LOCK TABLE tasks IN SHARE MODE")
        busy = invoke("-d", url, "migrate", "up", "--lock-timeout", "100ms", "--json")
        holder.rollback()
    assert busy.exit_code == 5, busy.output
    assert "lock timeout" in json.loads(busy.stdout)["error"]["message"]

    up = invoke("-d", url, "migrate", "up")
    assert up.exit_code == 0, up.output
    assert f"Repaired: rebuilt INVALID index ix_tasks_pending_due on tasks (defined at {HEAD})." in up.stdout
    assert invoke("-d", url, "migrate", "check").exit_code == 0
    assert not catalog.differences(head_schema, snapshot(migrated_db))


def test_repair_short_of_head_replays_the_history_to_know_the_revision(pg, migrated_db):
    """`migrate up 0006` on a database at 0006: the models say nothing about 0006, a replay does."""
    url = migrated_db.url
    assert invoke("-d", url, "migrate", "down", "0006").exit_code == 0  # 0006 has ix_tasks_list_id
    at_0006 = snapshot(migrated_db)
    with writer_open(migrated_db), psycopg.connect(migrated_db.libpq, autocommit=True) as other:
        other.execute("SET statement_timeout = '200ms'")
        # An interrupted DROP INDEX CONCURRENTLY of 0006's own index, and a stray failed build.
        for statement in ("DROP INDEX CONCURRENTLY ix_tasks_list_id", "CREATE INDEX CONCURRENTLY ix_stray ON tasks (title)"):
            try:
                other.execute(statement)
            except psycopg.errors.QueryCanceled:
                pass
    assert json.loads(invoke("-d", url, "migrate", "status", "--json").stdout)["invalid_indexes"] == [
        {"table": "tasks", "index": "ix_stray", "repair": "drop", "building_pid": None},
        {"table": "tasks", "index": "ix_tasks_list_id", "repair": "drop", "building_pid": None},  # head does not define it
    ]
    up = invoke("-d", url, "migrate", "up", "0006", "--json")
    assert up.exit_code == 0, up.output
    repairs = {r["index"]: r["action"] for r in json.loads(up.stdout)["repairs"]}
    assert repairs == {"ix_tasks_list_id": "rebuild", "ix_stray": "drop"}
    assert not catalog.differences(at_0006, snapshot(migrated_db))

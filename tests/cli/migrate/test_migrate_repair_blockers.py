"""An index repair that gives up on lock_timeout names the session holding the table, as a revision does."""

from __future__ import annotations

import json

import psycopg
from typer.testing import CliRunner

from tests.cli.migrate.test_migrate_repair import writer_open
from todoctl.cli.app import app

runner = CliRunner()


def leave_invalid_index(pg, db) -> None:
    """A failed CREATE INDEX CONCURRENTLY of one of head's own indexes, as a deploy might leave it."""
    pg.execute("DROP INDEX ix_tasks_pending_due", database=db.database)
    with writer_open(db), psycopg.connect(db.libpq, autocommit=True) as builder:
        builder.execute("SET statement_timeout = '200ms'")
        try:
            builder.execute("CREATE INDEX CONCURRENTLY ix_tasks_pending_due ON tasks (due_date) WHERE status = 'pending'")
        except psycopg.errors.QueryCanceled:
            pass


def test_repair_blocked_by_a_lock_names_the_holder_and_its_hint_ends_it(pg, migrated_db):
    leave_invalid_index(pg, migrated_db)
    holder = psycopg.connect(migrated_db.libpq, application_name="report-job")
    try:
        holder.execute("LOCK TABLE tasks IN SHARE MODE")  # REINDEX CONCURRENTLY cannot get past it
        pid = holder.info.backend_pid

        busy = runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--lock-timeout", "100ms", "--json"])
        assert busy.exit_code == 5, busy.output
        error = json.loads(busy.stdout)["error"]
        assert "repairing INVALID index ix_tasks_pending_due (rebuild) failed" in error["message"]
        assert f"held by pid {pid} (" in error["message"] and "'report-job'" in error["message"]
        assert "LOCK TABLE tasks IN SHARE MODE" in error["message"]
        (blocker,) = error["details"]["blockers"]
        assert blocker["pid"] == pid and blocker["application"] == "report-job"
        assert blocker["state"] == "idle in transaction"
        assert f"todoctl db cancel {pid} --terminate" in error["hint"]

        text = runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--lock-timeout", "100ms"])
        assert text.exit_code == 5
        assert f"held by pid {pid}" in text.stderr and f"todoctl db cancel {pid}" in text.stderr

        # The hint's command ends the holder's session; the repair then goes through.
        ended = runner.invoke(app, ["-d", migrated_db.url, "db", "cancel", str(pid), "--terminate", "--yes"])
        assert ended.exit_code == 0, ended.output
    finally:
        holder.close()  # its session is ended by then: closing is all that is left
    up = runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--json"])
    assert up.exit_code == 0, up.output
    assert [r["index"] for r in json.loads(up.stdout)["repairs"]] == ["ix_tasks_pending_due"]


def test_repair_failing_for_another_reason_names_no_blocker(pg, migrated_db):
    leave_invalid_index(pg, migrated_db)
    with writer_open(migrated_db):  # the rebuild waits for the writer until statement_timeout: no lock_timeout
        blocked = runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--statement-timeout", "300ms", "--json"])
    assert blocked.exit_code == 1, blocked.output
    error = json.loads(blocked.stdout)["error"]
    assert "held by" not in error["message"] and error["details"]["blockers"] == []

"""A migration that cannot get a lock names the session holding it, and how to end that session."""

from __future__ import annotations

import json
import uuid

import psycopg
from typer.testing import CliRunner

from tests.core.health.lock_chain import holding_lock
from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.core.migrate.lock import LOCK_KEY

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_lock_timeout_names_the_blocker(migrated_db):
    migrate.downgrade(migrated_db, "-2")  # 0006 builds indexes on tasks again
    url = migrated_db.url
    with holding_lock(migrated_db) as (holder, secret):
        busy = invoke("-d", url, "migrate", "up", "--lock-timeout", "200ms", "--lock-retries", "0", "--json")
        human = invoke("-d", url, "migrate", "up", "--lock-timeout", "200ms", "--lock-retries", "0")
    assert busy.exit_code == 5, busy.output
    error = json.loads(busy.stdout)["error"]
    assert f"pid {holder}" in error["message"] and "lock-holder" in error["message"]
    assert f"todoctl db cancel {holder}" in error["hint"] and f"pg_terminate_backend({holder})" in error["hint"]
    [blocker] = error["details"]["blockers"]
    assert blocker["pid"] == holder and blocker["application"] == "lock-holder"
    assert blocker["state"] == "idle in transaction" and blocker["duration_ms"] >= 0
    assert "SELECT" in blocker["query"]
    assert secret not in busy.stdout  # the holder's last query carries it: masked

    assert human.exit_code == 5, human.output
    assert f"pid {holder}" in human.output and secret not in human.output
    assert migrate.status(migrated_db).current == [migrate.history()[-3].revision]


def test_migration_lock_wait_names_the_holder_masked(migrated_db):
    secret = f"secret-advisory-{uuid.uuid4().hex}"
    with psycopg.connect(migrated_db.libpq, autocommit=True, application_name="stuck-deploy") as other:
        other.execute(f"SELECT pg_advisory_lock({LOCK_KEY}), '{secret}'")
        busy = invoke("-d", migrated_db.url, "migrate", "up", "--lock-wait", "0.2", "--json")
        pid = other.info.backend_pid
    assert busy.exit_code == 5, busy.output
    error = json.loads(busy.stdout)["error"]
    assert f"pid {pid}" in error["message"] and "stuck-deploy" in error["message"]
    assert f"todoctl db cancel {pid} --terminate" in error["hint"]
    holder = error["details"]["holder"]
    assert holder["pid"] == pid == error["details"]["holder_pid"] and holder["state"] == "idle"
    assert "pg_advisory_lock" in holder["query"]
    assert secret not in busy.stdout

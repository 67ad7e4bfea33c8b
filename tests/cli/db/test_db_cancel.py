"""`todoctl db cancel PID [--terminate]` on a real server: real sessions cancelled and ended, and every refusal."""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from typer.testing import CliRunner

from tests.core.health.test_health import libpq, session_state, wait_until
from todoctl.cli.app import app
import todoctl.core.safety.protect as protect
from todoctl.db.url import DatabaseURL

runner = CliRunner()


def cancel(url: DatabaseURL | str, *args: str, env: dict | None = None):
    target = url.url if isinstance(url, DatabaseURL) else url
    return runner.invoke(
        app, ["-d", target, "db", "cancel", *args],
        env={"COLUMNS": "200", "TODOCTL_ALLOW_PRODUCTION": "", **(env or {})},
    )  # fmt: skip


@contextmanager
def sleeping(pg, url: DatabaseURL, conninfo: str | None = None):
    """A session running ``SELECT pg_sleep(60), '<secret>'``; yields (conn, pid, secret, outcome)."""
    secret = f"secret-sleep-{uuid.uuid4().hex}"
    conn = psycopg.connect(conninfo or libpq(url), autocommit=True, application_name="sleeper")
    outcome: dict = {}

    def sleep() -> None:
        try:
            conn.execute(f"SELECT pg_sleep(60), '{secret}'")
            outcome["error"] = None
        except psycopg.Error as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=sleep, daemon=True)
    pid = conn.info.backend_pid
    worker.start()
    try:
        wait_until(lambda: session_state(pg, url, pid) == "active", what="the sleeping query")
        yield conn, pid, secret, outcome, worker
    finally:
        pg.execute(f"SELECT pg_terminate_backend({pid})", database=url.database)
        worker.join(15)
        conn.close()


def as_role(url: DatabaseURL, role: str, password: str) -> str:
    parts = urlsplit(url.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}:{quote(password)}@{host}"))


@pytest.fixture
def role(pg, migrated_db):
    """A plain LOGIN role (no superuser, no pg_signal_backend): (name, password)."""
    name, password = f"plain_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    pg.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    pg.execute(f"GRANT CONNECT ON DATABASE {migrated_db.database} TO {name}")
    yield name, password
    pg.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'")
    pg.execute(f"REVOKE ALL ON DATABASE {migrated_db.database} FROM {name}")
    pg.execute(f"DROP ROLE IF EXISTS {name}")


def test_cancel_stops_the_query_and_keeps_the_session(pg, migrated_db):
    with sleeping(pg, migrated_db) as (conn, pid, secret, outcome, worker):
        result = cancel(migrated_db, str(pid), "--yes", "--json")
        assert result.exit_code == 0, result.output
        worker.join(15)
        assert isinstance(outcome["error"], psycopg.errors.QueryCanceled)
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the session lives on
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["action"] == "cancel" and document["pid"] == pid
    assert document["signalled"] is True and document["session_gone"] is False
    assert document["session"]["application"] == "sleeper" and document["session"]["state"] == "active"
    assert document["target_database"]["name"] == migrated_db.database
    assert secret not in result.output  # the session's query is shown masked


def test_terminate_ends_the_session(pg, migrated_db):
    with sleeping(pg, migrated_db) as (conn, pid, secret, outcome, worker):
        result = cancel(migrated_db, str(pid), "--terminate", "--yes")
        assert result.exit_code == 0, result.output
        assert f"pid {pid}: session ended" in result.stdout
        assert session_state(pg, migrated_db, pid) is None
        worker.join(15)
        assert isinstance(outcome["error"], psycopg.OperationalError)


def test_not_a_session_of_this_database_is_exit_2(pg, migrated_db, empty_db):
    with sleeping(pg, empty_db) as (_conn, pid, *_):
        elsewhere = cancel(migrated_db, str(pid), "--yes")
    assert elsewhere.exit_code == 2, elsewhere.output
    assert f"pid {pid} is not a client session of database {migrated_db.database}" in elsewhere.output
    assert "Hint:" in elsewhere.output
    postmaster = pg.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")[0][0]
    assert cancel(migrated_db, str(postmaster), "--yes").exit_code == 2
    assert cancel(migrated_db, "0", "--yes", "--json").exit_code == 2


def test_without_a_terminal_it_needs_yes(pg, migrated_db):
    with sleeping(pg, migrated_db) as (_conn, pid, _secret, outcome, _worker):
        result = cancel(migrated_db, str(pid))
        assert result.exit_code == 4, result.output
        assert "confirmation needed" in result.output and "--yes" in result.output
        assert session_state(pg, migrated_db, pid) == "active" and "error" not in outcome


def test_protected_database_needs_the_override(pg, migrated_db):
    protect.protect(migrated_db, "production")
    with sleeping(pg, migrated_db) as (_conn, pid, _secret, outcome, worker):
        refused = cancel(migrated_db, str(pid), "--yes")
        assert refused.exit_code == 4, refused.output
        assert "protected production database" in refused.output
        assert session_state(pg, migrated_db, pid) == "active"
        allowed = cancel(migrated_db, str(pid), "--yes", env={"TODOCTL_ALLOW_PRODUCTION": "1"})
        assert allowed.exit_code == 0, allowed.output
        worker.join(15)
        assert isinstance(outcome["error"], psycopg.errors.QueryCanceled)


def test_another_roles_session_is_refused_with_the_reason(pg, migrated_db, role):
    name, password = role
    mine = as_role(migrated_db, name, password)
    # A superuser's session (the test server's admin role), seen from the plain role.
    with sleeping(pg, migrated_db) as (_conn, pid, *_):
        refused = cancel(mine, str(pid), "--yes", "--json")
        assert refused.exit_code == 4, refused.output
        error = json.loads(refused.stdout)["error"]
        assert "superuser" in error["message"] and name in error["message"]
        assert session_state(pg, migrated_db, pid) == "active"
    # Another plain role's session: refused until the role is granted pg_signal_backend.
    other = f"other_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE ROLE {other} LOGIN PASSWORD '{password}'")
    try:
        theirs = libpq(DatabaseURL(as_role(migrated_db, other, password), "test"))
        with sleeping(pg, migrated_db, theirs) as (_conn, pid, _secret, outcome, worker):
            refused = cancel(mine, str(pid), "--yes")
            assert refused.exit_code == 4, refused.output
            assert "pg_signal_backend" in refused.output and f"GRANT pg_signal_backend TO {name}" in refused.output
            pg.execute(f"GRANT pg_signal_backend TO {name}")
            allowed = cancel(mine, str(pid), "--yes")
            assert allowed.exit_code == 0, allowed.output
            worker.join(15)
            assert isinstance(outcome["error"], psycopg.errors.QueryCanceled)
    finally:
        pg.execute(f"DROP ROLE IF EXISTS {other}")

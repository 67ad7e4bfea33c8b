"""The replication check on the embedded server, a primary without standbys: a real inactive slot
holding WAL, and DATABASE_URL_REPLICA naming a server that is no replica, or none at all.
The streaming standby (lag, a standby stopped behind) is in the topology tier, tests/test_topology.py."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from typer.testing import CliRunner

from tests.core.health.test_health import run
from todoctl.cli.app import app
from todoctl.core.health.registry import Status


@pytest.fixture(autouse=True)
def no_replica(monkeypatch):
    monkeypatch.delenv("DATABASE_URL_REPLICA", raising=False)


@pytest.fixture
def slot(pg):
    """An inactive physical slot that reserves WAL from now on (dropped after: it is server-wide)."""
    name = f"todoctl_test_{uuid.uuid4().hex[:8]}"
    pg.execute(f"SELECT pg_create_physical_replication_slot('{name}', true)")
    try:
        yield name
    finally:
        pg.execute(f"SELECT pg_drop_replication_slot('{name}')")


def write_wal(pg, database: str, rows: int = 20000) -> None:
    pg.execute(
        f"CREATE TABLE wal_filler AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, {rows}) g",
        database=database,
    )


def test_a_primary_without_standbys_is_ok(migrated_db):
    check = run(migrated_db, "replication").checks[0]
    assert check.status is Status.OK, check.value
    assert check.details["role"] == "primary" and check.details["standbys"] == []
    assert check.details["replica"] is None and check.details["wal_lsn"]


def test_an_inactive_slot_holding_wal_warns_then_fails(pg, migrated_db, slot):
    write_wal(pg, migrated_db.database)
    ok = run(migrated_db, "replication").checks[0]  # a couple of MB: under the default 1 GB
    assert ok.status is Status.OK, ok.value
    held = next(s for s in ok.details["slots"] if s["slot"] == slot)
    assert held["active"] is False and held["type"] == "physical" and held["retained_bytes"] > 1_000_000

    warn = run(migrated_db, "replication", replication_slot_warn_mb=1).checks[0]
    assert warn.status is Status.WARN, warn.value
    assert f"inactive slot {slot} holds" in warn.value and f"pg_drop_replication_slot('{slot}')" in warn.hint

    fail = run(migrated_db, "replication", replication_slot_warn_mb=0, replication_slot_fail_mb=1).checks[0]
    assert fail.status is Status.FAIL, fail.value


def test_the_hint_fixes_it(pg, migrated_db, slot):
    write_wal(pg, migrated_db.database)
    check = run(migrated_db, "replication", replication_slot_warn_mb=1).checks[0]
    assert check.status is Status.WARN
    # The hint's statement, as a role that may (the test's superuser) runs it.
    pg.execute(check.hint.split(", or ", 1)[1])
    try:
        again = run(migrated_db, "replication", replication_slot_warn_mb=1).checks[0]
        assert again.status is Status.OK and not any(s["slot"] == slot for s in again.details["slots"])
    finally:
        pg.execute(f"SELECT pg_create_physical_replication_slot('{slot}')")  # for the fixture to drop


def test_replica_url_naming_the_primary_warns(migrated_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL_REPLICA", migrated_db.libpq)
    check = run(migrated_db, "replication").checks[0]
    assert check.status is Status.WARN and "is not a replica" in check.value
    assert check.details["replica"]["in_recovery"] is False


def test_replica_that_is_down_fails_the_check_not_the_run(migrated_db, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL_REPLICA", f"postgresql://app:Replica-Sentinel-Pw@127.0.0.1:{port}/app")
    result = CliRunner().invoke(app, ["-d", migrated_db.url, "health", "-c", "replication", "--json"])
    assert result.exit_code == 1, result.output
    assert "Replica-Sentinel-Pw" not in result.output
    check = json.loads(result.stdout)["checks"][0]
    assert check["status"] == "fail" and "connection refused" in check["value"]
    assert check["details"]["replica"]["source"] == "DATABASE_URL_REPLICA"
    assert "DATABASE_URL_REPLICA" in check["hint"]


def test_malformed_replica_url_is_exit_3(migrated_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL_REPLICA", "postgresql://app:Bad/Sentinel-Pw@host:notaport/app")
    result = CliRunner().invoke(app, ["-d", migrated_db.url, "health", "-c", "replication"])
    assert result.exit_code == 3, result.output
    assert "DATABASE_URL_REPLICA" in result.stderr and "Sentinel-Pw" not in result.output


def test_thresholds_come_from_the_environment(pg, migrated_db, slot):
    write_wal(pg, migrated_db.database)
    result = CliRunner().invoke(
        app, ["-d", migrated_db.url, "health", "-c", "replication", "--json"],
        env={"TODOCTL_HEALTH_REPLICATION_SLOT_FAIL_MB": "1", "TODOCTL_HEALTH_REPLICATION_SLOT_WARN_MB": "0"},
    )
    assert result.exit_code == 1, result.output
    check = json.loads(result.stdout)["checks"][0]
    assert check["status"] == "fail" and "> 0 / 1 MB of WAL" in check["threshold"]


def test_replica_url_from_dotenv_is_read_and_its_password_masked(pg, migrated_db, monkeypatch, tmp_path):
    from urllib.parse import urlsplit

    parts = urlsplit(migrated_db.libpq)
    # The same server, with a password in the URL (the embedded server trusts local connections).
    host = parts.netloc.rpartition("@")[2]  # empty for a Unix socket (host=... in the query)
    with_password = migrated_db.libpq.replace(f"//{parts.netloc}", f"//{parts.username}:Dotenv-Sentinel-Pw@{host}", 1)
    (tmp_path / ".env").write_text(f"DATABASE_URL_REPLICA={with_password}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["-d", migrated_db.url, "health", "-c", "replication", "--json"])
    assert "Dotenv-Sentinel-Pw" not in result.output
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)["checks"][0]
    assert check["details"]["replica"]["source"] == "DATABASE_URL_REPLICA (.env)", check
    assert check["status"] == "warn" and "is not a replica" in check["value"]

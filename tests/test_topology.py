"""The topology tier: PostgreSQL 15 (TCP, SSL, password, pg_stat_statements) and PgBouncer in
transaction mode; a streaming standby for the replication check."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from typer.testing import CliRunner

from tests import topology as topo
from tests.topology import PASSWORD, standby  # noqa: F401  (the streaming standby's fixture)
from todoctl.cli.app import app
from todoctl.core import migrate

pytestmark = pytest.mark.topology
runner = CliRunner()
HEAD = migrate.history()[-1].revision


def invoke(*args: str, env: dict | None = None):
    result = runner.invoke(app, list(args), env=env)
    assert PASSWORD not in result.stdout + result.stderr
    return result


def test_migrate_refuses_the_pooler_and_works_on_the_direct_url(topology):
    refused = invoke("-d", topology.pooled, "migrate", "up")
    assert refused.exit_code == 4, refused.output
    assert "DATABASE_URL_UNPOOLED" in refused.stderr

    up = invoke("-d", topology.direct, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["after"] == [HEAD]

    # Reading through the pooler works (prepared statements are off on pooled URLs).
    status = invoke("-d", topology.pooled, "migrate", "status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["at_head"] is True

    env = {"DATABASE_URL": topology.pooled, "DATABASE_URL_UNPOOLED": topology.direct}
    again = invoke("migrate", "up", "--json", env=env)
    assert again.exit_code == 0, again.output


def test_ssl_is_in_use_on_the_direct_url(topology):
    import psycopg

    with psycopg.connect(topology.direct) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
        assert conn.info.server_version // 10000 == 15


def test_wrong_password_is_exit_3_without_any_password(topology):
    wrong = topology.direct.replace(PASSWORD, "Wrong-Sentinel-Pw-999")
    result = invoke("-d", wrong, "migrate", "status")
    assert result.exit_code == 3
    assert "authentication failed" in result.stderr
    assert "Wrong-Sentinel-Pw-999" not in result.stdout + result.stderr


def test_missing_database_is_exit_3(topology):
    result = invoke("-d", topology.url_for("no_such_db"), "migrate", "status")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_seed_explain_health_and_schema_work_through_the_pooler(topology):
    assert invoke("-d", topology.direct, "migrate", "up").exit_code == 0
    pooled = topology.pooled

    seeded = invoke("-d", pooled, "seed", "--profile", "small", "--truncate", "--yes", "--quiet", "--json")
    assert seeded.exit_code == 0, seeded.output
    assert json.loads(seeded.stdout)["fingerprint"]

    explained = invoke("-d", pooled, "explain", "task-list", "--json")
    assert explained.exit_code == 0, explained.output
    assert json.loads(explained.stdout)["plan"]

    health = invoke("-d", pooled, "health", "--json")
    assert health.exit_code in (0, 1), health.output
    report = json.loads(health.stdout)
    assert report["endpoint"] == "pooled", report
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["ssl"]["status"] == "ok" and checks["version"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"

    shown = invoke("-d", pooled, "schema", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert "tasks" in {t["name"] for t in json.loads(shown.stdout)["tables"]}


# ---------------------------------------------------------------- top-queries: the app's queries by name


def run_named_queries(url: str, calls: dict[str, int]) -> None:
    """The app's named queries, executed as the app does: through todoctl.app's engine."""
    from todoctl.todo.db import engine_from_env
    from todoctl.named_queries import get, resolve_params

    engine = engine_from_env({"DATABASE_URL": url})
    try:
        with engine.connect() as conn:
            for name, times in calls.items():
                named = get(name)
                statement = named.build(**resolve_params(conn, named, {}))
                for _ in range(times):
                    conn.execute(statement).all()
            conn.rollback()
    finally:
        engine.dispose()


def top_queries(url: str, *thresholds: str):
    args = ["-d", url, "health", "-c", "top-queries", "--json", "-t", "top_queries=50"]
    for threshold in thresholds:
        args += ["-t", threshold]
    result = invoke(*args)
    assert result.exit_code == 0, result.output  # top-queries only ever warns
    return json.loads(result.stdout)["checks"][0]


def test_top_queries_name_the_apps_queries(topology):
    assert invoke("-d", topology.direct, "migrate", "up").exit_code == 0
    seeded = invoke("-d", topology.direct, "seed", "--profile", "small", "--truncate", "--yes", "--quiet")
    assert seeded.exit_code == 0, seeded.output
    first = top_queries(topology.direct)  # records where the window starts (or judges the seeding)
    assert first["status"] in ("skip", "ok", "warn"), first

    run_named_queries(topology.direct, {"task-search": 200, "user-by-email": 20, "task-list": 20})
    slow = top_queries(topology.direct, "top_query_mean_warn_ms=0")  # every statement is "slow"
    by_name = {q["name"]: q for q in slow["details"]["queries"] if q["name"]}
    assert {"task-search", "user-by-email", "task-list"} <= set(by_name), slow["details"]["queries"]
    search = by_name["task-search"]
    assert search["calls"] == 200 and search["explain"] == "todoctl explain task-search"
    assert 0 < search["share_ratio"] <= 1 and search["query"].startswith("SELECT tasks.id")
    assert slow["status"] == "warn" and "todoctl explain task-search" in slow["hint"]
    # Statements that are not the app's have no name (the Picker's, the seed's).
    assert any(q["name"] is None for q in slow["details"]["queries"])

    run_named_queries(topology.direct, {"task-search": 200})
    calm = top_queries(topology.direct)
    assert calm["status"] == "ok", calm
    top = calm["details"]["queries"][0]
    if top["name"]:  # the costliest statement is the app's: the value and hint say which
        named_part = calm["value"].split(": ", 1)[1]
        assert named_part.startswith(f"{top['name']}: ") and "% of total time, " in named_part
        assert calm["hint"] == f"todoctl explain {top['name']}"
    assert invoke("-d", topology.direct, "explain", "task-search").exit_code == 0  # the hint works


# ---------------------------------------------------------------- replication: a real streaming standby


def _lsn(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def wait_replayed(standby, lsn: str, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby.superuser, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"the standby did not replay up to {lsn}")


def write(topology, rows: int = 20000) -> str:
    """About 2 MB of WAL on the primary; returns its position after."""
    with psycopg.connect(topology.superuser.replace("/postgres?", "/app?"), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS replication_probe (g int, pad text)")
        conn.execute(f"INSERT INTO replication_probe SELECT g, repeat('x', 100) FROM generate_series(1, {rows}) g")
    return _lsn(topology.superuser)


def replication(url: str, *thresholds: str, replica: str | None = None, code: int = 0):
    args = ["-d", url, "health", "-c", "replication", "--json"]
    for threshold in thresholds:
        args += ["-t", threshold]
    result = invoke(*args, env={"DATABASE_URL_REPLICA": replica} if replica else None)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)["checks"][0]


def test_replication_lag_of_a_real_standby(topology, standby):
    with psycopg.connect(topology.superuser, autocommit=True) as conn:
        conn.execute("GRANT pg_monitor TO app")  # the standbys' positions are for pg_monitor only
    wait_replayed(standby, write(topology, rows=100))

    # Caught up: the primary sees its standby streaming through its slot, the replica is not behind.
    ok = replication(topology.direct, replica=standby.url)
    assert ok["status"] == "ok", ok
    assert [s["state"] for s in ok["details"]["standbys"]] == ["streaming"]
    assert {s["slot"]: s["active"] for s in ok["details"]["slots"]} == {standby.slot: True}
    replica = ok["details"]["replica"]
    assert replica["in_recovery"] is True and replica["replay_paused"] is False and replica["source"] == "DATABASE_URL_REPLICA"
    on_standby = replication(standby.url)  # the URL itself a standby: its own replay against what it received
    assert on_standby["status"] == "ok" and on_standby["details"]["role"] == "standby"

    # Replay paused, the primary writes on: the replica falls behind, in bytes and in time.
    with psycopg.connect(standby.superuser, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        behind_lsn = write(topology)
        warn = replication(topology.direct, "replication_lag_warn_mb=1", replica=standby.url)
        assert warn["status"] == "warn", warn
        replica = warn["details"]["replica"]
        assert replica["behind_bytes"] > 1024 * 1024 and replica["replay_paused"] is True
        assert replica["lag_ms"] is not None and replica["lag_ms"] >= 0  # JSON speaks milliseconds
        assert "replay paused" in warn["value"] and "pg_wal_replay_resume()" in warn["hint"]
        failed = replication(topology.direct, "replication_lag_fail_s=0", replica=standby.url, code=1)
        assert failed["status"] == "fail" and f"replica 127.0.0.1:{standby.port}/app" in failed["value"]
        by_bytes = replication(topology.direct, "replication_lag_warn_mb=0", "replication_lag_fail_mb=1",
                               replica=standby.url, code=1)
        assert by_bytes["status"] == "fail", by_bytes
    finally:
        with psycopg.connect(standby.superuser, autocommit=True) as conn:  # the hint's fix
            conn.execute("SELECT pg_wal_replay_resume()")
    wait_replayed(standby, behind_lsn)
    assert replication(topology.direct, "replication_lag_warn_mb=1", replica=standby.url)["status"] == "ok"

    # The standby stopped, the primary writes on: the replica is down, its slot holds the WAL it missed.
    topo.stop_server(standby)
    try:
        write(topology)
        down = replication(topology.direct, "replication_slot_warn_mb=1", replica=standby.url, code=1)
        assert down["status"] == "fail" and "connection refused" in down["details"]["replica"]["error"]
        assert down["details"]["standbys"] == []
        slot = next(s for s in down["details"]["slots"] if s["slot"] == standby.slot)
        assert slot["active"] is False and slot["retained_bytes"] > 1024 * 1024
        assert f"inactive slot {standby.slot} holds" in down["value"]
        without_replica = replication(topology.direct, "replication_slot_warn_mb=1")
        assert without_replica["status"] == "warn" and "pg_drop_replication_slot" in without_replica["hint"]
    finally:
        topo.start_server(standby)
    wait_replayed(standby, _lsn(topology.superuser))
    assert replication(topology.direct, replica=standby.url)["status"] == "ok"

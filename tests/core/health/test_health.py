"""Health checks on a real server: each non-ok state is produced for real, then detected."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.helpers import libpq
from todoctl.core import health, migrate
from todoctl.core.health.connection import (
    connect_status,
    endpoint_status,
    latency_status,
    ssl_status,
    version_status,
)
from todoctl.core.health.indexes import find_duplicates
from todoctl.core.health import pool as app_pool
from todoctl.core.health.pool import probe
from todoctl.core.health.registry import Status, percentile
from todoctl.core.health.thresholds import Thresholds
from todoctl.db.url import DatabaseURL, normalise
from todoctl.errors import ExitCode, TodoctlError

BCRYPT = "$2b$12$" + "a" * 53



def run(url: DatabaseURL, *checks: str, **limits) -> health.HealthReport:
    return health.run(url, checks=list(checks), thresholds=Thresholds(**limits))


def wait_until(predicate, *, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def session_state(pg, url: DatabaseURL, pid: int) -> str | None:
    rows = pg.execute(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}", database=url.database)
    return rows[0][0] if rows else None


def add_users(pg, url: DatabaseURL, count: int, name: str = "same") -> None:
    pg.execute(
        "INSERT INTO users (email, name, password_hash) "
        f"SELECT 'u' || g || '@example.com', '{name}', '{BCRYPT}' FROM generate_series(1, {count}) g",
        database=url.database,
    )


# ---------------------------------------------------------------- a healthy database


def test_fresh_migrated_database_is_healthy(migrated_db):
    report = health.run(migrated_db)
    assert [c.name for c in report.checks] == list(health.CHECK_NAMES)
    by_name = {c.name: c for c in report.checks}
    assert not [c for c in report.checks if c.status is Status.FAIL], [(c.name, c.value) for c in report.checks]
    assert report.ok is True
    for name in (
        "version",
        "migrations",
        "connections",
        "invalid-indexes",
        "duplicate-indexes",
        "wraparound",
        "endpoint",
    ):
        assert by_name[name].status is Status.OK, (name, by_name[name].value)
    assert by_name["ssl"].status is Status.SKIP  # a Unix socket: local, SSL not needed
    assert by_name["endpoint"].value == "direct" and report.endpoint == "direct"
    assert by_name["latency"].details["pings"] == 10
    assert by_name["connect"].details["first_ms"] > 0 and by_name["connect"].details["again_ms"] > 0
    assert by_name["migrations"].details["current"] == by_name["migrations"].details["heads"]
    # The Todo app's engine (todoctl.todo.db:engine_for_url) with its defaults: DB_POOL_MIN 5, DB_POOL_MAX 20.
    assert report.pool.probe is None and report.pool.settings.pool_max == 20 and report.pool.settings.pool_size == 5
    assert report.pool.engine == "todoctl.todo.db:engine_for_url"
    assert report.pool.session.statement_timeout == "30s"  # DB_QUERY_TIMEOUT, as a session through it gets it


def test_selected_checks_only_and_in_display_order(migrated_db):
    report = run(migrated_db, "wraparound", "version")
    assert [c.name for c in report.checks] == ["version", "wraparound"]


def test_unknown_check_is_a_usage_error():
    with pytest.raises(TodoctlError) as raised:
        health.selected(["version", "nope"])
    assert raised.value.exit_code is ExitCode.USAGE
    assert "nope" in raised.value.message and "migrations" in raised.value.hint


def test_pg_stat_statements_missing_is_skipped_not_failed(migrated_db):
    report = run(migrated_db, "top-queries")
    check = report.get("top-queries")
    assert check.status is Status.SKIP
    assert report.ok is True


# ---------------------------------------------------------------- migrations


def test_database_behind_head_fails(migrated_db):
    head = migrate.history()[-1].revision
    migrate.downgrade(migrated_db, "-1")
    report = run(migrated_db, "migrations")
    check = report.get("migrations")
    assert check.status is Status.FAIL
    assert check.details["pending"] == [head]
    assert "1 pending" in check.value
    assert report.ok is False


def test_unknown_revision_fails(pg, migrated_db):
    pg.execute("UPDATE alembic_version SET version_num = 'ffff'", database=migrated_db.database)
    check = run(migrated_db, "migrations").get("migrations")
    assert check.status is Status.FAIL
    assert check.details["unknown"] == ["ffff"]


# ---------------------------------------------------------------- sessions


@contextmanager
def idle_in_transaction(url: DatabaseURL):
    with psycopg.connect(libpq(url)) as held:
        held.execute("SELECT count(*) FROM users")  # opens a transaction and leaves it open
        yield held.info.backend_pid
        held.rollback()


def test_idle_in_transaction_session_warns_then_fails(pg, migrated_db):
    with idle_in_transaction(migrated_db) as pid:
        wait_until(lambda: session_state(pg, migrated_db, pid) == "idle in transaction", what="idle in transaction")
        time.sleep(0.2)
        warned = run(
            migrated_db, "idle-in-transaction", idle_in_transaction_warn_s=0.05, idle_in_transaction_fail_s=3600
        )
        failed = run(migrated_db, "idle-in-transaction", idle_in_transaction_warn_s=0, idle_in_transaction_fail_s=0.05)
        calm = run(migrated_db, "idle-in-transaction")  # default: warn after 30 s
    check = warned.get("idle-in-transaction")
    assert check.status is Status.WARN
    assert [s["pid"] for s in check.details["sessions"]] == [pid]
    assert check.hint and "idle_in_transaction_session_timeout" in check.hint
    assert failed.get("idle-in-transaction").status is Status.FAIL and failed.ok is False
    assert calm.get("idle-in-transaction").status is Status.OK


def test_long_running_query_is_reported(pg, migrated_db):
    held = psycopg.connect(libpq(migrated_db), autocommit=True)
    pid = held.info.backend_pid
    worker = threading.Thread(target=lambda: _sleep_until_cancelled(held), daemon=True)
    worker.start()
    try:
        wait_until(lambda: session_state(pg, migrated_db, pid) == "active", what="the query to start")
        time.sleep(0.2)
        report = run(migrated_db, "long-queries", long_query_warn_s=0.05, long_query_fail_s=3600)
    finally:
        pg.execute(f"SELECT pg_cancel_backend({pid})", database=migrated_db.database)
        worker.join(15)
        held.close()
    check = report.get("long-queries")
    assert check.status is Status.WARN
    assert pid in [s["pid"] for s in check.details["sessions"]]
    assert "pg_sleep" in check.details["sessions"][0]["query"]


def _sleep_until_cancelled(conn) -> None:
    try:
        conn.execute("SELECT pg_sleep(60)")
    except psycopg.errors.QueryCanceled:
        pass


def test_connections_are_counted_by_state(migrated_db):
    with idle_in_transaction(migrated_db):
        check = run(migrated_db, "connections").get("connections")
    assert check.status is Status.OK
    assert check.details["by_state"].get("idle in transaction", 0) >= 1
    assert check.details["used"] >= 2 and check.details["max_connections"] > 0


def test_many_real_connections_fail_with_the_pooling_advice(pg, migrated_db):
    limit = int(pg.execute("SHOW max_connections")[0][0])
    # Real sessions past a limit of 10% of max_connections (the default limits would need ~95 of them).
    held = [psycopg.connect(libpq(migrated_db), autocommit=True) for _ in range(limit // 10 + 2)]
    try:
        report = run(migrated_db, "connections", connections_warn_pct=5, connections_fail_pct=10)
    finally:
        for conn in held:
            conn.close()
    check = report.get("connections")
    assert check.status is Status.FAIL and report.ok is False
    assert check.details["used"] >= len(held) and check.details["ratio"] > 0.1
    assert "pooled endpoint" in check.hint and "pool_size" in check.hint


# ---------------------------------------------------------------- indexes


def test_duplicate_index_is_a_warning(pg, migrated_db):
    pg.execute("CREATE INDEX ix_tasks_list_id_again ON tasks (list_id)", database=migrated_db.database)
    report = run(migrated_db, "duplicate-indexes")
    check = report.get("duplicate-indexes")
    assert check.status is Status.WARN
    assert [(d["index"], d["covered_by"]) for d in check.details["indexes"]] == [
        ("ix_tasks_list_id_again", "ix_tasks_list_due")
    ]
    assert report.ok is True  # a warning does not fail...
    strict = health.run(migrated_db, checks=["duplicate-indexes"], strict=True)
    assert strict.ok is False  # ...unless strict


def test_prefix_duplicate_and_unique_rules():
    from todoctl.core.catalog.details import IndexDetail

    def ix(name, indkey, *, unique=False, method="btree", table="tasks"):
        columns = tuple(f"c{k}" for k in indkey.split())
        return IndexDetail(
            table=table,
            name=name,
            definition=f"CREATE INDEX {name} ON {table} USING {method} ({', '.join(columns)})",
            method=method,
            primary=False,
            unique=unique,
            valid=True,
            columns=columns,
            include=(),
            predicate=None,
            expressions=None,
            key_options=("",) * len(columns),
            constraint=None,
            size_bytes=8192,
            size="8192 bytes",
            scans=0,
        )

    found = find_duplicates(
        [ix("a", "2"), ix("ab", "2 3"), ix("u_b", "3", unique=True), ix("b", "3"), ix("gin_a", "2", method="gin")]
    )
    assert {(d["index"], d["covered_by"]) for d in found} == {("a", "ab"), ("b", "u_b")}
    # Two identical plain indexes: one is reported, not both.
    assert [d["index"] for d in find_duplicates([ix("x1", "2"), ix("x2", "2")])] == ["x2"]
    # A leading prefix only: (3) is not covered by (2, 3).
    assert find_duplicates([ix("c", "3"), ix("bc", "2 3")]) == []


def test_invalid_index_left_by_failed_concurrent_unique_index_fails(pg, migrated_db):
    add_users(pg, migrated_db, 2, name="twin")
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_users_name ON users (name)", database=migrated_db.database)
    report = run(migrated_db, "invalid-indexes")
    check = report.get("invalid-indexes")
    assert check.status is Status.FAIL
    assert check.details["indexes"] == [{"schema": "public", "table": "users", "index": "uq_users_name"}]
    assert "DROP INDEX CONCURRENTLY" in check.hint
    assert report.ok is False


def test_unused_indexes_are_judged_only_on_tables_in_use(pg, migrated_db):
    calm = run(migrated_db, "unused-indexes").get("unused-indexes")
    assert calm.status is Status.OK and "none judged" in calm.value
    # Real use of the tasks table: 1,200 lookups by primary key, none of which needs ix_tasks_list_due.
    pg.execute(
        "DO $$ BEGIN FOR i IN 1..1200 LOOP "
        "PERFORM 1 FROM tasks WHERE id = gen_random_uuid(); END LOOP; END $$",
        database=migrated_db.database,
    )

    def tasks_scans():
        rows = pg.execute(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'tasks'",
            database=migrated_db.database,
        )
        return rows[0][0] >= 1000

    wait_until(tasks_scans, what="the scans in the statistics")
    used = run(migrated_db, "unused-indexes").get("unused-indexes")
    assert used.status is Status.WARN
    names = {u["index"] for u in used.details["indexes"]}
    assert "ix_tasks_list_due" in names
    assert {u["table"] for u in used.details["indexes"]} == {"tasks"}  # only the table in use is judged
    assert not any(n.startswith(("pk_", "uq_")) for n in names)  # unique indexes enforce rules: never "unused"
    assert "drop the index" in used.hint


# ---------------------------------------------------------------- vacuum and statistics


def test_dead_tuples_fail_when_vacuum_cannot_keep_up(pg, migrated_db):
    db = migrated_db.database
    pg.execute("ALTER TABLE users SET (autovacuum_enabled = false)", database=db)
    add_users(pg, migrated_db, 1500)
    pg.execute("DELETE FROM users", database=db)

    def dead_counted():
        rows = pg.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'users'", database=db)
        return rows and rows[0][0] >= 1500

    wait_until(dead_counted, what="the statistics to count the dead rows")
    check = run(migrated_db, "dead-tuples").get("dead-tuples")
    assert check.status is Status.FAIL
    assert check.value.startswith("worst users: 100% dead")
    assert "never vacuumed" in check.value
    assert "VACUUM" in check.hint
    users = next(t for t in check.details["tables"] if t["table"] == "users")
    assert users["dead"] >= 1500 and users["last_vacuum"] is None


def test_wraparound_is_judged_on_the_real_transaction_id_age(pg, migrated_db):
    calm = run(migrated_db, "wraparound").get("wraparound")
    assert calm.status is Status.OK and calm.details["age"] > 0
    # No test can burn a billion transaction IDs: a limit below the real, measured age stands in for it.
    oldest = pg.execute("SELECT max(age(datfrozenxid)) FROM pg_database")[0][0]
    check = run(migrated_db, "wraparound", wraparound_warn_age=oldest // 2, wraparound_fail_age=10**9).get(
        "wraparound"
    )
    assert check.status is Status.WARN and check.details["age"] >= oldest
    assert "VACUUM (FREEZE)" in check.hint


def test_health_queries_are_read_only_and_time_limited(migrated_db):
    from sqlalchemy.exc import DBAPIError

    from todoctl.core.health.registry import Context, query
    from todoctl.db.engine import connection

    with connection(migrated_db) as conn:
        ctx = Context(migrated_db, conn, Thresholds(statement_timeout_ms=200), [1.0], [], False)
        with pytest.raises(DBAPIError, match="read-only transaction"):
            query(ctx, "CREATE TABLE health_must_not_write (id int)")
        with pytest.raises(DBAPIError, match="statement timeout"):
            query(ctx, "SELECT pg_sleep(5)")
        assert query(ctx, "SELECT 1")[0][0] == 1  # the connection is usable afterwards


# ---------------------------------------------------------------- connection


def test_refused_port_is_exit_3(monkeypatch):
    url = normalise("postgresql://health:s3cret-pw@127.0.0.1:1/nothing", source="test")
    with pytest.raises(TodoctlError) as raised:
        health.run(url)
    assert raised.value.exit_code is ExitCode.CONNECTION
    assert "refused" in raised.value.message and "s3cret-pw" not in raised.value.message


def test_silent_server_is_exit_3_within_the_connect_timeout(monkeypatch):
    # A listener that never answers: the client waits for the server, and must give up on time.
    monkeypatch.setenv("TODOCTL_CONNECT_TIMEOUT", "2")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        url = normalise(f"postgresql://health@127.0.0.1:{port}/nothing", source="test")
        started = time.monotonic()
        with pytest.raises(TodoctlError) as raised:
            health.run(url)
        elapsed = time.monotonic() - started
    assert raised.value.exit_code is ExitCode.CONNECTION
    assert "timed out" in raised.value.message
    assert elapsed < 3 * 2  # generous: bounded by the timeout, not a hang


# ---------------------------------------------------------------- pure rules


def test_ssl_rule_local_and_remote():
    assert ssl_status(is_local=True, ssl_in_use=False).status is Status.SKIP
    assert ssl_status(is_local=False, ssl_in_use=True, protocol="TLSv1.3").status is Status.OK
    remote = ssl_status(is_local=False, ssl_in_use=False)
    assert remote.status is Status.FAIL and "sslmode=require" in remote.hint
    assert normalise("postgresql://u@ep-cool-1.eu-central-1.aws.neon.tech/db", source="t").is_local is False


def test_version_rule():
    assert version_status(130015).status is Status.FAIL
    assert version_status(140012).status is Status.OK and version_status(140012).value == "PostgreSQL 14.12"
    assert version_status(180004).status is Status.OK
    assert version_status(190000).status is Status.WARN


def test_endpoint_rule():
    pooled = endpoint_status(normalise("postgresql://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db", source="t"))
    direct = endpoint_status(normalise("postgresql://u:p@ep-cool-1.eu-central-1.aws.neon.tech/db", source="t"))
    assert (pooled.status, pooled.details["pooled"]) == (Status.OK, True)
    assert direct.value == "direct" and direct.details["pooled"] is False


def test_connect_and_latency_rules():
    t = Thresholds()
    cold = connect_status([2400.0, 40.0], t)
    assert cold.status is Status.WARN and cold.details["cold_start"] is True and "cold start" in cold.hint
    assert connect_status([6000.0, 5800.0], t).status is Status.FAIL
    assert connect_status([12.0, 4.0], t).status is Status.OK
    latency = latency_status([1.0, 2.0, 3.0, 4.0, 200.0], t)
    assert latency.status is Status.WARN and latency.details["p50_ms"] == 3.0 and latency.details["max_ms"] == 200.0
    assert latency_status([], t).status is Status.SKIP
    assert percentile([5, 1, 3], 50) == 3 and percentile([1] * 19 + [9], 95) == 1 and percentile([], 95) == 0


def test_thresholds_from_environment_and_overrides(monkeypatch):
    monkeypatch.setenv("TODOCTL_HEALTH_LONG_QUERY_WARN_S", "12")
    monkeypatch.setenv("TODOCTL_HEALTH_PINGS", "3")
    limits = Thresholds.from_env({"long_query_fail_s": "99"})
    assert (limits.long_query_warn_s, limits.long_query_fail_s, limits.pings) == (12.0, 99.0, 3)
    assert Thresholds.from_env({"long_query_warn_s": "1"}).long_query_warn_s == 1.0  # the option beats the environment
    for bad in ({"nope": "1"}, {"pings": "many"}, {"pings": "-1"}):
        with pytest.raises(TodoctlError) as raised:
            Thresholds.from_env(bad)
        assert raised.value.exit_code is ExitCode.USAGE


# ---------------------------------------------------------------- the app's pool


def todo_pool(monkeypatch, url: DatabaseURL, **variables: str):
    """The Todo app's engine on ``url``, built from its variables (DB_POOL_MIN=...), as health loads it."""
    from todoctl import project

    for name in ("DB_POOL_MIN", "DB_POOL_MAX", "DB_POOL_TIMEOUT", "DB_POOL_RECYCLE", "DB_QUERY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    app, _ = app_pool.load(project.current(), url)
    return app


def test_the_pool_is_the_apps_engine_and_its_variables(monkeypatch, migrated_db):
    defaults = todo_pool(monkeypatch, migrated_db).facts
    assert (defaults.pool_size, defaults.pool_max, defaults.pool_timeout, defaults.pool_recycle) == (5, 20, 30.0, 3600)
    assert defaults.pre_ping and defaults.connect_timeout == 10 and defaults.timeout("statement_timeout") == "30000"
    custom = todo_pool(monkeypatch, migrated_db, DB_POOL_MIN="2").facts
    assert (custom.pool_size, custom.max_overflow) == (2, 18)
    with pytest.raises(TodoctlError) as raised:
        todo_pool(monkeypatch, migrated_db, DB_POOL_RECYCLE="soon")
    assert raised.value.exit_code is ExitCode.USAGE and "DB_POOL_RECYCLE" in raised.value.message


def test_probe_beyond_pool_capacity_waits(monkeypatch, migrated_db):
    app = todo_pool(monkeypatch, migrated_db, DB_POOL_MIN="2", DB_POOL_MAX="3", DB_POOL_TIMEOUT="30")
    result = probe(migrated_db, 8, app, hold=0.5)
    assert (result.sessions, result.timeouts, result.errors) == (8, 0, 0)
    assert result.peak_checked_out == 3 and result.overflow_used == 1 and result.connections_opened == 3
    # 5 of the 8 sessions cannot have a connection until another has held one for 0.5 s.
    assert result.wait_p50_ms >= 250 and result.wait_max_ms >= result.wait_p95_ms >= result.wait_p50_ms


def test_probe_with_too_short_a_pool_timeout_times_out(monkeypatch, migrated_db):
    todo_pool(monkeypatch, migrated_db, DB_POOL_MIN="1", DB_POOL_MAX="1", DB_POOL_TIMEOUT="0.2")
    report = health.run(migrated_db, checks=["version"], probe=3, probe_hold=2.0)
    result = report.pool.probe
    assert result.peak_checked_out == 1 and result.overflow_used == 0
    assert result.timeouts >= 1 and result.errors == 0
    check = report.get("pool-probe")
    assert check.status is Status.FAIL and "pool_timeout" in check.hint
    assert report.ok is False


@pytest.mark.parametrize("sessions", [-1, 1001, 100_000])
def test_probe_size_is_bounded_before_anything_connects(sessions):
    unreachable = normalise("postgresql://u:pw@127.0.0.1:1/db", source="t")
    with pytest.raises(TodoctlError) as raised:
        health.run(unreachable, checks=["version"], probe=sessions)
    assert raised.value.exit_code is ExitCode.USAGE and "1 to 1000" in raised.value.message


def test_probe_hold_beyond_the_query_timeout_is_a_usage_error(monkeypatch, migrated_db):
    app = todo_pool(monkeypatch, migrated_db, DB_QUERY_TIMEOUT="1")
    with pytest.raises(TodoctlError) as raised:
        probe(migrated_db, 2, app, hold=1.5)
    assert raised.value.exit_code is ExitCode.USAGE and "statement_timeout the app's engine sets" in raised.value.message


def test_probe_sessions_that_cannot_start_are_reported_not_a_crash(migrated_db):
    # A real thread limit: the probe runs in a child process whose address space is capped, so that
    # only some of its threads can get a stack.
    import subprocess
    import sys

    code = f"""
import os, resource, sys, threading
os.environ.update(DB_POOL_MIN="1", DB_POOL_MAX="2")
from todoctl import project
from todoctl.core.health.pool import load, probe
from todoctl.db.url import normalise
url = normalise({migrated_db.url!r}, source="test")
app, _ = load(project.current(), url)
probe(url, 2, app, hold=0)  # every import done, the engine warmed
threading.stack_size(64 * 1024 * 1024)
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 256 * 1024 * 1024, resource.RLIM_INFINITY))
result = probe(url, 200, app, hold=0)
print(result.errors, result.first_error, sep="|")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    errors, first_error = done.stdout.strip().split("|", 1)
    assert 0 < int(errors) < 200 and "probe sessions could start" in first_error
    assert "Exception in thread" not in done.stderr


# ---------------------------------------------------------------- a read-only monitoring role


@contextmanager
def monitoring_role(pg, url: DatabaseURL, *, monitor: bool = True):
    role, password = f"ro_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    db = url.database
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        if monitor:
            pg.execute(f"GRANT pg_monitor TO {role}")
        pg.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {role}')
        pg.execute(f"GRANT USAGE ON SCHEMA public TO {role}", database=db)
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}", database=db)
        parts = urlsplit(url.url)
        host = parts.netloc.rpartition("@")[2]
        yield DatabaseURL(urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}")), "test")
    finally:
        pg.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        pg.execute(f"DROP OWNED BY {role}", database=db)
        pg.execute(f"DROP ROLE {role}")


def test_health_works_under_a_read_only_role(pg, migrated_db):
    with monitoring_role(pg, migrated_db) as readonly, idle_in_transaction(migrated_db) as pid:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with psycopg.connect(libpq(readonly)) as conn:
                conn.execute(f"INSERT INTO users (email, password_hash) VALUES ('x@example.com', '{BCRYPT}')")
        wait_until(lambda: session_state(pg, migrated_db, pid) == "idle in transaction", what="idle in transaction")
        report = health.run(
            readonly, thresholds=Thresholds(idle_in_transaction_warn_s=0, idle_in_transaction_fail_s=3600)
        )
    failures = [
        (c.name, c.value) for c in report.checks if c.status is Status.FAIL or c.value.startswith("could not check")
    ]
    assert failures == []
    assert report.get("migrations").status is Status.OK
    # pg_monitor lets the role see other users' sessions: the admin's idle transaction is found.
    assert pid in [s["pid"] for s in report.get("idle-in-transaction").details["sessions"]]


def test_without_pg_monitor_other_sessions_are_hidden_but_nothing_breaks(pg, migrated_db):
    with monitoring_role(pg, migrated_db, monitor=False) as readonly, idle_in_transaction(migrated_db) as pid:
        # The admin's session must really be there (and in its transaction) before health looks.
        wait_until(lambda: session_state(pg, migrated_db, pid) == "idle in transaction", what="idle in transaction")
        report = health.run(readonly, checks=["connections", "idle-in-transaction", "migrations"])
    assert [c.status for c in report.checks] == [Status.OK, Status.OK, Status.OK]
    assert "hidden" in report.get("connections").details["by_state"]
    assert "pg_monitor" in report.get("connections").hint


def test_a_role_without_select_gets_a_warning_with_a_hint_not_a_crash(pg, migrated_db):
    role, password = f"bare_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        parts = urlsplit(migrated_db.url)
        host = parts.netloc.rpartition("@")[2]
        bare = DatabaseURL(urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}")), "test")
        report = health.run(bare, checks=["migrations", "version"])
    finally:
        pg.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        pg.execute(f"DROP ROLE {role}")
    check = report.get("migrations")
    assert check.status is Status.WARN
    assert check.value.startswith("could not check: ") and "permission denied" in check.value
    assert "GRANT" in check.hint
    assert report.get("version").status is Status.OK


def test_losing_the_connection_mid_run_is_exit_3(migrated_db, monkeypatch):
    from todoctl.core.health.registry import REGISTRY, CheckSpec, query

    def killed(ctx):
        query(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
        raise AssertionError("the backend should be gone")

    monkeypatch.setitem(REGISTRY, "version", CheckSpec("version", "terminates its own backend", killed))
    with pytest.raises(TodoctlError) as raised:
        health.run(migrated_db, checks=["version"])
    assert raised.value.exit_code is ExitCode.CONNECTION
    assert "lost the connection" in raised.value.message

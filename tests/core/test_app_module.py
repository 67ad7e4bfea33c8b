"""todoctl.app, the app's own database module, on a real server: settings, pool limits, recycle,
statement timeout, rollback, leaks, ping, and (topology tier) PgBouncer in transaction mode.

Settings come from explicit environ dicts; os.environ is never changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, func, select

import todoctl.todo.db as app_db
from tests.helpers import libpq
from tests.topology import PASSWORD
from todoctl.todo.db import (
    AppSettings,
    engine_from_settings,
    get_session,
    ping,
    session_scope,
    sslmode,
)
from todoctl.db.url import DatabaseURL, normalise
from todoctl.todo.models import User

BCRYPT = "$2b$12$" + "a" * 53


def settings_for(url: DatabaseURL, **variables: str) -> AppSettings:
    """The app's settings from an explicit environment, with a unique application_name to count sessions by."""
    return AppSettings.from_env({"DATABASE_URL": url.url, **variables}, application_name=f"app-{uuid.uuid4().hex[:8]}")



def sessions_named(url: DatabaseURL, application_name: str) -> int:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchone()
    return row[0]


def new_user(email: str) -> User:
    return User(email=email, password_hash=BCRYPT)


def count_users(url: DatabaseURL, email: str) -> int:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone()[0]


# ---------------------------------------------------------------------------- settings


def test_defaults_are_the_deployments_and_every_source_is_named():
    s = AppSettings.from_env({})
    assert (s.pool_min, s.pool_max, s.pool_recycle, s.pool_timeout) == (5, 20, 3600, 30.0)
    assert (s.connect_timeout, s.query_timeout, s.debug, s.max_overflow) == (10, 30, False, 15)
    assert s.url is None and set(s.sources.values()) == {"default"} and s.notes == ()
    custom = AppSettings.from_env(
        {"DB_POOL_MIN": "2", "DB_POOL_MAX": "4", "DB_POOL_RECYCLE": "60", "DEBUG": "Yes", "DB_QUERY_TIMEOUT": "0"}
    )
    assert (custom.pool_min, custom.pool_max, custom.max_overflow, custom.debug, custom.query_timeout) == (
        2, 4, 2, True, 0,
    )
    assert custom.sources["pool_min"] == "DB_POOL_MIN" and custom.sources["pool_timeout"] == "default"


def test_the_environment_wins_over_dot_env(tmp_path):
    (tmp_path / ".env").write_text("DB_POOL_MAX=7\nDB_POOL_MIN=3\nDATABASE_URL=postgres://u@localhost/fromdotenv\n")
    code = (
        "from todoctl.todo.db import AppSettings; s = AppSettings.from_env(); "
        "print(s.pool_min, s.pool_max, s.sources['pool_min'], s.sources['pool_max'], s.url.database, sep='|')"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={**env, "DB_POOL_MIN": "2"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2|7|DB_POOL_MIN|DB_POOL_MAX (.env)|fromdotenv"


def test_postgres_scheme_is_normalised_to_psycopg_3():
    s = AppSettings.from_env({"DATABASE_URL": "postgres://u:pw-Settings-1@localhost:5432/todo"})
    assert s.url.url.startswith("postgresql+psycopg://") and s.url.source == "DATABASE_URL"
    assert "pw-Settings-1" not in repr(s)


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"DB_POOL_MIN": "lots"}, "DB_POOL_MIN must be a whole number, not 'lots'"),
        ({"DB_POOL_MAX": "2.5"}, "DB_POOL_MAX must be a whole number, not '2.5'"),
        ({"DB_POOL_MIN": "0"}, "DB_POOL_MIN must be 1 or more, not '0'"),
        ({"DB_POOL_MIN": "8", "DB_POOL_MAX": "4"}, "DB_POOL_MIN (8) must not be greater than DB_POOL_MAX (4)"),
        ({"DB_POOL_RECYCLE": "-1"}, "DB_POOL_RECYCLE must be 1 or more, not '-1'"),
        ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT must be a number, not 'soon'"),
        ({"DB_POOL_TIMEOUT": "0"}, "DB_POOL_TIMEOUT must be more than 0, not '0'"),
        ({"DB_CONNECT_TIMEOUT": "0"}, "DB_CONNECT_TIMEOUT must be 1 or more, not '0'"),
        ({"DB_QUERY_TIMEOUT": "30s"}, "DB_QUERY_TIMEOUT must be a whole number, not '30s'"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL: unsupported database URL scheme 'mysql'"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL: malformed database URL"),
    ],
)
def test_a_bad_value_is_a_value_error_naming_the_variable_and_the_value(environ, named):
    with pytest.raises(ValueError) as raised:
        AppSettings.from_env(environ)
    assert named in str(raised.value)


def test_ssl_is_required_off_this_machine_and_disable_is_refused():
    def mode(raw: str) -> str | None:
        return sslmode(normalise(raw, source="DATABASE_URL"))

    remote = "postgresql://u:pw-Ssl-1@ep-x-123.eu-central-1.aws.neon.tech/db"
    assert mode(remote) == "require"
    assert mode(remote + "?sslmode=prefer") == "require"  # weaker than require: raised
    assert mode(remote + "?sslmode=verify-full") == "verify-full"  # stronger: kept
    assert mode("postgresql://u@localhost/db") is None  # local: libpq's default
    assert mode("postgresql://u@localhost/db?sslmode=disable") == "disable"
    with pytest.raises(ValueError) as raised:
        AppSettings.from_env({"DATABASE_URL": remote + "?sslmode=disable"})
    assert "sslmode=disable is refused" in str(raised.value) and "pw-Ssl-1" not in str(raised.value)


def test_retired_health_variables_are_noted_not_read():
    s = AppSettings.from_env({"DB_POOL_SIZE": "3", "DB_POOL_MAX_OVERFLOW": "lots"})
    assert s.pool_min == 5 and s.pool_max == 20
    assert [n.split()[0] for n in s.notes] == ["DB_POOL_SIZE", "DB_POOL_MAX_OVERFLOW"]


def test_ignored_variables_are_not_read():
    s = AppSettings.from_env({"DATABASE_URL": "nonsense", "DEBUG": "*", "DB_POOL_MAX": "7"}, ignore=("DATABASE_URL", "DEBUG"))
    assert (s.url, s.debug, s.pool_max) == (None, False, 7)


def test_engine_needs_a_url():
    with pytest.raises(ValueError, match="DATABASE_URL is not set"):
        engine_from_settings(AppSettings.from_env({}))


# ---------------------------------------------------------------------------- the pool on a real server


def test_max_sessions_at_once_succeed_one_more_times_out_and_all_are_released(migrated_db):
    settings = settings_for(migrated_db, DB_POOL_MIN="2", DB_POOL_MAX="3", DB_POOL_TIMEOUT="0.3")
    engine = engine_from_settings(settings)
    try:
        with ExitStack() as held:
            for _ in range(3):
                held.enter_context(session_scope(engine)).connection()  # check a connection out
            assert app_db.pool_stats(engine).checked_out == 3
            assert sessions_named(migrated_db, settings.application_name) == 3
            with pytest.raises(PoolTimeout) as raised:
                with session_scope(engine) as extra:
                    extra.connection()
            assert "limit of size 2 overflow 1 reached" in str(raised.value)
        stats = app_db.pool_stats(engine)
        # Released: nothing checked out; the overflow connection closed, DB_POOL_MIN kept open.
        assert (stats.checked_out, stats.checked_in, stats.max) == (0, 2, 3)
        assert sessions_named(migrated_db, settings.application_name) == 2
        with session_scope(engine) as again:
            assert again.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


def test_a_connection_older_than_recycle_is_replaced(migrated_db):
    engine = engine_from_settings(settings_for(migrated_db, DB_POOL_MIN="1", DB_POOL_MAX="1", DB_POOL_RECYCLE="1"))
    steady = engine_from_settings(settings_for(migrated_db, DB_POOL_MIN="1", DB_POOL_MAX="1"))
    try:
        pids = []
        for _ in range(2):
            with session_scope(engine) as s, session_scope(steady) as t:
                pids.append((s.scalar(text("SELECT pg_backend_pid()")), t.scalar(text("SELECT pg_backend_pid()"))))
            time.sleep(1.3)
        (recycled_1, steady_1), (recycled_2, steady_2) = pids
        assert recycled_1 != recycled_2  # older than DB_POOL_RECYCLE=1: a new backend
        assert steady_1 == steady_2  # the default 3600 s: the same backend
    finally:
        engine.dispose()
        steady.dispose()


def test_a_query_longer_than_the_query_timeout_is_cancelled_and_the_session_stays_usable(migrated_db):
    engine = engine_from_settings(settings_for(migrated_db, DB_QUERY_TIMEOUT="1", DB_POOL_MAX="1", DB_POOL_MIN="1"))
    try:
        with session_scope(engine) as session:
            assert session.scalar(text("SHOW statement_timeout")) == "1s"
            with pytest.raises(OperationalError) as raised:
                session.scalar(text("SELECT pg_sleep(3)"))
            assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)
            session.rollback()
            assert session.scalar(text("SELECT 2")) == 2  # same session, same pooled connection
        with pytest.raises(OperationalError):
            with session_scope(engine) as session:
                session.scalar(text("SELECT pg_sleep(3)"))
        with session_scope(engine) as session:
            assert session.scalar(text("SELECT 3")) == 3
    finally:
        engine.dispose()


def test_the_timeout_keeps_the_options_already_in_the_url(migrated_db):
    url = normalise(migrated_db.url + "&options=-c%20work_mem%3D7MB", source="DATABASE_URL")
    settings = replace(settings_for(migrated_db, DB_QUERY_TIMEOUT="5"), url=url)
    engine = engine_from_settings(settings)
    try:
        with session_scope(engine) as session:
            assert session.scalar(text("SHOW work_mem")) == "7MB"
            assert session.scalar(text("SHOW statement_timeout")) == "5s"
    finally:
        engine.dispose()


@pytest.mark.parametrize("exception", [ValueError("boom"), KeyboardInterrupt()])
def test_an_exception_rolls_back_the_session(migrated_db, exception):
    engine = engine_from_settings(settings_for(migrated_db))
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    try:
        with pytest.raises(type(exception)):
            with session_scope(engine) as session:
                session.add(new_user(email))
                session.flush()  # the row is in the database, inside the transaction
                assert session.scalar(select(func.count()).where(User.email == email)) == 1
                raise exception
        assert count_users(migrated_db, email) == 0
        assert app_db.pool_stats(engine).checked_out == 0
        with session_scope(engine) as session:
            session.add(new_user(email))
        assert count_users(migrated_db, email) == 1  # success commits
    finally:
        engine.dispose()


def test_no_connection_leaks_after_1000_session_scopes(migrated_db):
    settings = settings_for(migrated_db, DB_POOL_MIN="2", DB_POOL_MAX="4", DB_POOL_TIMEOUT="5")
    engine = engine_from_settings(settings)
    failures = 0

    def work(n: int) -> None:
        nonlocal failures
        for i in range(n):
            try:
                with session_scope(engine) as session:
                    session.scalar(text("SELECT 1"))
                    if i % 10 == 0:
                        raise LookupError("an error in every tenth request")
            except LookupError:
                failures += 1

    try:
        threads = [threading.Thread(target=work, args=(250,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == 100
        stats = app_db.pool_stats(engine)
        assert stats.checked_out == 0 and stats.checked_in <= settings.pool_max
        assert 1 <= sessions_named(migrated_db, settings.application_name) <= settings.pool_max
    finally:
        engine.dispose()
    assert sessions_named(migrated_db, settings.application_name) == 0


def test_get_session_driven_the_way_fastapi_drives_a_yield_dependency(migrated_db, monkeypatch):
    engine = engine_from_settings(settings_for(migrated_db))
    monkeypatch.setattr(app_db, "_engine", engine)  # the module's lazily built engine, here this test's
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    try:
        # A request that commits: FastAPI calls next(), runs the endpoint, then finishes the generator.
        dependency = get_session()
        session = next(dependency)
        assert isinstance(session, Session)
        session.add(new_user(email))
        session.commit()
        with pytest.raises(StopIteration):
            next(dependency)
        # A request whose endpoint raises: FastAPI throws the exception into the generator.
        dependency = get_session()
        session = next(dependency)
        session.add(new_user("other-" + email))
        session.flush()
        with pytest.raises(RuntimeError):
            dependency.throw(RuntimeError("endpoint failed"))
        assert count_users(migrated_db, email) == 1 and count_users(migrated_db, "other-" + email) == 0
        assert app_db.pool_stats(engine).checked_out == 0
    finally:
        engine.dispose()


def test_the_default_engine_is_built_on_first_use_not_at_import():
    code = (
        "import todoctl.todo.db as a, sys; assert a._engine is None; "
        "assert 'fastapi' not in sys.modules and 'typer' not in sys.modules and 'rich' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_todoctl_help_does_not_import_the_app_module():
    from tests.cli.test_startup import imported_modules

    for args in (("--help",), ("health", "--help")):
        assert "todoctl.todo.db" not in imported_modules(*args)


def test_ping_reports_the_server_and_the_pool(migrated_db):
    engine = engine_from_settings(settings_for(migrated_db, DB_POOL_MIN="2", DB_POOL_MAX="6"))
    try:
        result = ping(engine)
        assert result.status == "ok" and result.error is None and result.latency_ms > 0
        assert isinstance(result.server_time, datetime) and result.server_version
        assert (result.pool.size, result.pool.checked_out, result.pool.checked_in, result.pool.max) == (2, 0, 1, 6)
        body = result.as_dict()
        assert body["status"] == "ok" and isinstance(body["server_time"], str) and body["pool"]["max"] == 6
    finally:
        engine.dispose()


def test_ping_of_a_down_database_is_a_masked_fail_not_an_exception():
    secret = "pw-Ping-Down-4471"
    settings = AppSettings.from_env(
        {"DATABASE_URL": f"postgresql://app:{secret}@127.0.0.1:1/todo", "DB_CONNECT_TIMEOUT": "2"}
    )
    engine = engine_from_settings(settings)
    try:
        result = ping(engine)
    finally:
        engine.dispose()
    assert result.status == "fail" and result.server_time is None and result.error
    assert secret not in repr(result) and result.pool.checked_out == 0


# ---------------------------------------------------------------------------- through PgBouncer


def topology_settings(raw_url: str, **variables: str) -> AppSettings:
    return AppSettings.from_env({"DATABASE_URL": raw_url, **variables}, application_name=f"app-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def topology_db(topology):
    """The topology's `app` database with the migrated schema (idempotent across tests)."""
    from todoctl.core import migrate

    migrate.upgrade(normalise(topology.direct, source="test"), "head")
    return topology


@pytest.mark.topology
def test_through_pgbouncer_the_timeout_holds_in_every_transaction_and_leaks_nowhere(topology_db):
    settings = topology_settings(topology_db.pooled, DB_QUERY_TIMEOUT="1", DB_POOL_MIN="1", DB_POOL_MAX="2")
    assert settings.url.is_pooled
    engine = engine_from_settings(settings)
    try:
        for _ in range(8):  # more than psycopg's prepare_threshold (5): prepared statements must be off
            with session_scope(engine) as session:
                assert session.scalar(text("SHOW statement_timeout")) == "1s"
                last_backend = session.scalar(text("SELECT pg_backend_pid()"))
        with pytest.raises(OperationalError) as raised:
            with session_scope(engine) as session:
                session.scalar(text("SELECT pg_sleep(3)"))
        assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)
        with session_scope(engine) as session:
            assert session.scalar(text("SELECT 1")) == 1  # usable afterwards
            last_backend = session.scalar(text("SELECT pg_backend_pid()"))
        # Another client of the pooler, on the server connection the app used last, sees the default:
        # the app's timeout was SET LOCAL, not SET, so it did not stay behind on the shared connection.
        with psycopg.connect(topology_db.pooled, prepare_threshold=None, autocommit=True) as other:
            backend, timeout = other.execute("SELECT pg_backend_pid(), current_setting('statement_timeout')").fetchone()
        assert backend == last_backend and timeout == "0"
        assert ping(engine).status == "ok"
    finally:
        engine.dispose()


@pytest.mark.topology
def test_a_pooler_that_drops_startup_options_is_detected(topology_db):
    # PgBouncer without "-pooler" in its host name: the startup options are dropped silently
    # (ignore_startup_parameters); the engine notices and sets the timeout per transaction.
    unnamed = topology_db.pooled.replace("ep-topology-pooler.local", "127.0.0.1").replace("&hostaddr=127.0.0.1", "")
    settings = topology_settings(unnamed, DB_QUERY_TIMEOUT="1", DB_POOL_MIN="1", DB_POOL_MAX="1")
    assert not settings.url.is_pooled
    engine = engine_from_settings(settings)
    try:
        with pytest.raises(OperationalError) as raised:
            with session_scope(engine) as session:
                session.scalar(text("SELECT pg_sleep(3)"))
        assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)
    finally:
        engine.dispose()


@pytest.mark.topology
def test_a_remote_host_without_sslmode_connects_with_ssl(topology_db):
    # A host name that is not this machine's (resolved by hostaddr) and no sslmode in the URL.
    remote = topology_db.direct.replace("127.0.0.1", "db-topology.local").replace(
        "?sslmode=require", "?hostaddr=127.0.0.1"
    )
    engine = engine_from_settings(topology_settings(remote))
    try:
        with session_scope(engine) as session:
            assert session.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) is True
        assert PASSWORD not in repr(ping(engine))
    finally:
        engine.dispose()

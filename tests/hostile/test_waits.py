"""Hostile class "waits": every wait has a bound, and a wait is told apart from a failure.

README promises: `explain` (its parameter picks, its EXPLAIN, its catalog reads) runs under the
statement's own timeouts; a lock wait is exit 5 naming the session that holds the lock, never a
statement timeout (exit 1) and never an unbounded wait. `--lock-wait` is held to the same range
as TODOCTL_LOCK_WAIT. An index another live session is building is "being built by pid N" in
`migrate status`, left alone by `migrate up`, not a failure in `health`. A server restart during
`migrate up` says the connection was lost (exit 3) and that `migrate up` resumes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import REPO, copy_migrations, libpq, revision_source, start_todoctl, wait_for
from tests.hostile.conftest_statements import as_role
from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.queries import QUERIES

runner = CliRunner()
HEAD = migrate.history()[-1].revision
BUSY = 5


def invoke(url, *args: str, env: dict | None = None):
    return runner.invoke(app, ["-d", url.url, *args], env=env)


class Holder:
    """Another session holding a lock in an open transaction until released."""

    def __init__(self, url, *statements: str) -> None:
        self.conn = psycopg.connect(libpq(url), application_name="hostile-holder")
        for statement in statements:
            self.conn.execute(statement)
        self.pid = self.conn.info.backend_pid

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


@pytest.fixture
def seeded(seeded_db):
    return seeded_db("small")


def assert_busy_naming(result, pid: int, says: str) -> None:
    assert result.exit_code == BUSY, result.output
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert says in error and f"pid {pid}" in error, result.stderr
    assert "Hint: " in result.stderr and "Traceback" not in result.output


# ---------------------------------------------------------------- explain under a held lock

@pytest.mark.parametrize("name", sorted(QUERIES), ids=sorted(QUERIES))
def test_parameter_picks_wait_only_as_long_as_the_statement_may(seeded, name):
    """Issue 26: picking defaults waited out any lock on the table (19 s, 25 s under ACCESS
    EXCLUSIVE). Now a pick that waits is exit 5 naming the holder, after half of --timeout."""
    holder = Holder(seeded, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
    try:
        result = invoke(seeded, "explain", name, "--timeout", "1s")
    finally:
        holder.release()
    # Whichever waits first (a pick that reads the table, or the EXPLAIN itself) says so.
    says = "picking parameters" if "picking parameters" in result.stderr else f"query {name!r}"
    assert_busy_naming(result, holder.pid, says)
    if any(p.name == "user_id" and p.pick for p in QUERIES[name].params):
        assert "picking parameters" in result.stderr  # the heaviest user is read from tasks


def test_a_lock_wait_inside_explain_is_busy_not_a_timeout(pg, seeded):
    """With every parameter given there is no pick: the EXPLAIN itself waits, and says so."""
    user = pg.execute("SELECT user_id FROM tasks LIMIT 1", database=seeded.database)[0][0]
    holder = Holder(seeded, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
    try:
        result = invoke(seeded, "explain", "task-list", "--param", f"user_id={user}", "--param", "status=pending",
                        "--timeout", "1s")
    finally:
        holder.release()
    assert_busy_naming(result, holder.pid, "query 'task-list'")


@pytest.mark.parametrize("args", [(), ("--no-analyze",)], ids=["analyze", "no-analyze"])
def test_explain_sql_under_a_held_lock_is_busy(seeded, args):
    holder = Holder(seeded, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
    try:
        result = invoke(seeded, "explain", "sql", "SELECT count(*) FROM tasks", "--timeout", "1s", *args)
    finally:
        holder.release()
    assert_busy_naming(result, holder.pid, "the statement")


def test_a_row_lock_under_explain_analyze_is_busy(pg, seeded):
    user, task = pg.execute("SELECT user_id, id FROM tasks LIMIT 1", database=seeded.database)[0]
    holder = Holder(seeded, f"SELECT 1 FROM tasks WHERE id = '{task}' FOR UPDATE")
    try:
        result = invoke(seeded, "explain", "complete-task", "--param", f"user_id={user}", "--param", f"task_id={task}",
                        "--timeout", "1s")
    finally:
        holder.release()
    assert_busy_naming(result, holder.pid, "query 'complete-task'")


@pytest.mark.parametrize("command", [("explain", "check"), ("explain", "baseline", "save", "{tmp}/plans.json")],
                         ids=["check", "baseline-save"])
def test_the_plan_gates_under_a_held_lock_are_busy(seeded, tmp_path, command):
    holder = Holder(seeded, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
    try:
        result = invoke(seeded, *[c.replace("{tmp}", str(tmp_path)) for c in command], "--timeout", "1s", "--runs", "1")
    finally:
        holder.release()
    assert_busy_naming(result, holder.pid, "waited longer than")


def test_a_slow_statement_is_still_a_statement_timeout(seeded):
    result = invoke(seeded, "explain", "sql", "SELECT pg_sleep(5)", "--timeout", "300ms")
    assert result.exit_code == 1, result.output
    assert "statement timeout" in result.stderr


def test_every_explain_transaction_bounds_its_waits(migrated_db):
    """read only, statement_timeout, lock_timeout (half), idle_in_transaction_session_timeout."""
    from todoctl.core.explain.transaction import begin

    with psycopg.connect(libpq(migrated_db)) as conn, conn.cursor() as cur:
        begin(cur, "2s", read_only=True)
        cur.execute(
            "SELECT current_setting('transaction_read_only'), current_setting('default_transaction_read_only'), "
            "current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('idle_in_transaction_session_timeout')"
        )
        assert cur.fetchone() == ("on", "on", "2s", "1s", "10s")
        conn.rollback()
        cur.execute("SELECT current_setting('lock_timeout'), current_setting('default_transaction_read_only')")
        assert cur.fetchone() == ("0", "off")  # LOCAL: nothing outlives the transaction


# ---------------------------------------------------------------- --lock-wait: one range

@pytest.mark.parametrize("value", ["86401", "1e999", "nan", "inf", "-1", "abc", "", "1e5"],
                         ids=["over-a-day", "1e999", "nan", "inf", "negative", "abc", "empty", "1e5"])
def test_lock_wait_option_is_range_checked_like_the_variable(migrated_db, value):
    by_option = invoke(migrated_db, "migrate", "up", "--lock-wait", value)
    assert by_option.exit_code == 2, by_option.output
    assert "--lock-wait" in by_option.stderr and "Traceback" not in by_option.output
    by_variable = invoke(migrated_db, "migrate", "up", env={"TODOCTL_LOCK_WAIT": value})
    assert by_variable.exit_code == 2, by_variable.output
    assert "TODOCTL_LOCK_WAIT" in by_variable.stderr


@pytest.mark.parametrize("value", ["0", "86400", "0.5"])
def test_lock_wait_in_range_is_accepted(migrated_db, value):
    assert invoke(migrated_db, "migrate", "up", "--lock-wait", value).exit_code == 0


# ---------------------------------------------------------------- an index being built

class Build:
    """CREATE INDEX CONCURRENTLY in another session, held in its wait for an older snapshot."""

    def __init__(self, url, index: str = "ix_hostile_building") -> None:
        self.blocker = psycopg.connect(libpq(url))
        self.blocker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        self.blocker.execute("SELECT count(*) FROM users")
        self.builder = psycopg.connect(libpq(url), autocommit=True, application_name="hostile-builder")
        self.pid = self.builder.info.backend_pid
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._build, args=(index,))
        self.thread.start()
        probe = psycopg.connect(libpq(url), autocommit=True)
        try:
            assert wait_for(lambda: probe.execute(
                "SELECT count(*) FROM pg_stat_progress_create_index WHERE pid = %s AND phase LIKE 'waiting%%'",
                (self.pid,)).fetchone()[0] == 1, 30)
        finally:
            probe.close()

    def _build(self, index: str) -> None:
        try:
            self.builder.execute(f"CREATE INDEX CONCURRENTLY {index} ON tasks (title)")
        except BaseException as exc:  # noqa: BLE001  (reported by finish)
            self.error = exc

    def finish(self) -> None:
        self.blocker.rollback()
        self.blocker.close()
        self.thread.join(60)
        self.builder.close()
        assert self.error is None, self.error


def _role(pg, url) -> tuple[str, object]:
    name = f"watcher_{threading.get_ident() % 10**6}"
    pg.execute(f"CREATE ROLE {name} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}", database=url.database)
    return name, as_role(url, name)


@pytest.mark.parametrize("who", ["superuser", "role-without-read-all-stats"])
def test_an_index_being_built_is_not_a_failed_build(pg, migrated_db, who):
    role = None
    url = migrated_db
    if who != "superuser":
        role, url = _role(pg, migrated_db)
    build = Build(migrated_db)
    try:
        status = invoke(url, "migrate", "status", "--json")
        assert status.exit_code == 0, status.output
        assert json.loads(status.stdout)["invalid_indexes"] == [
            {"table": "tasks", "index": "ix_hostile_building", "repair": None, "building_pid": build.pid}
        ]
        text = invoke(url, "migrate", "status")
        assert f"being built by pid {build.pid}" in text.stdout
        health = invoke(url, "health", "--check", "invalid-indexes", "--json")
        check = json.loads(health.stdout)["checks"][0]
        assert check["status"] == "ok", check
        assert f"being built by pid {build.pid}" in check["value"]
        assert check["details"]["building"][0]["pid"] == build.pid
        if who == "superuser":  # `migrate up` needs to own the tables
            dry = invoke(url, "migrate", "up", "--dry-run", "--json")
            assert json.loads(dry.stdout)["repairs"] == []
            up = invoke(url, "migrate", "up", "--lock-timeout", "1s")
            assert up.exit_code == 0, up.output
            assert "Repaired" not in up.stdout
    finally:
        build.finish()
        if role:
            pg.execute(f"DROP OWNED BY {role}", database=migrated_db.database)
            pg.execute(f"DROP ROLE {role}")
    # The build finished on its own, valid: `migrate up` did not drop it from under its builder.
    assert pg.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_hostile_building'::regclass",
                      database=migrated_db.database) == [(True,)]


def test_a_failed_build_is_still_a_failure(pg, migrated_db):
    writer = Holder(migrated_db, "LOCK TABLE tasks IN ROW EXCLUSIVE MODE")  # the build waits for it...
    try:
        with psycopg.connect(libpq(migrated_db), autocommit=True) as other:
            other.execute("SET statement_timeout = '300ms'")  # ...and is cancelled: its index stays INVALID
            with pytest.raises(psycopg.errors.QueryCanceled):
                other.execute("CREATE INDEX CONCURRENTLY ix_hostile_failed ON tasks (title, description)")
    finally:
        writer.release()
    status = json.loads(invoke(migrated_db, "migrate", "status", "--json").stdout)
    assert status["invalid_indexes"] == [{"table": "tasks", "index": "ix_hostile_failed", "repair": "drop", "building_pid": None}]
    health = json.loads(invoke(migrated_db, "health", "--check", "invalid-indexes", "--json").stdout)
    assert health["checks"][0]["status"] == "fail"
    assert invoke(migrated_db, "migrate", "up").exit_code == 0
    assert pg.execute("SELECT count(*) FROM pg_class WHERE relname = 'ix_hostile_failed'", database=migrated_db.database) == [(0,)]


# ---------------------------------------------------------------- the server restarts during migrate up

@pytest.fixture
def own_server(tmp_path_factory):
    """A server of this test's own, since it is restarted (the session's is shared)."""
    from todoctl.db import embedded

    pgdata = tmp_path_factory.mktemp("restart") / "pgdata"
    server = embedded.start(pgdata)
    try:
        yield pgdata, server
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)


def test_a_server_restart_during_migrate_up_says_the_connection_was_lost(own_server, tmp_path):
    from todoctl.db import embedded

    pgdata, server = own_server
    url = server.url("todo")
    slow = revision_source("0009", HEAD, "op.execute('SELECT pg_sleep(60)')")
    migrations = copy_migrations(tmp_path, {"0009_slow.py": slow})
    up_to_head = subprocess.run([sys.executable, "-m", "todoctl", "-d", url, "migrate", "up", HEAD, "--migrations",
                                 str(migrations)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert up_to_head.returncode == 0, up_to_head.stderr

    process = start_todoctl("-d", url, "migrate", "up", "--migrations", str(migrations))

    def sleeping() -> bool:
        try:
            with psycopg.connect(server.libpq_url("todo"), autocommit=True) as probe:
                return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"
                                     ).fetchone()[0] == 1
        except psycopg.Error:
            return False

    try:
        assert wait_for(sleeping, 120)
        embedded.stop(pgdata)
        embedded.start(pgdata)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, stderr
    assert "lost the connection to the server during upgrade to 0009" in stderr
    assert f"the database is at {HEAD}" in stderr
    assert "run `todoctl migrate up` again: it resumes" in stderr
    assert "Traceback" not in stderr
    # It resumes: the slow revision made quick, `migrate up` finishes from where the database stands.
    (Path(migrations) / "versions" / "0009_slow.py").write_text(revision_source("0009", HEAD, "op.execute('SELECT 1')"))
    resumed = subprocess.run([sys.executable, "-m", "todoctl", "-d", url, "migrate", "up", "--migrations", str(migrations)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with psycopg.connect(server.libpq_url("todo")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0009",)

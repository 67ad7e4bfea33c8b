"""`todoctl health` through the CLI: exit code first, then output."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import unfolded
from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.core.health.report import CHECK_NAMES

runner = CliRunner()
TODOCTL = str(Path(sys.executable).with_name("todoctl"))  # the installed entry point
SECRET = "pw-Health-5521"


def health(url, *args: str, env: dict | None = None):
    # A wide console, so that table cells do not wrap in the middle of the names asserted on.
    return runner.invoke(app, ["-d", url.url, "health", *args], env={"COLUMNS": "200", **(env or {})})


@contextmanager
def idle_in_transaction(url):
    with psycopg.connect(url.url.replace("postgresql+psycopg", "postgresql")) as held:
        held.execute("SELECT 1")
        yield held.info.backend_pid
        held.rollback()


def test_help():
    result = runner.invoke(app, ["health", "--help"])
    assert result.exit_code == 0
    for option in ("--check", "--strict", "--threshold", "--probe", "--watch", "--json"):
        assert option in result.stdout


def test_healthy_database_exits_0_with_a_table(migrated_db):
    result = health(migrated_db, "-c", "version", "-c", "migrations", "-c", "invalid-indexes", "-c", "ssl")
    assert result.exit_code == 0, result.output
    assert "Health of" in result.stdout and "healthy" in result.stdout
    for name in ("version", "migrations", "invalid-indexes", "ssl"):
        assert name in result.stdout
    assert "App pool (todoctl.todo.db:engine_for_url)" in result.stdout and "pool_size" in result.stdout


def test_json_document_has_every_check(migrated_db):
    result = health(migrated_db, "--json")
    assert result.exit_code in (0, 1), result.output  # load on a shared machine may slow latency past a limit
    document = json.loads(result.stdout)
    assert list(document)[:6] == ["schema_version", "command", "ok", "status", "target_database", "endpoint"]
    assert [c["name"] for c in document["checks"]] == list(CHECK_NAMES)
    assert set(document["checks"][0]) == {"name", "status", "value", "threshold", "hint", "details"}
    assert document["summary"]["fail"] == sum(c["status"] == "fail" for c in document["checks"])
    assert document["pool"]["settings"]["pool_max"] == 20 and document["pool"]["probe"] is None
    assert "url" not in document["pool"]["settings"]  # never a URL (it may hold a password)
    assert document["pool"]["engine"] == "todoctl.todo.db:engine_for_url" and document["pool"]["skipped"] is None
    assert document["thresholds"]["idle_in_transaction_warn_ms"] == 30_000  # JSON speaks ms; --threshold keeps its name
    assert {c["name"]: c["status"] for c in document["checks"]}["migrations"] == "ok"


def test_behind_head_exits_1(migrated_db):
    migrate.downgrade(migrated_db, "-1")
    result = health(migrated_db, "-c", "migrations", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["checks"][0]["status"] == "fail" and document["checks"][0]["details"]["pending"] == [
        migrate.history()[-1].revision
    ]
    text = health(migrated_db, "-c", "migrations")
    assert text.exit_code == 1
    assert "unhealthy" in text.stdout and "1 pending" in text.stdout


def test_strict_makes_a_warning_fail(pg, migrated_db):
    pg.execute("CREATE INDEX ix_tasks_list_id_copy ON tasks (list_id)", database=migrated_db.database)
    relaxed = health(migrated_db, "-c", "duplicate-indexes")
    assert relaxed.exit_code == 0, relaxed.output
    assert "ix_tasks_list_id_copy" in relaxed.stdout
    strict = health(migrated_db, "-c", "duplicate-indexes", "--strict", "--json")
    assert strict.exit_code == 1
    document = json.loads(strict.stdout)
    assert document["strict"] is True and document["checks"][0]["status"] == "warn"


def test_idle_in_transaction_threshold_by_option_and_environment(pg, migrated_db):
    with idle_in_transaction(migrated_db) as pid:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            rows = pg.execute(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}", database=migrated_db.database)
            if rows and rows[0][0] == "idle in transaction":
                break
            time.sleep(0.05)
        time.sleep(0.2)
        by_option = health(
            migrated_db,
            "-c",
            "idle-in-transaction",
            "-t",
            "idle_in_transaction_warn_s=0",
            "-t",
            "idle-in-transaction-fail-s=0.05",
            "--json",
        )
        by_env = health(
            migrated_db,
            "-c",
            "idle-in-transaction",
            "--json",
            env={
                "TODOCTL_HEALTH_IDLE_IN_TRANSACTION_WARN_S": "0.05",
                "TODOCTL_HEALTH_IDLE_IN_TRANSACTION_FAIL_S": "3600",
            },
        )
    assert by_option.exit_code == 1
    check = json.loads(by_option.stdout)["checks"][0]
    assert check["status"] == "fail" and [s["pid"] for s in check["details"]["sessions"]] == [pid]
    assert by_env.exit_code == 0
    assert json.loads(by_env.stdout)["checks"][0]["status"] == "warn"


def test_probe_through_the_cli_uses_the_apps_pool_variables(migrated_db):
    env = {"DB_POOL_MIN": "1", "DB_POOL_MAX": "2", "DB_POOL_TIMEOUT": "0.1"}
    result = health(migrated_db, "-c", "version", "--probe", "4", "--probe-hold", "1.5", "--json", env=env)
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["pool"]["settings"]["pool_size"] == 1 and document["pool"]["settings"]["max_overflow"] == 1
    probe = document["pool"]["probe"]
    assert probe["peak_checked_out"] == 2 and probe["overflow_used"] == 1 and probe["timeouts"] >= 1
    assert document["checks"][-1]["name"] == "pool-probe" and document["checks"][-1]["status"] == "fail"
    text = health(migrated_db, "-c", "version", "--probe", "3", env={"DB_POOL_MIN": "1", "DB_POOL_MAX": "1"})
    assert text.exit_code == 0, text.output
    assert "checked-out peak" in text.stdout and "acquisition wait p95" in text.stdout


def test_the_apps_debug_variable_neither_fails_health_nor_echoes_sql_into_json(migrated_db):
    for debug in ("*", "true"):  # DEBUG=* is how Node's debug module is switched on
        result = health(migrated_db, "-c", "version", "--probe", "2", "--json", env={"DEBUG": debug})
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["pool"]["probe"]["errors"] == 0


def test_usage_errors_exit_2(migrated_db):
    unknown = health(migrated_db, "--check", "nope", "--json")
    assert unknown.exit_code == 2
    assert json.loads(unknown.stdout)["error"]["kind"] == "usage"
    bad_threshold = health(migrated_db, "-t", "pings")
    assert bad_threshold.exit_code == 2 and "NAME=VALUE" in bad_threshold.stderr
    assert health(migrated_db, "-t", "nope=1").exit_code == 2
    assert health(migrated_db, "--watch", "1", "--json").exit_code == 2
    for variable, value in (
        ("DB_POOL_MIN", "lots"),
        ("DB_POOL_MAX", "x"),
        ("DB_POOL_RECYCLE", "soon"),
        ("DB_POOL_TIMEOUT", "never"),
        ("DB_QUERY_TIMEOUT", "30s"),
    ):
        bad_pool = health(migrated_db, "-c", "version", env={variable: value})
        assert bad_pool.exit_code == 2, (variable, bad_pool.output)
        lines = unfolded(bad_pool.stderr)  # the message folded at words to COLUMNS, one line again
        # The app's engine function refused the variable: named, with the app's file and line.
        assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint:")
        assert f"{variable} must be" in lines[0] and "engine_for_url" in lines[0] and "db.py line" in lines[0]
    too_big = health(migrated_db, "-c", "version", "--probe", "100000")
    assert too_big.exit_code == 2 and "--probe" in too_big.stderr and "Hint:" in too_big.stderr
    assert "unexpected" not in too_big.stderr


def test_unreachable_server_exits_3_quickly_and_masks_the_password():
    url = f"postgresql://health:{SECRET}@127.0.0.1:1/nothing"
    result = runner.invoke(app, ["-d", url, "health"])
    assert result.exit_code == 3
    assert "connection refused" in result.stderr and SECRET not in result.output
    as_json = runner.invoke(app, ["-d", url, "health", "--json"])
    assert as_json.exit_code == 3
    document = json.loads(as_json.stdout)
    assert document["ok"] is False and document["error"]["kind"] == "connection"
    assert SECRET not in as_json.stdout


def test_read_only_role_through_the_cli(pg, migrated_db):
    role, password = "ro_cli_health", "ro-pass-1"
    db = migrated_db.database
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE pg_monitor")
    try:
        pg.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {role}')
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}", database=db)
        url = migrated_db.url.replace("postgres@", f"{role}:{password}@", 1)
        result = runner.invoke(
            app, ["-d", url, "health", "--json", "-t", "latency_fail_ms=60000", "-t", "connect_fail_ms=60000"]
        )
    finally:
        pg.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        pg.execute(f"DROP OWNED BY {role}", database=db)
        pg.execute(f"DROP ROLE {role}")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert not [c for c in document["checks"] if c["value"].startswith("could not check")]


# ---------------------------------------------------------------- --watch, as a real process


def _read_until(fd: int, done, timeout: float) -> bytes:
    """Read from ``fd`` until ``done(bytes_so_far)`` or the timeout (bounded: never hangs)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not done(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _interrupt(proc: subprocess.Popen, output: int) -> tuple[int, bytes]:
    """Ctrl-C, then keep reading ``output`` (a full terminal would block the exit) until the process ends."""
    proc.send_signal(signal.SIGINT)
    tail = _read_until(output, lambda seen: proc.poll() is not None, timeout=30)
    try:
        return proc.wait(timeout=5), tail
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError("todoctl health --watch did not stop on Ctrl-C") from None


def test_watch_on_a_terminal_refreshes_until_ctrl_c_then_exits_130(migrated_db):
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "140", "LINES": "60"}
    proc = subprocess.Popen(
        [TODOCTL, "-d", migrated_db.url, "health", "--watch", "0.3", "-c", "version", "-c", "connections"],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        # Two frames: the view is drawn, then redrawn in place.
        shown = _read_until(controller, lambda seen: seen.count(b"refreshing every") >= 2, timeout=60)
        code, tail = _interrupt(proc, controller)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    errors = proc.stderr.read().decode()
    assert code == 130, errors
    assert shown.count(b"refreshing every") >= 2 and b"Health of" in shown
    assert b"\x1b[?25l" in shown  # Rich Live hid the cursor: a live view, not printed reports
    assert "Error" not in errors  # Ctrl-C is how a watch ends, not an error


def test_watch_in_a_pipe_prints_each_report_and_exits_130(migrated_db):
    proc = subprocess.Popen(
        [TODOCTL, "-d", migrated_db.url, "health", "--watch", "0.2", "-c", "version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        shown = _read_until(proc.stdout.fileno(), lambda seen: seen.count(b"Health of") >= 2, timeout=60)
        code, _ = _interrupt(proc, proc.stdout.fileno())
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130
    assert shown.count(b"Health of") >= 2  # no cursor tricks in a pipe: one report after another
    assert b"\x1b[" not in shown


# ---------------------------------------------------------------- bad values


REFUSED = "postgresql://health@127.0.0.1:1/nothing"  # never reached: bad values are refused first


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("-t", "pings=many"), {}, "pings must be a whole number, not 'many' (from --threshold)"),
        (("-t", "pings=1.5"), {}, "pings must be a whole number"),
        ((), {"TODOCTL_HEALTH_LONG_QUERY_WARN_S": "soon"}, "(from TODOCTL_HEALTH_LONG_QUERY_WARN_S)"),
        ((), {"TODOCTL_HEALTH_PINGS": "0x10"}, "pings must be a whole number"),
        ((), {"TODOCTL_HEALTH_CACHE_HIT_FAIL_PCT": "-5"}, "cache_hit_fail_pct must be 0 to 100"),
        (("-t", "cache_hit_warn_pct=101"), {}, "cache_hit_warn_pct must be 0 to 100"),
        (("-t", "latency_warn_ms=nan"), {}, "latency_warn_ms must be a number"),
        (("-t", "latency_warn_ms=inf"), {}, "latency_warn_ms must be a number"),
        (("-t", "connect_warn_ms=-1"), {}, "connect_warn_ms must be 0 or more"),
        (("-t", "statement_timeout_ms=0"), {}, "statement_timeout_ms must be 1 to"),
        (("--pings", "0"), {}, "pings must be 1 to 1000, not '0' (from --pings)"),
        (("--pings", "1001"), {}, "pings must be 1 to 1000"),
        (("--pings", "many"), {}, "pings must be a whole number"),
        (("--sample", "-1"), {}, "--sample must be 0 to 3600 seconds"),
        (("-t", "pings"), {}, "--threshold takes NAME=VALUE"),
    ],
)
def test_bad_values_exit_2_with_one_error_and_one_hint(args, env, message):
    result = runner.invoke(app, ["-d", REFUSED, "health", *args], env={"COLUMNS": "200", **env})
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert lines[1].startswith("Hint: ")
    assert result.stdout == ""


def test_bad_value_in_json_mode_is_a_json_error_with_its_hint():
    result = runner.invoke(app, ["-d", REFUSED, "health", "--json", "--pings", "5000"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and "1 to 1000" in error["message"] and error["hint"] == "e.g. --pings 10"


def test_pings_at_the_bounds_are_accepted(migrated_db):
    for pings in ("1", "1000"):
        result = health(migrated_db, "-c", "latency", "--pings", pings, "--json")
        assert result.exit_code in (0, 1), result.output  # a busy machine may slow the pings past a limit
        assert json.loads(result.stdout)["checks"][0]["details"]["pings"] == int(pings)

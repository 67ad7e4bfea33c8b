"""`todoctl seed` through the CLI: exit codes first, then output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()
APP_TABLES = ("users", "task_lists", "tags", "tasks", "task_tags")


def seed(url, *args: str):
    return runner.invoke(app, ["-d", url.url, "seed", *args])


def user_count(pg, url) -> int:
    return pg.execute("SELECT count(*) FROM users", database=url.database)[0][0]


def test_seed_prints_a_summary_with_the_fingerprint(pg, migrated_db):
    result = seed(migrated_db, "--users", "12", "--profile", "small")
    assert result.exit_code == 0, result.output
    for table in APP_TABLES:
        assert table in result.stdout
    assert "fingerprint " in result.stdout
    assert "profile small, seed 42" in result.stdout
    assert user_count(pg, migrated_db) == 12


def test_seed_json(pg, migrated_db):
    from todoctl.core.seed.job import fingerprint

    result = seed(migrated_db, "--profile", "small", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["seed"] == 3 and document["profile"] == "small" and document["dry_run"] is False
    assert [t["table"] for t in document["tables"]] == list(APP_TABLES)
    assert {"rows", "duration_ms", "rows_per_second"} <= set(document["tables"][0])
    assert document["fingerprint"] == fingerprint(migrated_db)


def test_no_progress_bars_without_a_terminal(migrated_db):
    result = seed(migrated_db, "--profile", "small")
    assert result.exit_code == 0
    assert result.stderr.startswith("target: ") and len(result.stderr.splitlines()) == 1  # no progress bars


def test_filled_tables_are_refused_with_exit_4(pg, migrated_db):
    assert seed(migrated_db, "--profile", "small").exit_code == 0
    result = seed(migrated_db, "--profile", "small")
    assert result.exit_code == 4
    assert "already hold rows" in result.stderr and "--append" in result.stderr
    assert user_count(pg, migrated_db) == 10


def test_refusal_in_json(migrated_db):
    assert seed(migrated_db, "--profile", "small").exit_code == 0
    result = seed(migrated_db, "--profile", "small", "--json")
    assert result.exit_code == 4
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["error"]["kind"] == "refused"


def test_append_and_truncate(pg, migrated_db):
    assert seed(migrated_db, "--profile", "small").exit_code == 0
    assert seed(migrated_db, "--profile", "small", "--append").exit_code == 0
    assert user_count(pg, migrated_db) == 20
    assert seed(migrated_db, "--profile", "small", "--users", "3", "--truncate").exit_code == 0
    assert user_count(pg, migrated_db) == 3


def test_same_seed_same_fingerprint_through_the_cli(pg, migrated_db, migrated_template):
    other_name = pg.create_database(template=migrated_template)
    try:
        other = pg.url_for(other_name)
        a = json.loads(seed(migrated_db, "--profile", "small", "--seed", "9", "--json").stdout)
        b = json.loads(seed(other, "--profile", "small", "--seed", "9", "--json").stdout)
        c = json.loads(seed(other, "--profile", "small", "--seed", "10", "--truncate", "--json").stdout)
    finally:
        pg.drop_database(other_name)
    assert a["fingerprint"] == b["fingerprint"] != c["fingerprint"]


def test_dry_run_writes_nothing(pg, migrated_db):
    result = seed(migrated_db, "--profile", "load", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.stdout and "1,000,000" in result.stdout
    assert user_count(pg, migrated_db) == 0


def test_bad_input_exits_2_and_touches_nothing(pg, migrated_db, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("reference_time = [\n")
    for args in (
        ["--users", "-5"],
        ["--users", "abc"],
        ["--users", "99999999999"],
        ["--rows", "tasks=-1"],
        ["--rows", "nosuchtable=3"],
        ["--locale", "xx_XX"],
        ["--profile", "nope"],
        ["--profile", str(broken)],
        ["--append", "--truncate"],
        ["--now", "last tuesday"],
    ):
        result = seed(migrated_db, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Error:" in result.stderr
    assert user_count(pg, migrated_db) == 0


def test_unmigrated_database_exits_1_with_a_hint(empty_db):
    result = seed(empty_db, "--profile", "small")
    assert result.exit_code == 1
    assert "todoctl migrate up" in result.stderr


def test_database_behind_head_exits_1_and_is_not_seeded(pg, migrated_db):
    from todoctl.core import migrate

    migrate.downgrade(migrated_db, "-1")  # the app tables are all still there, one revision short
    result = seed(migrated_db, "--profile", "small")
    assert result.exit_code == 1, result.output
    assert "needs the schema at head" in result.stderr
    assert "Hint: run `todoctl migrate up`" in result.stderr
    assert user_count(pg, migrated_db) == 0
    as_json = seed(migrated_db, "--profile", "small", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["details"]["pending"]


def test_seed_help():
    result = runner.invoke(app, ["seed", "--help"])
    assert result.exit_code == 0
    for option in ("--users", "--rows", "--locale", "--seed", "--profile", "--append", "--truncate", "--dry-run", "--json"):
        assert option in result.stdout


def test_ctrl_c_exits_130_and_rolls_back(pg, migrated_db):
    """A real SIGINT to a real `todoctl seed` process while it is copying rows."""
    command = [sys.executable, "-m", "todoctl", "-d", migrated_db.url, "seed", "--profile", "load", "--users", "20000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            copying = pg.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoctl seed' "
                f"AND datname = '{migrated_db.database}' AND query LIKE 'COPY \"tasks\"%'"
            )[0][0]
            if copying:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the seed finished before it could be interrupted"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr.decode()
    assert "interrupted" in stderr.decode()
    for table in APP_TABLES:
        assert pg.execute(f"SELECT count(*) FROM {table}", database=migrated_db.database)[0][0] == 0


def test_protected_database_exits_4(pg, migrated_db, monkeypatch):
    assert runner.invoke(app, ["-d", migrated_db.url, "db", "protect", "--reason", "prod"]).exit_code == 0
    result = seed(migrated_db, "--profile", "small", "--truncate")
    assert result.exit_code == 4
    assert "protected" in result.stderr and "TODOCTL_ALLOW_PRODUCTION" in result.stderr
    assert user_count(pg, migrated_db) == 0
    monkeypatch.setenv("TODOCTL_ALLOW_PRODUCTION", "1")
    assert seed(migrated_db, "--profile", "small", "--yes").exit_code == 0
    assert user_count(pg, migrated_db) == 10

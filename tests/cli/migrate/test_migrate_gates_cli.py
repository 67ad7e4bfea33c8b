"""The CI gates through the CLI: check, sql, lint, verify; bad states; passwords never shown."""

from __future__ import annotations

import pytest

import json

from typer.testing import CliRunner

from tests.helpers import copy_migrations, revision_source
from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
ALL = [r.revision for r in migrate.history()]
HEAD = ALL[-1]
SENTINEL = "Pw-Sentinel-4412"


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


def test_check_passes_at_head_and_explains_drift_in_words(pg, migrated_db):
    ok = invoke("-d", migrated_db.url, "migrate", "check")
    assert ok.exit_code == 0, ok.output
    assert "matches the models" in ok.stdout

    pg.execute(
        "DROP INDEX ix_tasks_list_due; ALTER TABLE users ADD COLUMN nickname text; "
        "ALTER TABLE tags ALTER COLUMN name DROP NOT NULL",
        database=migrated_db.database,
    )
    drift = invoke("-d", migrated_db.url, "migrate", "check", "--json")
    assert drift.exit_code == 1
    document = json.loads(drift.stdout)
    # Blamed like `schema diff --against history` does (tests/cli/test_drift_cli.py).
    assert {d["category"] for d in document["differences"]} == {"changed_by_hand"}
    messages = [d["message"] for d in document["differences"]]
    assert "index ix_tasks_list_due on tasks is in the migration history but not in the live database" in messages
    assert "column users.nickname is in the live database but not in the migration history" in messages
    assert "column tags.name is nullable in the live database but NOT NULL in the migration history" in messages


def test_check_fails_on_pending_revisions(migrated_db):
    migrate.downgrade(migrated_db, "-1")
    result = invoke("-d", migrated_db.url, "migrate", "check", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [r["revision"] for r in document["pending"]] == [HEAD] and document["ok"] is False
    assert [(d["category"], d["name"]) for d in document["differences"]] == [("behind_history", HEAD)]


def test_sql_needs_no_database_for_an_explicit_range_and_includes_timeouts():
    result = invoke("-d", "postgresql://u:p@127.0.0.1:1/none", "migrate", "sql", "base:head")
    assert result.exit_code == 0, result.output
    sql = result.stdout
    assert sql.index("SET lock_timeout = '5s'") < sql.index("CREATE TABLE users")
    assert "SET statement_timeout = '10min'" in sql
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tasks_search" in sql


def test_sql_defaults_to_what_is_pending(migrated_db):
    migrate.downgrade(migrated_db, "-1")
    result = invoke("-d", migrated_db.url, "migrate", "sql")
    assert result.exit_code == 0, result.output
    assert "ix_tasks_search_document" in result.stdout and "CREATE TABLE users" not in result.stdout


def test_lint_is_clean_for_the_repository_with_reasoned_allowances():
    result = invoke("migrate", "lint", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert [r["revision"] for r in document["revisions"]] == ALL
    allowed = [f for r in document["revisions"] for f in r["findings"]]
    assert allowed and all(f["allowed"] and f["reason"] for f in allowed)


UNSAFE_INDEX = "op.execute('CREATE INDEX ix_tasks_title ON tasks (title)')"


def test_lint_fails_on_an_unsafe_revision_and_accepts_a_reasoned_allowance(tmp_path):
    location = copy_migrations(tmp_path, {"0099_unsafe.py": revision_source("0099", HEAD, UNSAFE_INDEX)})
    result = invoke("migrate", "lint", f"{HEAD}:head", "--migrations", str(location), "--json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["revisions"][0]["findings"]
    assert "require-concurrent-index-creation" in {f["rule"] for f in findings}
    assert any("CREATE INDEX ix_tasks_title" in f["statement"] for f in findings)

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    header = "lint_allow = {'require-concurrent-index-creation': 'tasks is empty in this test'}"
    location = copy_migrations(allowed, {"0099_unsafe.py": revision_source("0099", HEAD, UNSAFE_INDEX, header=header)})
    result = invoke("migrate", "lint", f"{HEAD}:head", "--migrations", str(location))
    assert result.exit_code == 0, result.output
    # Allowed exceptions are one summary line; their reasons are in --json.
    assert "allowed with a reason: 1 (require-concurrent-index-creation ×1)" in result.stdout
    assert "tasks is empty in this test" not in result.stdout


@pytest.mark.parametrize(
    "text", ['prefer-text-field = "reason"\n', '[allow]\nprefer-text-field = 1\n', 'allow = "everything"\n'],
    ids=["rule-outside-allow", "not-a-reason", "allow-not-a-table"],
)
def test_a_lint_toml_of_the_wrong_shape_is_exit_2_not_ignored(tmp_path, text):
    """A guessed format was silently ignored: the gate failed with no word about the file (newcomer F13)."""
    location = copy_migrations(tmp_path, {})
    (location / "lint.toml").write_text(text)
    result = invoke("migrate", "lint", "--migrations", str(location))
    assert result.exit_code == 2, result.output
    assert "lint.toml" in result.output and "[allow]" in result.output


def test_lint_prints_one_compiler_style_line_per_finding(tmp_path):
    location = copy_migrations(tmp_path, {"0099_unsafe.py": revision_source("0099", HEAD, UNSAFE_INDEX)})
    result = invoke("migrate", "lint", f"{HEAD}:head", "--migrations", str(location))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("0099.sql:")]
    assert lines and all(line.count(": ") >= 2 for line in lines)
    line = next(line for line in lines if "require-concurrent-index-creation" in line)
    where, rule, _ = line.split(": ", 2)
    assert rule == "require-concurrent-index-creation"
    # The line number is a line of `todoctl migrate sql 0099`: the statement squawk points at.
    sql = invoke("migrate", "sql", "0099", "--migrations", str(location)).stdout.splitlines()
    assert "CREATE INDEX ix_tasks_title" in sql[int(where.split(":")[1]) - 1]
    # --json gives the same line (one source, not a second count from 0).
    document = json.loads(invoke("migrate", "lint", f"{HEAD}:head", "--migrations", str(location), "--json").stdout)
    found = next(f for f in document["revisions"][0]["findings"] if f["rule"] == rule)
    assert found["line"] == int(where.split(":")[1])


def test_lint_summarises_the_allowed_exceptions_in_one_line():
    result = invoke("migrate", "lint")
    assert result.exit_code == 0, result.output
    summary = [line for line in result.stdout.splitlines() if "allowed" in line]
    assert len(summary) == 1 and summary[0].startswith("allowed with a reason: ")
    assert "prefer-text-field ×" in summary[0]


def test_verify_passes_for_the_repository(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "verify", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [s["revision"] for s in document["steps"]] == ALL
    assert all(s["ok"] for s in document["steps"]) and document["data_round_trip"] is True


def test_verify_catches_a_downgrade_that_forgets_something(tmp_path, migrated_db):
    location = copy_migrations(
        tmp_path,
        {"0099_leaky.py": revision_source("0099", HEAD, "op.add_column('tasks', sa.Column('color', sa.Text()))")},
    )
    result = invoke("-d", migrated_db.url, "migrate", "verify", "--migrations", str(location), "--json")
    assert result.exit_code == 1
    step = json.loads(result.stdout)["steps"][-1]
    assert step["revision"] == "0099" and step["down_restores"] is False
    assert any("column color is extra" in d for d in step["differences"])


def test_multiple_heads_refused_with_merge_hint_then_merged(tmp_path):
    location = copy_migrations(tmp_path, {"0099_branch.py": revision_source("0099", ALL[-2], "pass")})
    result = invoke("-d", f"postgresql://u:{SENTINEL}@127.0.0.1:1/x", "migrate", "up", "--migrations", str(location))
    assert result.exit_code == 1
    assert "2 heads" in result.stderr and "todoctl migrate merge" in result.stderr
    merged = invoke("migrate", "merge", "-m", "join branches", "--migrations", str(location))
    assert merged.exit_code == 0, merged.output
    assert len(migrate.script_directory(location).get_heads()) == 1


def test_unknown_database_revision_is_shown_and_refused(pg, migrated_db):
    pg.execute("UPDATE alembic_version SET version_num = 'abc123'", database=migrated_db.database)
    status = invoke("-d", migrated_db.url, "migrate", "status")
    assert status.exit_code == 1 and "abc123" in status.stdout
    for command in (("migrate", "up"), ("migrate", "down")):
        result = invoke("-d", migrated_db.url, *command)
        assert result.exit_code == 1
        assert "abc123" in result.stderr and "Hint:" in result.stderr


def test_protection_through_the_cli(migrated_db):
    assert invoke("-d", migrated_db.url, "db", "protect", "--reason", "prod").exit_code == 0
    refused = invoke("-d", migrated_db.url, "migrate", "down")
    assert refused.exit_code == 4 and "TODOCTL_ALLOW_PRODUCTION=1" in refused.stderr
    assert invoke("-d", migrated_db.url, "migrate", "stamp", "base").exit_code == 4
    assert invoke("-d", migrated_db.url, "migrate", "up").exit_code == 0
    # Removing the mark needs the same two keys as the commands it unlocks.
    assert invoke("-d", migrated_db.url, "db", "unprotect").exit_code == 4
    assert invoke("-d", migrated_db.url, "db", "unprotect", "--yes").exit_code == 4
    allowed = invoke("-d", migrated_db.url, "migrate", "down", "--yes", env={"TODOCTL_ALLOW_PRODUCTION": "1"})
    assert allowed.exit_code == 0, allowed.output
    assert invoke("-d", migrated_db.url, "db", "unprotect", "--yes", env={"TODOCTL_ALLOW_PRODUCTION": "1"}).exit_code == 0
    assert invoke("-d", migrated_db.url, "migrate", "down").exit_code == 0


def test_pooled_url_refused_before_connecting_and_direct_url_used(migrated_db):
    pooled = f"postgresql://app:{SENTINEL}@ep-calm-9-pooler.example.invalid/app?sslmode=require"
    commands = (
        ("migrate", "up"),
        ("migrate", "down"),
        ("migrate", "stamp", "head"),
        ("migrate", "new", "-m", "x"),
        ("migrate", "verify"),
    )
    for command in commands:
        result = invoke("-d", pooled, *command)
        assert result.exit_code == 4, (command, result.output)
        assert "DATABASE_URL_UNPOOLED" in result.stderr and SENTINEL not in result.output + result.stderr
    env = {"DATABASE_URL": pooled, "DATABASE_URL_UNPOOLED": migrated_db.url}
    result = invoke("migrate", "up", "--json", env=env)
    assert result.exit_code == 0, result.output

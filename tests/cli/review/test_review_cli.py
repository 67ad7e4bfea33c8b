"""`todoctl review` through the CLI: exit code first, then output (and the --json document)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.cli.test_startup import HEAVY, imported_modules
from tests.helpers import REPO
from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
SENTINEL = "pw-Sentinel-5521"
NOWHERE = f"postgresql://me:{SENTINEL}@127.0.0.1:1/app"  # nothing listens on port 1
FINDING_KEYS = {"rule", "tier", "title", "location", "message", "why", "hint", "sql"}


def invoke(url, *args: str):
    target = url if isinstance(url, str) else url.url
    return runner.invoke(app, ["-d", target, "review", *args], env={"COLUMNS": "250"})


def test_review_help_imports_no_heavy_module():
    modules = imported_modules("review", "--help")
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


# ---------------------------------------------------------------- the app passes


@pytest.mark.parametrize("profile", ["small", "demo"])
def test_the_app_passes_review_strict_on_a_seeded_database(seeded_db, monkeypatch, profile):
    monkeypatch.chdir(REPO)
    url = seeded_db(profile)
    result = invoke(url, "--strict")
    assert result.exit_code == 0, result.output
    for heading in ("Critical — must fix (0)", "Warnings — should fix (0)", "Suggestions — consider"):
        assert heading in result.stdout
    # The Todo app's sources (todoctl/todo) and the project's configuration are scanned, not the tests'
    # made-up credentials: nothing to waive.
    assert "Waived" not in result.stdout
    assert "passed" in result.stdout.splitlines()[-1]

    document = json.loads(invoke(url, "--strict", "--json").stdout)
    assert document["ok"] is True and document["failed"] is False
    assert document["counts"]["critical"] == document["counts"]["warning"] == 0
    assert document["skipped"] == []
    assert document["waived"] == []


def test_the_app_passes_offline_without_a_database(monkeypatch):
    monkeypatch.chdir(REPO)
    result = invoke(NOWHERE, "--offline", "--strict", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["offline"] is True and "target_database" not in document
    skipped = {s["rule"]: s["reason"] for s in document["skipped"]}
    assert skipped["fk-without-index"] == "needs the database (--offline)"
    assert skipped["password-hash"].startswith("live part skipped (--offline)")
    assert "fk-without-index" not in document["rules"] and "password-hash" in document["rules"]


# ---------------------------------------------------------------- broken fixtures


def test_a_critical_finding_is_exit_1_with_location_why_and_fix(migrated_db, pg, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    pg.execute("ALTER TABLE tasks ADD COLUMN owner_id uuid", database=migrated_db.database)
    result = invoke(migrated_db, "--only", "fk-missing")
    assert result.exit_code == 1, result.output
    assert "Critical — must fix (1)" in result.stdout
    assert "tasks.owner_id" in result.stdout and "why: " in result.stdout and "fix: " in result.stdout
    assert "FAILED: critical findings" in result.stdout

    result = invoke(migrated_db, "--only", "fk-missing", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert set(document) >= {"ok", "failed", "strict", "offline", "target_database", "counts", "findings", "waived",
                             "rules", "skipped"}
    assert document["ok"] is False and document["failed"] is True
    assert document["counts"] == {"critical": 1, "warning": 0, "suggestion": 0, "waived": 0, "skipped": 0}
    assert document["rules"] == ["fk-missing"]
    [finding] = document["findings"]
    assert set(finding) == FINDING_KEYS
    assert (finding["rule"], finding["tier"], finding["location"]) == ("fk-missing", "critical", "tasks.owner_id")


def test_warnings_fail_only_with_strict(migrated_db, pg, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    pg.execute("ALTER TABLE tasks ADD COLUMN snoozed_until timestamp", database=migrated_db.database)
    result = invoke(migrated_db, "--only", "timestamp-mixed-tz")
    assert result.exit_code == 0, result.output
    assert "Warnings — should fix (1)" in result.stdout and "tasks.snoozed_until" in result.stdout
    assert "warnings fail only with --strict" in result.stdout
    result = invoke(migrated_db, "--only", "timestamp-mixed-tz", "--strict")
    assert result.exit_code == 1
    assert "FAILED: warnings (--strict)" in result.stdout


def test_a_database_behind_head_is_exit_1_with_the_fix(migrated_db, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    migrate.downgrade(migrated_db, "-1")
    result = invoke(migrated_db)
    assert result.exit_code == 1
    assert "review needs the schema at head" in result.stderr
    assert "Hint: run `todoctl migrate up`" in result.stderr


# ---------------------------------------------------------------- usage and connection errors


def test_an_unknown_only_rule_is_exit_2_before_connecting():
    result = invoke(NOWHERE, "--only", "fk-mising", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and error["hint"] == "did you mean fk-missing?"


def test_an_unreachable_database_is_exit_3_and_offline_needs_none(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = invoke(NOWHERE)
    assert result.exit_code == 3
    assert "Error: connection refused" in result.stderr
    assert SENTINEL not in result.output
    result = invoke(NOWHERE, "--offline", "--only", "fk-without-index")
    assert result.exit_code == 0, result.output
    assert "fk-without-index  needs the database (--offline)" in result.stdout


# ---------------------------------------------------------------- waivers


def _pyproject(tmp_path, body: str) -> None:
    """A project declaring the Todo app (the bundled history), with ``body`` (its review waivers)."""
    from todoctl import paths

    table = (
        '[tool.todoctl]\nmetadata = "todoctl.todo.models:metadata"\n'
        f'migrations = "{paths.migrations_dir()}"\nname = "todo"\n\n'
    )
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n{table}{body}")


def test_a_waiver_turns_a_finding_into_a_reason_in_the_summary(migrated_db, pg, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _pyproject(tmp_path, '[[tool.todoctl.review.waive]]\nrule = "fk-missing"\nlocation = "tasks.owner_*"\n'
                         'reason = "owner_id is the billing system\'s account id, not a row here"\n')
    pg.execute("ALTER TABLE tasks ADD COLUMN owner_id uuid", database=migrated_db.database)
    result = invoke(migrated_db, "--only", "fk-missing", "--strict")
    assert result.exit_code == 0, result.output
    assert "Waived (1" in result.stdout
    assert "reason: owner_id is the billing system's account id, not a row here" in result.stdout
    document = json.loads(invoke(migrated_db, "--only", "fk-missing", "--json").stdout)
    [waived] = document["waived"]
    assert set(waived) == FINDING_KEYS | {"reason", "waiver"}
    assert waived["location"] == "tasks.owner_id" and waived["waiver"] == {"rule": "fk-missing", "location": "tasks.owner_*"}
    assert document["counts"]["waived"] == 1 and document["findings"] == []

    # A waiver's location is a pattern: one that does not match waives nothing.
    _pyproject(tmp_path, '[[tool.todoctl.review.waive]]\nrule = "fk-missing"\nlocation = "tags.*"\nreason = "r"\n')
    assert invoke(migrated_db, "--only", "fk-missing").exit_code == 1


@pytest.mark.parametrize(
    "waiver, message",
    [
        ('rule = "fk-missing"\n', "pyproject.toml waiver 1 (fk-missing) has no reason"),
        ('rule = "fk-missing"\nreason = "  "\n', "pyproject.toml waiver 1 (fk-missing) has no reason"),
        ('rule = "no-such-rule"\nreason = "because"\n', "pyproject.toml waiver 1 names unknown rule 'no-such-rule'"),
    ],
)
def test_a_bad_waiver_is_exit_2_before_connecting(monkeypatch, tmp_path, waiver, message):
    monkeypatch.chdir(tmp_path)
    _pyproject(tmp_path, f"[[tool.todoctl.review.waive]]\n{waiver}")
    result = invoke(NOWHERE)
    assert result.exit_code == 2, result.output
    assert f"Error: {message}" in result.stderr
    assert result.stderr.count("Hint: ") == 1


def test_a_fix_sql_is_never_cut_inside_a_literal_at_a_narrow_width(migrated_db, pg, monkeypatch, tmp_path):
    # The hash-format regexes are wider than the terminal: each stays whole on its line, so the
    # statement copied from the terminal is the statement --json gives.
    from todoctl.core.review.rules.security import HASH_FORMATS
    from todoctl.core.sql_names import literal

    monkeypatch.chdir(tmp_path)
    pg.execute("CREATE TABLE vault (id int PRIMARY KEY, password_hash text)", database=migrated_db.database)
    result = runner.invoke(app, ["-d", migrated_db.url, "review", "--only", "password-hash"], env={"COLUMNS": "60"})
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    for pattern in (p for patterns in HASH_FORMATS.values() for p in patterns):
        assert any(literal(pattern) in line for line in lines), (pattern, result.stdout)
    sql = json.loads(invoke(migrated_db, "--only", "password-hash", "--json").stdout)["findings"][0]["sql"]
    start = next(n for n, line in enumerate(lines) if line.strip().startswith("ALTER TABLE vault"))
    end = next(n for n in range(start, len(lines)) if lines[n].endswith(";"))
    assert all(line.startswith("        ") for line in lines[start:end + 1])  # under the fix, on lines of its own
    shown = " ".join(line.strip() for line in lines[start:end + 1])
    assert " ".join(sql.split()) in " ".join(shown.split()), (sql, result.stdout)

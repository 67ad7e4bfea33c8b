"""`todoctl schema` through the CLI: exit code first, then output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HEAD = migrate.history()[-1].revision
SENTINEL = "pw-Sentinel-4417"
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "faker", "psycopg")


def invoke(url, *args: str):
    # A wide console, so that assertions can read whole sentences out of Rich tables.
    return runner.invoke(app, ["-d", url.url, "schema", *args], env={"COLUMNS": "250"})


def test_schema_help_imports_no_heavy_module():
    for args in (("schema", "--help"), ("schema", "diff", "--help"), ("schema", "lint", "--help")):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "todoctl", *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr[-2000:]
        modules = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
        assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


# ---------------------------------------------------------------- show


def test_show_lists_tables(migrated_db):
    result = invoke(migrated_db, "show")
    assert result.exit_code == 0, result.output
    for name in ("users", "task_lists", "tasks", "tags", "task_tags", "rows (est.)", "total size"):
        assert name in result.stdout


def test_show_json(migrated_db):
    result = invoke(migrated_db, "show", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["schema"] == "public"
    assert {t["name"] for t in document["tables"]} >= {"users", "tasks"}
    assert set(document["tables"][0]) == {"name", "estimated_rows", "total_bytes"}


def test_show_one_table(migrated_db):
    result = invoke(migrated_db, "show", "tasks")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("Columns", "Indexes", "ix_tasks_search", "gin (((setweight(", "Constraints",
                 "ck_tasks_priority", "Foreign keys out", "task_lists(id)", "SET NULL", "Foreign keys in", "task_tags(task_id)"):
        assert text in out, text


def test_show_one_table_json(migrated_db):
    result = invoke(migrated_db, "show", "task_tags", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [c["name"] for c in document["columns"]] == ["task_id", "tag_id"]
    assert {i["name"] for i in document["indexes"]} == {"pk_task_tags", "ix_task_tags_tag_id"}
    assert {"size_bytes", "scans", "definition"} <= set(document["indexes"][0])
    assert {k["references_table"] for k in document["foreign_keys_out"]} == {"tasks", "tags"}
    assert document["foreign_keys_in"] == []


def test_show_unknown_table_is_exit_2(migrated_db):
    result = invoke(migrated_db, "show", "taks")
    assert result.exit_code == 2
    assert "no table 'taks'" in result.stderr and "Hint: tables:" in result.stderr


# ---------------------------------------------------------------- diff


def test_diff_in_sync_is_exit_0(migrated_db):
    result = invoke(migrated_db, "diff")
    assert result.exit_code == 0, result.output
    assert "In sync" in result.stdout


def test_diff_after_a_hand_change_is_exit_1_and_says_why(pg, migrated_db):
    pg.execute("ALTER TABLE tasks ADD COLUMN notes text; DROP INDEX ix_tasks_list_due", database=migrated_db.database)
    result = invoke(migrated_db, "diff")
    assert result.exit_code == 1
    assert "column tasks.notes (TEXT) is in the database but not in the models" in result.stdout
    assert "ix_tasks_list_due" in result.stdout

    result = invoke(migrated_db, "diff", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["in_sync"] is False and document["against"] == "models"
    assert {(d["kind"], d["name"]) for d in document["differences"]} == {
        ("extra_column", "notes"),
        ("missing_index", "ix_tasks_list_due"),
    }


def test_diff_against_history_labels_each_difference(pg, migrated_db):
    migrate.downgrade(migrated_db, "-1")
    pg.execute("ALTER TABLE tasks ALTER COLUMN description SET NOT NULL", database=migrated_db.database)
    result = invoke(migrated_db, "diff", "--against", "history")
    assert result.exit_code == 1
    out = result.stdout
    assert "live database changed by hand" in out and "database behind its history" in out
    assert "column tasks.description is NOT NULL in the live database but nullable in the migration history" in out
    assert f"revision {HEAD} is not applied" in out
    assert "model change with no migration" not in out

    result = invoke(migrated_db, "diff", "--against", "history", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["against"] == "history" and document["heads"] == [HEAD]
    assert sorted(d["category"] for d in document["differences"]) == ["behind_history", "changed_by_hand"]
    assert set(document["hints"]) == {"behind_history", "changed_by_hand"}


def test_diff_against_history_in_sync_is_exit_0(migrated_db):
    result = invoke(migrated_db, "diff", "--against", "history", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["differences"] == []


def test_diff_against_something_else_is_exit_2(migrated_db):
    result = invoke(migrated_db, "diff", "--against", "prod")
    assert result.exit_code == 2


def test_diff_on_an_unreachable_server_is_exit_3_without_the_password():
    for extra in ((), ("--json",), ("--against", "history")):
        result = runner.invoke(app, ["-d", f"postgresql://me:{SENTINEL}@127.0.0.1:1/app", "schema", "diff", *extra])
        assert result.exit_code == 3, result.output
        assert SENTINEL not in result.output + result.stderr


def test_diff_against_history_refuses_a_pooled_url():
    url = f"postgresql://me:{SENTINEL}@ep-quiet-1234-pooler.eu-central-1.aws.neon.tech/app"
    result = runner.invoke(app, ["-d", url, "schema", "diff", "--against", "history"])
    assert result.exit_code == 4
    assert SENTINEL not in result.output + result.stderr


# ---------------------------------------------------------------- dump and ERD


def test_dump_prints_ddl(migrated_db):
    result = invoke(migrated_db, "dump")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE public.users (" in result.stdout
    assert "CREATE UNIQUE INDEX uq_users_email_lower ON public.users USING btree (lower((email)::text));" in result.stdout
    # Which pg_dump made it goes to stderr, so `schema dump > schema.sql` keeps only the DDL.
    assert result.stderr.startswith("-- pg_dump 18.") and "of PostgreSQL 18." in result.stderr


def test_dump_some_tables_as_json(migrated_db):
    result = invoke(migrated_db, "dump", "tags", "task_tags", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["tables"] == ["tags", "task_tags"] and document["pg_dump_version"].startswith("18")
    assert document["server_version"].startswith("18") and document["dropped_settings"] == []
    assert "CREATE TABLE public.task_tags (" in document["ddl"] and "CREATE TABLE public.tasks (" not in document["ddl"]


def test_dump_of_an_unreachable_server_is_exit_3_without_the_password():
    result = runner.invoke(app, ["-d", f"postgresql://me:{SENTINEL}@127.0.0.1:1/app", "schema", "dump"])
    assert result.exit_code == 3
    assert "connection refused" in result.stderr
    assert SENTINEL not in result.output + result.stderr


def test_dump_with_a_pg_dump_that_cannot_run_is_one_error_and_a_hint(migrated_db, tmp_path):
    missing = tmp_path / "no-such-pg_dump"
    result = runner.invoke(app, ["-d", migrated_db.url, "schema", "dump"], env={"TODOCTL_PG_DUMP": str(missing)})
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"Error: cannot run {missing}") and lines[1].startswith("Hint: set TODOCTL_PG_DUMP")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_erd_prints_mermaid(migrated_db):
    result = invoke(migrated_db, "erd")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("erDiagram\n")
    assert '    users ||..o{ tasks : "user_id (ON DELETE CASCADE)"' in result.stdout


def test_erd_markdown_and_json(migrated_db):
    result = invoke(migrated_db, "erd", "--markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("```mermaid\nerDiagram\n") and result.stdout.endswith("```\n")

    result = invoke(migrated_db, "erd", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["mermaid"].startswith("erDiagram")
    assert {"parent": "users", "child": "tasks", "columns": ["user_id"], "parent_cardinality": "exactly one",
            "child_cardinality": "zero or more", "identifying": False, "on_delete": "CASCADE",
            "references": ["id"]} in document["relations"]


# ---------------------------------------------------------------- lint


def test_lint_of_the_app_schema_is_exit_0(migrated_db):
    result = invoke(migrated_db, "lint")
    assert result.exit_code == 0, result.output
    assert "No findings" in result.stdout


def test_lint_findings_are_exit_1_with_hints(pg, migrated_db):
    pg.execute(
        "CREATE TABLE reminders (id int PRIMARY KEY, task_id uuid REFERENCES tasks (id), remind_at timestamp); "
        "CREATE INDEX ix_tasks_user ON tasks (user_id)",
        database=migrated_db.database,
    )
    result = invoke(migrated_db, "lint", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["clean"] is False
    assert {(f["rule"], f["table"], f["subject"]) for f in document["findings"]} == {
        ("fk-without-index", "reminders", "task_id"),
        ("timestamp-without-time-zone", "reminders", "remind_at"),
        ("missing-timestamps", "reminders", "created_at, updated_at"),
        ("redundant-index", "tasks", "ix_tasks_user"),
    }
    assert all(f["hint"] for f in document["findings"])

    result = invoke(migrated_db, "lint")
    assert result.exit_code == 1
    assert "fk-without-index" in result.stdout and "CREATE INDEX CONCURRENTLY ix_reminders_task_id" in result.stdout

    result = invoke(migrated_db, "lint", "--skip", "fk-without-index", "--skip", "timestamp-without-time-zone",
                    "--skip", "missing-timestamps", "--skip", "redundant-index")
    assert result.exit_code == 0, result.output


def test_lint_unknown_rule_is_exit_2():
    result = runner.invoke(app, ["-d", "postgresql://u:p@127.0.0.1:1/app", "schema", "lint", "--skip", "nope", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "usage"


@pytest.mark.parametrize("command", ["show", "erd", "lint"])
def test_unreachable_server_is_exit_3(command):
    result = runner.invoke(app, ["-d", f"postgresql://me:{SENTINEL}@127.0.0.1:1/app", "schema", command, "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["kind"] == "connection"
    assert SENTINEL not in result.output


# ---------------------------------------------------------------- which commands need a migrated database


@pytest.mark.parametrize("where", ["base", "-1"])
def test_lint_and_erd_need_head_diff_says_behind_show_and_dump_describe_any_state(migrated_db, where):
    migrate.downgrade(migrated_db, where)
    for command in ("lint", "erd"):
        result = invoke(migrated_db, command)
        assert result.exit_code == 1, (command, result.output)
        assert f"schema {command} needs the schema at head" in result.stderr
        assert "Hint: run `todoctl migrate up`" in result.stderr
        document = json.loads(invoke(migrated_db, command, "--json").stdout)
        assert document["ok"] is False and document["error"]["hint"] == "run `todoctl migrate up`"

    result = invoke(migrated_db, "diff", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert {d["category"] for d in document["differences"]} == {"behind_history"}
    assert document["hints"] == {"behind_history": "run `todoctl migrate up`"}
    assert "Behind:" in invoke(migrated_db, "diff").stdout

    for command in ("show", "dump"):
        result = invoke(migrated_db, command)
        assert result.exit_code == 0, (command, result.output)
    history = invoke(migrated_db, "diff", "--against", "history", "--json")
    assert history.exit_code == 1
    assert {d["category"] for d in json.loads(history.stdout)["differences"]} == {"behind_history"}

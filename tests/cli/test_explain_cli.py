"""`todoctl explain` through the CLI on a real, filled database: exit code first, then output."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()


# Timing regressions are measured in bench/, not asserted here: a noise floor no query reaches.
NO_TIMING = ("--min-ms", "100000")


def invoke(url, *args: str):
    return runner.invoke(app, ["-d", url.url, "explain", *args])


def counts(pg, url) -> list:
    return pg.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks), "
        "(SELECT count(*) FROM tasks WHERE status = 'completed'), (SELECT count(*) FROM task_tags)",
        database=url.database,
    )


def test_list_needs_no_database():
    result = runner.invoke(app, ["-d", "postgresql://nobody@127.0.0.1:1/none", "explain", "list"])
    assert result.exit_code == 0, result.output
    for name in ("task-list", "task-search", "overdue-tasks", "user-dashboard", "tag-tasks", "list-tasks", "user-by-email"):
        assert name in result.stdout

    result = runner.invoke(app, ["explain", "list", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    task_list = next(q for q in document["queries"] if q["name"] == "task-list")
    assert [p["name"] for p in task_list["params"]][:2] == ["user_id", "status"]
    assert task_list["budget"]["sort_free"] is True


def test_explain_name_draws_the_tree_sql_timings_and_findings(workload_db):
    result = invoke(workload_db, "task-list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "EXPLAIN ANALYZE" in out
    assert "Index Scan using ix_tasks_user_status_due on tasks" in out
    assert "self" in out and "loops 1" in out and "buffers hit" in out and "█" in out
    assert "ORDER BY tasks.due_date, tasks.id" in out
    assert "parameters:" in out and "status=pending" in out
    assert "Planning" in out and "Execution" in out
    assert "rolled back" in out


def test_run_is_the_same_command(workload_db):
    result = invoke(workload_db, "run", "user-by-email", "--format", "text")
    assert result.exit_code == 0, result.output
    assert "Index Scan using uq_users_email_lower on users" in result.stdout
    assert "Execution Time:" in result.stdout


def test_json_carries_postgresqls_plan_beside_the_analysis(workload_db):
    result = invoke(workload_db, "task-list", "--format", "json", "--runs", "3")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["query"] == "task-list"
    assert document["plan"][0]["Plan"]["Plans"][0]["Index Name"] == "ix_tasks_user_status_due"
    assert "Execution Time" in document["plan"][0]
    assert document["root"]["children"][0]["label"] == "Index Scan using ix_tasks_user_status_due on tasks"
    assert len(document["run_ms"]) == 3 and document["min_ms"] <= document["median_ms"]
    assert document["findings"] == []
    assert json.loads(invoke(workload_db, "task-list", "--json").stdout)["query"] == "task-list"


def test_table_format_and_no_analyze(workload_db):
    result = runner.invoke(app, ["-d", workload_db.url, "explain", "overdue-tasks", "--format", "table"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Plan nodes" in result.stdout and "ix_tasks_pending_due" in result.stdout

    result = invoke(workload_db, "tag-tasks", "--no-analyze")
    assert result.exit_code == 0, result.output
    assert "planned, not executed" in result.stdout
    assert "Execution" not in result.stdout


def test_findings_are_shown_with_hints(pg, workload_db):
    pg.execute("DROP INDEX ix_tasks_list_due", database=workload_db.database)
    result = invoke(workload_db, "list-tasks")
    assert result.exit_code == 0, result.output
    assert "avoidable-sort" in result.stdout
    assert "hint:" in result.stdout


def test_unknown_name_exits_2_and_suggests(workload_db):
    result = invoke(workload_db, "task-lst")
    assert result.exit_code == 2
    assert "unknown query 'task-lst'" in result.stderr
    assert "task-list" in result.stderr

    result = invoke(workload_db, "tasklist", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "usage"


@pytest.mark.parametrize("param", ["status=bogus", "user_id=7", "nope=1", "status"])
def test_bad_param_exits_2(workload_db, param):
    result = invoke(workload_db, "task-list", "--param", param)
    assert result.exit_code == 2, result.output
    assert "Error:" in result.stderr


def test_param_sets_a_value(workload_db):
    result = invoke(workload_db, "task-list", "--param", "status=completed", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["params"]["status"] == "completed"
    assert "'completed'::text" in document["root"]["children"][0]["conditions"]["Index Cond"]


def test_explaining_never_changes_data(pg, workload_db):
    before = counts(pg, workload_db)
    for name in ("complete-task", "task-list", "tag-tasks"):
        result = invoke(workload_db, name, "--runs", "2")
        assert result.exit_code == 0, result.output
    assert "Update on tasks" in invoke(workload_db, "complete-task").stdout
    assert counts(pg, workload_db) == before


def test_sql_is_read_only_single_statement(pg, workload_db):
    before = counts(pg, workload_db)
    result = invoke(workload_db, "sql", "SELECT count(*) FROM tasks WHERE status = 'pending'")
    assert result.exit_code == 0, result.output
    assert "Aggregate" in result.stdout

    result = invoke(workload_db, "sql", "UPDATE tasks SET title = 'x'")
    assert result.exit_code == 4
    assert "READ ONLY" in result.stderr and "--no-analyze" in result.stderr

    result = invoke(workload_db, "sql", "SELECT 1; DELETE FROM task_tags")
    assert result.exit_code == 2
    assert "2 statements" in result.stderr

    result = invoke(workload_db, "sql", "SELECT * FROM no_such_table")
    assert result.exit_code == 2
    assert "no_such_table" in result.stderr
    assert counts(pg, workload_db) == before


def test_statement_timeout_exits_1_with_a_message(workload_db):
    result = invoke(workload_db, "sql", "SELECT pg_sleep(5)", "--timeout", "100ms")
    assert result.exit_code == 1
    assert "statement timeout (100ms)" in result.stderr
    assert "Hint:" in result.stderr

    result = invoke(workload_db, "task-list", "--timeout", "soon")
    assert result.exit_code == 2


def test_check_passes_then_fails_when_a_key_index_is_dropped(pg, workload_db, tmp_path):
    baseline = tmp_path / "plans.json"
    saved = invoke(workload_db, "baseline", "save", str(baseline), "--runs", "1")
    assert saved.exit_code == 0, saved.output
    assert "Saved the plans of" in saved.stdout and baseline.exists()

    result = invoke(workload_db, "check", "--runs", "1")
    assert result.exit_code == 0, result.output
    assert "queries within budget" in result.stdout

    result = invoke(workload_db, "check", "--baseline", str(baseline), "--runs", "1", *NO_TIMING, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True

    pg.execute("DROP INDEX ix_tasks_user_status_due", database=workload_db.database)
    result = invoke(workload_db, "check", "--baseline", str(baseline), "--runs", "1", *NO_TIMING)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "task-list" in result.stdout

    result = invoke(workload_db, "check", "--baseline", str(baseline), "--runs", "1", *NO_TIMING, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and "task-list" in document["failed"]
    task_list = next(q for q in document["queries"] if q["name"] == "task-list")
    assert {"regression-sort"} <= {v["kind"] for v in task_list["violations"]}


def test_check_with_a_missing_baseline_exits_2(workload_db, tmp_path):
    result = invoke(workload_db, "check", "--baseline", str(tmp_path / "none.json"))
    assert result.exit_code == 2
    assert "no baseline file" in result.stderr


def test_empty_database_exits_1_and_says_to_seed(migrated_db):
    result = invoke(migrated_db, "task-list")
    assert result.exit_code == 1
    assert "todoctl seed" in result.stderr

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
    assert task_list["budget"]["max_rows_sorted"] == 500
    assert "sort ≤ 500 rows" in task_list["budget"]["terms"]
    assert task_list["indexes"] == ["ix_tasks_user_status_due"]


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

    # Time is not judged here (a loaded machine may take 51 ms over a 50 ms budget): cost is.
    result = invoke(workload_db, "check", "--runs", "1", *NO_TIMING)
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
    # Judged on cost: the index is gone (with the statement that re-creates it) and the plan now
    # touches many times the baseline's buffers.
    kinds = {v["kind"] for v in task_list["violations"]}
    assert {"missing-index", "regression-buffers"} <= kinds, kinds
    missing = next(v for v in task_list["violations"] if v["kind"] == "missing-index")
    assert missing["sql"] == "CREATE INDEX CONCURRENTLY ix_tasks_user_status_due ON tasks (user_id, status, due_date, id)"
    assert "hint: re-create ix_tasks_user_status_due" in invoke(
        workload_db, "check", "--runs", "1", "--query", "task-list"
    ).stdout.replace("\n  ", " ")


def test_check_with_a_missing_baseline_exits_2(workload_db, tmp_path):
    result = invoke(workload_db, "check", "--baseline", str(tmp_path / "none.json"))
    assert result.exit_code == 2
    assert "no baseline file" in result.stderr


def test_empty_database_exits_1_and_says_to_seed(migrated_db):
    result = invoke(migrated_db, "task-list")
    assert result.exit_code == 1
    assert "todoctl seed" in result.stderr


# ---------------------------------------------------------------- the schema must be at head


@pytest.fixture(params=["base", "behind"])
def not_at_head(request, pg, empty_db):
    """A database at base (no migrations) or behind head (at 0006, before list-tasks's index)."""
    if request.param == "behind":
        from todoctl.core import migrate

        migrate.upgrade(empty_db, "0006")
    return empty_db


@pytest.mark.parametrize(
    "args",
    [("task-list",), ("run", "list-tasks", "--json"), ("check",), ("check", "--json"), ("baseline", "save", "{tmp}")],
)
def test_named_queries_at_base_or_behind_head_say_migrate_up(not_at_head, tmp_path, args):
    args = tuple(a.replace("{tmp}", str(tmp_path / "plans.json")) for a in args)

    result = invoke(not_at_head, *args)

    assert result.exit_code == 1, result.output
    if "--json" in args:
        error = json.loads(result.stdout)["error"]
        assert "todoctl migrate up" in error["hint"]
    else:
        assert "needs the schema at head" in result.stderr
        assert "Hint: run `todoctl migrate up`" in result.stderr
        assert "ProgrammingError" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "plans.json").exists()


def test_ad_hoc_sql_does_not_need_head(not_at_head):
    result = invoke(not_at_head, "sql", "SELECT 1")
    assert result.exit_code == 0, result.output
    assert "Result" in result.stdout

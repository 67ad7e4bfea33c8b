"""Explain on a real, filled PostgreSQL: plans, findings, budgets, baselines, and that nothing changes."""

from __future__ import annotations

import json

import pytest

from todoctl import named_queries as queries
from todoctl.core import explain
from todoctl.core.explain import budget as explain_budget
from todoctl.core.explain import plan as plan_nodes
from todoctl.errors import ExitCode, TodoctlError

REQUIRED = {"task-list", "task-search", "overdue-tasks", "user-dashboard", "tag-tasks", "list-tasks", "user-by-email"}
APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")


def fingerprint(pg, url) -> list:
    """Row counts and an order-independent digest of every app table's rows."""
    return [
        pg.execute(f"SELECT count(*), sum(hashtext(t::text)::numeric) FROM {table} t", database=url.database)[0]
        for table in APP_TABLES
    ]


def heaviest_user(pg, url) -> str:
    return str(pg.execute("SELECT user_id FROM tasks GROUP BY user_id ORDER BY count(*) DESC LIMIT 1", database=url.database)[0][0])


# ---------------------------------------------------------------- the registry


def test_registry_holds_the_apps_queries_built_from_the_models():
    assert REQUIRED <= set(queries.app_queries())
    for named in queries.app_queries().values():
        assert named.description
        assert named.budget.max_ms > 0
    assert queries.app_queries()["complete-task"].modifies


def test_unknown_query_is_a_usage_error_with_close_matches():
    with pytest.raises(TodoctlError) as caught:
        queries.get("task-lst")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "task-list" in caught.value.hint


@pytest.mark.parametrize(
    "assignment, message",
    [("status=bogus", "pending, completed, overdue"), ("user_id=42", "uuid"), ("colour=red", "no parameter"), ("status", "name=value")],
)
def test_bad_parameters_are_usage_errors(assignment, message):
    with pytest.raises(TodoctlError) as caught:
        queries.parse_assignments(queries.get("task-list"), [assignment])
    assert caught.value.exit_code == ExitCode.USAGE
    assert message in caught.value.message + (caught.value.hint or "")


def test_parameters_are_typed():
    values = queries.parse_assignments(
        queries.get("task-list"), ["status=completed", "after_due=2026-03-01T00:00:00", "after_id=none"]
    )
    assert values["status"] == "completed"
    assert values["after_due"].tzinfo is not None
    assert values["after_id"] is None


# ---------------------------------------------------------------- plans on real data


def test_task_list_defaults_to_the_heaviest_user_and_is_served_by_the_index(pg, workload_db):
    result = explain.explain(workload_db, "task-list")

    assert str(result.params["user_id"]) == heaviest_user(pg, workload_db)
    assert result.params["status"] == "pending"
    assert result.analyzed and result.execution_ms is not None and result.planning_ms is not None
    assert plan_nodes.shape(result.root) == "Limit(Index Scan[tasks])"
    scan = result.root.children[0]
    assert scan.index == "ix_tasks_user_status_due"
    assert scan.actual_rows == 50 and scan.loops == 1
    assert scan.shared_hit is not None and scan.exclusive_ms is not None and 0 <= scan.share <= 1
    assert result.plan[0]["Plan"]["Node Type"] == "Limit"  # PostgreSQL's own document, for PEV2/depesz
    assert not [f for f in result.findings if f.kind in ("seq-scan", "avoidable-sort")]


def test_every_named_query_for_the_heaviest_user_is_served_by_an_index(workload_db):
    report = explain.check(workload_db, runs=1)
    for q in report.queries:
        assert not [s for s in q.scans if s["node_type"] == "Seq Scan"], (q.name, q.shape)
        assert q.rows_sorted <= queries.app_queries()[q.name].budget.max_rows_sorted, (q.name, q.shape)
    assert report.ok, [(q.name, q.violations) for q in report.queries]


def test_keyset_parameters_start_the_next_page_inside_the_index(workload_db):
    first = explain.explain(workload_db, "task-list")
    user = first.params["user_id"]
    result = explain.explain(
        workload_db,
        "task-list",
        params=[f"user_id={user}", "status=completed", "after_due=2026-06-01T00:00:00+00:00",
                "after_id=00000000-0000-0000-0000-000000000000"],
    )
    scan = result.root.children[0]
    assert scan.index == "ix_tasks_user_status_due"
    assert "completed" in scan.conditions["Index Cond"] and "due_date" in scan.conditions["Index Cond"]
    assert plan_nodes.sort_count(result.root) == 0

    with pytest.raises(TodoctlError) as caught:
        explain.explain(workload_db, "task-list", params=["after_id=00000000-0000-0000-0000-000000000000"])
    assert caught.value.exit_code == ExitCode.USAGE


def test_runs_report_min_and_median(workload_db):
    result = explain.explain(workload_db, "user-by-email", runs=3)
    assert len(result.run_ms) == 3
    assert result.min_ms <= result.median_ms


def test_no_analyze_plans_without_executing(pg, workload_db):
    before = fingerprint(pg, workload_db)
    result = explain.explain(workload_db, "complete-task", analyze=False)
    assert not result.analyzed and result.execution_ms is None and result.run_ms == []
    assert all(node.actual_rows is None for node in result.root.walk())
    assert result.root.label == "Update on tasks"
    assert fingerprint(pg, workload_db) == before


# ---------------------------------------------------------------- the gate


def test_dropping_the_key_index_fails_the_check(pg, workload_db):
    assert explain.check(workload_db, names=["task-list"], runs=1).ok
    pg.execute("DROP INDEX ix_tasks_user_status_due", database=workload_db.database)

    report = explain.check(workload_db, names=["task-list"], runs=1)

    assert not report.ok and report.failed == ["task-list"]
    [missing] = [v for v in report.queries[0].violations if v.kind == "missing-index"]
    assert missing.sql == "CREATE INDEX CONCURRENTLY ix_tasks_user_status_due ON tasks (user_id, status, due_date, id)"
    result = explain.explain(workload_db, "task-list")
    hints = " ".join(f.hint for f in result.findings)
    assert "re-create ix_tasks_user_status_due: CREATE INDEX CONCURRENTLY" in hints
    completed = explain.explain(workload_db, "task-list", params=["status=completed"])
    assert "CREATE INDEX CONCURRENTLY ON tasks (user_id, status, due_date, id)" in " ".join(
        f.hint for f in completed.findings if f.kind == "avoidable-sort"
    )
    assert "seq-scan" in {f.kind for f in completed.findings}


def test_baseline_catches_a_scan_turned_sequential_and_a_new_sort(pg, workload_db, tmp_path):
    path = tmp_path / "plans.json"
    saved = explain.save_baseline(workload_db, path, runs=1)
    assert set(saved.queries) == set(queries.app_queries())
    document = json.loads(path.read_text())
    assert document["queries"]["task-list"]["sorts"] == 0

    assert explain.check(workload_db, baseline=path, runs=1, min_ms=100_000).ok
    pg.execute("DROP INDEX uq_users_email_lower", database=workload_db.database)

    report = explain.check(workload_db, baseline=path, runs=1, names=["user-by-email"], min_ms=100_000)
    assert not report.ok
    violations = {v.kind: v for v in report.queries[0].violations}
    assert {"missing-index", "regression-seq-scan"} <= set(violations)
    assert "users became sequential" in violations["regression-seq-scan"].message
    assert "uq_users_email_lower" in violations["regression-seq-scan"].hint  # the fix: re-create it


def test_regression_in_time_beyond_the_factor(workload_db):
    result = explain.explain(workload_db, "task-list", runs=1)
    before = {"scans": plan_nodes.scans(result.root), "sorts": 0, "execution_ms": result.median_ms / 100}
    slow = explain_budget.regressions(result, before, factor=3, min_ms=0)
    assert [v.kind for v in slow] == ["regression-time"]
    assert explain_budget.regressions(result, before, factor=3, min_ms=10_000) == []  # below the noise floor


def test_a_baseline_that_is_not_one_is_a_usage_error(workload_db, tmp_path):
    path = tmp_path / "nope.json"
    path.write_text("{}")
    with pytest.raises(TodoctlError) as caught:
        explain.check(workload_db, baseline=path)
    assert caught.value.exit_code == ExitCode.USAGE


# ---------------------------------------------------------------- findings


def test_selective_seq_scan_suggests_the_index(workload_db):
    result = explain.explain_sql(workload_db, "SELECT * FROM tasks WHERE title = 'Write report'")
    [finding] = [f for f in result.findings if f.kind == "seq-scan"]
    assert "CREATE INDEX CONCURRENTLY ON tasks (title)" in finding.hint


def test_misestimate_on_fresh_statistics_shows_in_the_tree_but_is_no_finding(workload_db):
    # ANALYZE cannot fix an estimate for an expression the planner guesses at: no hint that does nothing.
    result = explain.explain_sql(workload_db, "SELECT id FROM tasks WHERE title || '' = title")
    scan = next(n for n in result.root.walk() if n.relation == "tasks")
    assert scan.misestimate >= 10
    assert not [f for f in result.findings if f.kind == "misestimate"]


def test_sort_spilling_to_disk(workload_db):
    result = explain.explain_sql(workload_db, "SELECT * FROM tasks ORDER BY description, title, id")
    sort = next(n for n in result.root.walk() if n.node_type == "Sort")
    assert sort.sort_space_type == "Disk"
    assert "spill" in {f.kind for f in result.findings}


def test_hash_spilling_to_disk(pg, workload_db):
    pg.execute(f'ALTER DATABASE "{workload_db.database}" SET work_mem = \'64kB\'')
    result = explain.explain_sql(workload_db, "SELECT t.title, g.tag_id FROM tasks t JOIN task_tags g ON g.task_id = t.id")
    hashes = [n for n in result.root.walk() if n.node_type == "Hash"]
    assert hashes and hashes[0].hash_batches > 1
    [finding] = [f for f in result.findings if f.kind == "spill"]
    assert "batches" in finding.message and "work_mem" in finding.hint


def test_sort_an_index_could_avoid(pg, workload_db):
    # With ix_tasks_list_due (migration 0007) the index gives the order: no Sort, no finding.
    served = explain.explain(workload_db, "list-tasks")
    assert not [f for f in served.findings if f.kind == "avoidable-sort"]
    pg.execute("DROP INDEX ix_tasks_list_due", database=workload_db.database)
    result = explain.explain(workload_db, "list-tasks")
    [finding] = [f for f in result.findings if f.kind == "avoidable-sort"]
    assert "tasks (list_id, due_date, id)" in finding.hint


def test_many_rows_removed_by_a_filter(workload_db):
    result = explain.explain_sql(
        workload_db,
        "SELECT * FROM tasks WHERE user_id = (SELECT user_id FROM tasks GROUP BY user_id ORDER BY count(*) DESC LIMIT 1)"
        " AND estimated_hours = 8",
    )
    kinds = {f.kind for f in result.findings}
    assert kinds & {"filter-removed", "seq-scan"}


# ---------------------------------------------------------------- safety


def test_explaining_never_changes_data_even_the_update(pg, workload_db):
    from todoctl.core import seed

    before = fingerprint(pg, workload_db)
    seed_before = seed.fingerprint(workload_db)
    for name in queries.app_queries():
        explain.explain(workload_db, name, runs=2)
    explain.check(workload_db, runs=1)
    result = explain.explain(workload_db, "complete-task")
    assert result.root.label == "Update on tasks"
    assert result.root.children[0].actual_rows == 1  # it really ran the UPDATE ...
    assert fingerprint(pg, workload_db) == before  # ... and rolled it back
    assert seed.fingerprint(workload_db) == seed_before


def test_ad_hoc_sql_is_read_only(pg, workload_db):
    before = fingerprint(pg, workload_db)
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(workload_db, "DELETE FROM tasks")
    assert caught.value.exit_code == ExitCode.REFUSED
    planned = explain.explain_sql(workload_db, "DELETE FROM tasks", analyze=False)
    assert planned.root.label == "Delete on tasks"
    assert fingerprint(pg, workload_db) == before


def test_several_statements_are_refused(pg, workload_db):
    before = fingerprint(pg, workload_db)
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(workload_db, "SELECT 1; DELETE FROM tasks")
    assert caught.value.exit_code == ExitCode.USAGE
    assert fingerprint(pg, workload_db) == before


def test_statement_timeout_is_exit_1_with_a_message(migrated_db):
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(migrated_db, "SELECT pg_sleep(5)", timeout="100ms")
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "statement timeout (100ms)" in caught.value.message


def test_empty_database_says_to_seed(migrated_db):
    with pytest.raises(TodoctlError) as caught:
        explain.explain(migrated_db, "task-list")
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "seed" in caught.value.hint

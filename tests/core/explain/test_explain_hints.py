"""Every finding's hint fixes it: each test makes the condition on a real seeded database, runs the
statement the hint prints exactly as printed, and shows the finding gone. A hint that would not
help (ANALYZE on fresh statistics, an index that exists) is not printed."""

from __future__ import annotations

import pytest

from tests.core.explain.test_explain_budgets import passes
from todoctl.core import explain
from todoctl.core.explain import findings as plan_findings
from todoctl.core.explain import plan as plan_nodes


def finding(result, kind):
    found = [f for f in result.findings if f.kind == kind]
    assert found, (kind, [(f.kind, f.message) for f in result.findings])
    assert found[0].sql and found[0].sql in found[0].hint  # the statement is printed, verbatim
    return found[0]


def kinds(result) -> set[str]:
    return {f.kind for f in result.findings}


@pytest.fixture
def big(pg, seeded_db):
    """A copy of the demo profile at 10,000 users (200,000 tasks): large enough for real plans."""
    return seeded_db("demo", 10_000)


def test_seq_scan_hint_builds_the_index_that_serves_the_query(pg, big):
    pg.execute("DROP INDEX ix_tasks_user_status_due", database=big.database)
    pg.execute("DROP INDEX ix_tasks_pending_due", database=big.database)
    result = explain.explain(big, "task-list")
    fix = finding(result, "seq-scan")
    # The ORDER BY's columns too, so the index also gives the order (not only the rows).
    assert fix.sql == "CREATE INDEX CONCURRENTLY ON tasks (user_id, status, due_date, id)"

    pg.execute(fix.sql, database=big.database)

    after = explain.explain(big, "task-list")
    assert "seq-scan" not in kinds(after)
    assert plan_nodes.shape(after.root) == "Limit(Index Scan[tasks])"


def test_seq_scan_on_an_expression_suggests_an_expression_index(pg, big):
    pg.execute("DROP INDEX uq_users_email_lower", database=big.database)
    result = explain.explain(big, "user-by-email")
    fix = finding(result, "seq-scan")
    assert fix.sql == "CREATE INDEX CONCURRENTLY ON users (lower(email))"

    pg.execute(fix.sql, database=big.database)

    after = explain.explain(big, "user-by-email")
    assert "seq-scan" not in kinds(after)
    assert "Seq Scan" not in plan_nodes.shape(after.root)


def test_filter_removed_hint_puts_the_filtered_columns_in_an_index(pg, big):
    # Without it the planner walks the partial index of all pending tasks, filtering on user_id.
    pg.execute("DROP INDEX ix_tasks_user_status_due", database=big.database)
    result = explain.explain(big, "task-list")
    fix = finding(result, "filter-removed")
    assert fix.sql == "CREATE INDEX CONCURRENTLY ON tasks (user_id, status, due_date, id)"

    pg.execute(fix.sql, database=big.database)

    assert "filter-removed" not in kinds(explain.explain(big, "task-list"))


def test_avoidable_sort_hint_gives_the_order_by_from_an_index(pg, big):
    # A heavy list (well over the 500 rows a sort is worth a finding for, whatever the seed drew):
    # the heaviest user's tasks all in their biggest list, the one list-tasks picks.
    pg.execute(
        "WITH u AS (SELECT user_id FROM tasks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1), "
        "l AS (SELECT t.list_id FROM tasks t JOIN u USING (user_id) WHERE t.list_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) "
        "UPDATE tasks t SET list_id = l.list_id FROM u, l WHERE t.user_id = u.user_id; ANALYZE tasks",
        database=big.database,
    )
    # The state before migration 0007: list-tasks sorted a heavy list's rows after the scan.
    pg.execute("DROP INDEX ix_tasks_list_due", database=big.database)
    pg.execute("CREATE INDEX ix_tasks_list_id ON tasks (list_id)", database=big.database)
    result = explain.explain(big, "list-tasks")
    fix = finding(result, "avoidable-sort")
    assert fix.sql == "CREATE INDEX CONCURRENTLY ON tasks (list_id, due_date, id)"

    pg.execute(fix.sql, database=big.database)

    after = explain.explain(big, "list-tasks")
    assert "avoidable-sort" not in kinds(after)
    assert plan_nodes.sort_count(after.root) == 0


def test_spill_hint_sets_enough_work_mem(pg, big):
    pg.execute("DROP INDEX ix_tasks_list_due", database=big.database)
    pg.execute("CREATE INDEX ix_tasks_list_id ON tasks (list_id)", database=big.database)
    pg.execute(f"ALTER DATABASE \"{big.database}\" SET work_mem = '64kB'")
    result = explain.explain(big, "list-tasks")
    fix = finding(result, "spill")
    assert fix.sql.startswith("SET work_mem = ")
    assert not passes(explain.check(big, names=["list-tasks"], runs=1))

    # The printed SET, for every session of this database (a test cannot reach todoctl's own session).
    pg.execute(f"ALTER DATABASE \"{big.database}\" {fix.sql}")

    assert "spill" not in kinds(explain.explain(big, "list-tasks"))


def _stale_user(pg, url) -> str:
    """10,000 tasks added to the lightest user after the last ANALYZE (autovacuum kept away)."""
    pg.execute("ALTER TABLE tasks SET (autovacuum_enabled = false)", database=url.database)
    user = pg.execute("SELECT user_id FROM tasks GROUP BY 1 ORDER BY count(*), 1 LIMIT 1", database=url.database)[0][0]
    pg.execute(
        f"INSERT INTO tasks (user_id, title, status, priority) "
        f"SELECT '{user}', 'Extra ' || i, 'pending', 'low' FROM generate_series(1, 10000) AS i",
        database=url.database,
    )
    return str(user)


def test_misestimate_on_stale_statistics_hint_is_analyze_and_it_fixes_it(pg, seeded_db):
    url = seeded_db("demo", 2_000)
    user = _stale_user(pg, url)
    result = explain.explain(url, "user-dashboard", params=[f"user_id={user}"])
    assert result.stale_tables == ["tasks"]
    fix = finding(result, "misestimate")
    assert fix.sql == "ANALYZE tasks"
    report = explain.check(url, names=["user-dashboard"], runs=1)
    assert "misestimate" in {v.kind for v in report.queries[0].violations}

    pg.execute(fix.sql, database=url.database)

    after = explain.explain(url, "user-dashboard", params=[f"user_id={user}"])
    assert after.stale_tables == []
    assert "misestimate" not in kinds(after)


def test_no_analyze_hint_on_fresh_statistics(seeded_db):
    """tag-tasks misestimates a skewed join key on every size (per-loop estimates): ANALYZE would
    not change that, so no finding says so, and the check passes."""
    url = seeded_db("demo", 500)
    result = explain.explain(url, "tag-tasks")
    assert result.stale_tables == []
    assert any((n.misestimate or 0) >= 10 for n in result.root.walk())  # shown in the tree ...
    assert "misestimate" not in kinds(result)  # ... but no finding with a hint that does nothing
    assert passes(explain.check(url, names=["tag-tasks"], runs=1))


# ---------------------------------------------------------------- the rule, on a synthetic plan


def _sorted_scan(rows: int) -> plan_nodes.PlanNode:
    scan = plan_nodes.PlanNode(
        "Bitmap Heap Scan", relation="tasks", actual_rows=rows, loops=1, plan_rows=rows,
        conditions={"Recheck Cond": "(list_id = '0a'::uuid)"},
    )
    sort = plan_nodes.PlanNode("Sort", actual_rows=200, loops=1, plan_rows=200, sort_key=["due_date", "id"], children=[scan])
    return plan_nodes.PlanNode("Limit", actual_rows=200, loops=1, plan_rows=200, children=[sort])


INDEXES = {"tasks": [plan_nodes.IndexInfo("ix_tasks_list_due", ["list_id", "due_date", "id"])]}


def test_a_sort_the_existing_index_could_give_suggests_analyze_only_when_stale():
    plan = _sorted_scan(3_000)
    assert plan_findings.findings(plan, {"tasks": 1e6}, INDEXES, stale=set()) == []
    [stale] = plan_findings.findings(plan, {"tasks": 1e6}, INDEXES, stale={"tasks"})
    assert stale.kind == "avoidable-sort" and stale.sql == "ANALYZE tasks"


def test_a_top_n_of_a_few_hundred_rows_is_no_finding_at_all():
    assert plan_findings.findings(_sorted_scan(400), {"tasks": 1e6}, {}, stale=set()) == []
    [missing] = plan_findings.findings(_sorted_scan(3_000), {"tasks": 1e6}, {}, stale=set())
    assert missing.sql == "CREATE INDEX CONCURRENTLY ON tasks (list_id, due_date, id)"

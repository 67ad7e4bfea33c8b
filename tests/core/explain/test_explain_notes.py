"""Notes that are true: on freshly seeded data, explain says no node was stopped by a Limit unless
one really was, and never calls statistics stale right after the seed's ANALYZE."""

from __future__ import annotations

import pytest

from todoctl.core import explain
from todoctl.core.explain import plan as plan_nodes
from todoctl.core.explain.plan import PlanNode, parse

SIZES = [("demo", None), ("demo", 10_000)]


def plan(raw: dict) -> PlanNode:
    return parse([{"Plan": raw, "Execution Time": 1.0}])[0]


def node(kind: str, rows: float, est: float, *children: dict, **extra) -> dict:
    return {"Node Type": kind, "Actual Rows": rows, "Plan Rows": est, "Actual Loops": 1,
            "Actual Total Time": 1.0, "Plans": list(children), **extra}


def test_a_limit_that_ran_out_of_input_stopped_nothing():
    """overdue-tasks on the demo data: Limit 1000 over a Sort of 687 rows of a Seq Scan of 2,000."""
    root = plan(node("Limit", 687, 721, node("Sort", 687, 721, node("Seq Scan", 687, 721, **{"Rows Removed by Filter": 1313}))))
    assert not any(n.stopped_by_limit for n in root.walk())


def test_a_sort_between_the_limit_and_a_scan_shields_the_scan():
    root = plan(node("Limit", 50, 50, node("Sort", 50, 800, node("Seq Scan", 800, 900))))
    sort, scan = root.children[0], root.children[0].children[0]
    assert sort.stopped_by_limit and not scan.stopped_by_limit


def test_a_streaming_scan_under_a_limit_that_reached_its_count_was_stopped():
    root = plan(node("Limit", 50, 50, node("Index Scan", 50, 2_000)))
    assert root.children[0].stopped_by_limit


def test_an_initplan_under_a_limit_runs_on_its_own_terms():
    root = plan(node("Limit", 50, 50, node("Index Scan", 50, 2_000),
                     node("Seq Scan", 3, 10, **{"Parent Relationship": "InitPlan"})))
    assert root.children[0].stopped_by_limit and not root.children[1].stopped_by_limit


@pytest.mark.parametrize("profile, users", SIZES, ids=["demo", "demo-10000-users"])
def test_freshly_seeded_data_gets_no_stale_hint_and_no_false_limit_note(seeded_db, profile, users):
    url = seeded_db(profile, users)
    from todoctl.named_queries import app_queries  # the Todo app's named queries (the bundled project)

    for name in app_queries():
        result = explain.explain(url, name)
        said = " ".join(f"{f.kind} {f.message} {f.hint or ''}" for f in result.findings)
        assert "stale" not in said, (name, said)
        assert not result.stale_tables, (name, result.stale_tables)
        for scan in result.root.walk():
            if scan.stopped_by_limit and scan.node_type == "Seq Scan" and scan.rows_removed_by_filter is not None:
                # A Seq Scan "stopped early" must not have read its whole table.
                read = (scan.rows_total or 0) + scan.rows_removed_by_filter
                assert read < max(scan.plan_rows, 1) + scan.rows_removed_by_filter, (name, plan_nodes.shape(result.root))


def test_right_after_a_seed_no_table_has_changes_since_its_analyze(pg, migrated_db):
    """The seed's own database, not a copy (a copy starts its activity counters from zero): the
    inserts are counted at commit, so an ANALYZE inside the transaction alone leaves every table
    "modified since analyze" until autovacuum comes by. Seeding twice (--truncate) as a user does."""
    from todoctl.core import seed
    from todoctl.named_queries import app_queries

    url = migrated_db
    seed.run(url, profile="demo")
    seed.run(url, profile="demo", mode="truncate")
    modified = pg.execute("SELECT relname, n_mod_since_analyze FROM pg_stat_user_tables WHERE n_mod_since_analyze > 0",
                          database=url.database)
    assert modified == []
    for name in app_queries():
        result = explain.explain(url, name)
        assert not result.stale_tables, (name, result.stale_tables)
        assert "stale" not in " ".join(f"{f.message} {f.hint or ''}" for f in result.findings), name

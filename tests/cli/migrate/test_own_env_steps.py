"""An app that keeps its own env.py (the recipe of docs/app.md: the stock template plus the shared
connection) does not pass todoctl's ``on_version_apply``: what ran is still reported, derived from
the versions before and after and the script directory's graph."""

from __future__ import annotations

import json

from tests.cli.migrate.test_env_guard import FIXED_ENV, invoke, shelf_copy, two_databases  # noqa: F401 (a fixture)

SHELF_HISTORY = ["3f9a1c2e7b40", "8c2d5e0a91f3", "a71e4b3c8d25", "e05b9f7a3c61"]


def test_up_and_down_through_an_own_env_py_report_the_revisions_that_ran(tmp_path, two_databases):
    a, b = two_databases
    project = shelf_copy(tmp_path, FIXED_ENV, b.libpq)
    up = invoke(project, a, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    document = json.loads(up.stdout)
    assert document["before"] == [] and document["after"] == [SHELF_HISTORY[-1]]
    assert [s["revision"] for s in document["steps"]] == SHELF_HISTORY
    assert {s["direction"] for s in document["steps"]} == {"up"}

    down = invoke(project, a, "migrate", "down", "--yes")
    assert down.exit_code == 0, down.output
    assert "Nothing to do" not in down.output
    assert SHELF_HISTORY[-1] in down.output and f"Now at {SHELF_HISTORY[-2]}" in down.output

    again = invoke(project, a, "migrate", "up")
    assert again.exit_code == 0 and "Nothing to do" not in again.output, again.output
    assert f"Now at {SHELF_HISTORY[-1]}" in again.output
    assert "Nothing to do" in invoke(project, a, "migrate", "up").output


def test_a_failing_revision_through_an_own_env_py_is_named_with_what_was_applied(tmp_path, two_databases):
    from tests.helpers import revision_source

    a, b = two_databases
    project = shelf_copy(tmp_path, FIXED_ENV, b.libpq)
    failing = revision_source("f0f0f0f0f0f0", SHELF_HISTORY[-1], "op.execute('SELECT 1/0')")
    (project / "shelf" / "migrations" / "versions" / "f0f0f0f0f0f0_fails.py").write_text(failing)
    result = invoke(project, a, "migrate", "up", "--json")
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["message"].startswith("upgrade to f0f0f0f0f0f0 failed"), error["message"]
    # The recipe's env.py runs every revision in one transaction: all of it was rolled back.
    assert error["details"]["applied"] == [] and error["details"]["failed"] == "f0f0f0f0f0f0"
    assert error["details"]["current"] == []


def test_offline_sql_through_a_stock_env_py_with_alembic_inits_placeholder_url(tmp_path, two_databases):
    """`alembic init` leaves sqlalchemy.url = driver://user:pass@localhost/dbname; the stock env.py's
    offline branch renders with that dialect: migrate sql and down --dry-run failed with exit 2
    naming todoctl's own file (newcomer F2). todoctl renders PostgreSQL SQL whatever the ini says."""
    a, _ = two_databases
    project = shelf_copy(tmp_path, FIXED_ENV, "driver://user:pass@localhost/dbname")
    rendered = invoke(project, a, "migrate", "sql", SHELF_HISTORY[0])
    assert rendered.exit_code == 0, rendered.output
    assert "CREATE TABLE" in rendered.stdout
    assert invoke(project, a, "migrate", "up").exit_code == 0
    dry = invoke(project, a, "migrate", "down", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would migrate" in dry.output

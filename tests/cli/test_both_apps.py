"""The key paths of every command on both apps: the bundled Todo app and shelf (tests/apps/shelf),
each on its own models, history and database. On shelf no output names a Todo table or revision."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SHELF
from tests.helpers import REPO
from todoctl.cli.app import app

runner = CliRunner()
TODO_WORDS = re.compile(r"\b(users|tasks|task_lists|task_tags|tags|0008_task|todoctl/todo)\b")


@dataclass
class App:
    name: str
    directory: Path
    url: object  # DatabaseURL of a database at the app's head
    table: str  # one of its tables
    head: str

    def invoke(self, *args: str):
        return runner.invoke(app, ["--project", str(self.directory), "-d", self.url.url, *args])


@pytest.fixture(params=["todo", "shelf"])
def each_app(request) -> App:
    if request.param == "todo":
        url = request.getfixturevalue("migrated_db")
        return App("todo", REPO, url, "tasks", "0008")
    url = request.getfixturevalue("shelf_db")
    return App("shelf", SHELF, url, "book", "e05b9f7a3c61")


def clean(each_app: App, output: str) -> str:
    if each_app.name == "shelf":
        assert not TODO_WORDS.search(output), output
    return output


READS = [
    ("migrate", "status"),
    ("migrate", "check"),
    ("migrate", "current"),
    ("migrate", "heads"),
    ("migrate", "history"),
    ("migrate", "up", "--dry-run"),
    ("migrate", "down", "--dry-run"),
    ("schema", "show"),
    ("schema", "diff"),
    ("schema", "diff", "--against", "history"),
    ("schema", "erd"),
    ("db", "status"),
]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_read_commands_work_on_the_apps_own_database(each_app, args):
    result = each_app.invoke(*args)
    assert result.exit_code == 0, result.output
    clean(each_app, result.output)


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_their_json_names_the_apps_revisions(each_app, args):
    result = each_app.invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(clean(each_app, result.output))
    assert document["ok"] is True


def test_schema_show_table_and_dump(each_app):
    shown = each_app.invoke("schema", "show", each_app.table, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(clean(each_app, shown.output))["name"] == each_app.table
    dump = each_app.invoke("schema", "dump")
    assert dump.exit_code == 0, dump.output
    assert f"CREATE TABLE public.{each_app.table}" in clean(each_app, dump.output)


def test_migrate_sql_and_lint_read_the_apps_history(each_app):
    sql = each_app.invoke("migrate", "sql", "base:head")
    assert sql.exit_code == 0, sql.output
    assert each_app.table in clean(each_app, sql.output)
    lint = each_app.invoke("migrate", "lint", "--json")
    assert lint.exit_code in (0, 1), lint.output  # findings are the app's own
    revisions = [r["revision"] for r in json.loads(clean(each_app, lint.output))["revisions"]]
    assert revisions[-1] == each_app.head


def test_down_to_base_and_up_again(each_app, pg):
    down = each_app.invoke("migrate", "down", "base", "--yes")
    assert down.exit_code == 0, down.output
    rows = pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=each_app.url.database)
    assert {r[0] for r in rows} == {"alembic_version"}
    up = each_app.invoke("migrate", "up")
    assert up.exit_code == 0, up.output
    assert clean(each_app, up.output)
    status = each_app.invoke("migrate", "status", "--json")
    assert json.loads(status.output)["current"] == [each_app.head]


def test_migrate_new_dry_run_finds_nothing_to_migrate_at_head(each_app):
    result = each_app.invoke("migrate", "new", "-m", "nothing", "--dry-run")
    assert result.exit_code == 1, result.output
    assert "nothing to migrate" in clean(each_app, result.output)


def test_drift_names_the_apps_own_table(each_app, pg):
    pg.execute(f'ALTER TABLE "{each_app.table}" ADD COLUMN drifted text', database=each_app.url.database)
    result = each_app.invoke("migrate", "check", "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(clean(each_app, result.output))
    assert any(d["table"] == each_app.table and d["name"] == "drifted" for d in document["differences"])


def test_the_gate_on_a_database_of_the_other_app_says_it_does_not_know_the_revision(each_app, pg):
    other = "e05b9f7a3c61" if each_app.name == "todo" else "0008"
    pg.execute(f"UPDATE alembic_version SET version_num = '{other}'", database=each_app.url.database)
    result = each_app.invoke("migrate", "status")
    assert result.exit_code == 1
    assert other in result.output and "do not know" in result.output


# ---------------------------------------------------------------- explain, health and review on each app

QUERY_NAMES = {
    "todo": {"task-list", "task-search", "overdue-tasks", "user-dashboard", "tag-tasks", "list-tasks",
             "user-by-email", "complete-task"},
    "shelf": {"reader-loans", "overdue-loans", "category-books", "book-search", "book-history", "return-loan"},
}
ENGINES = {"todo": "todoctl.todo.db:engine_for_url", "shelf": "shelf.db:engine"}


@pytest.fixture(params=["todo", "shelf"])
def each_app_with_data(request) -> App:
    """Each app on a database holding data to pick parameters from (Todo: the demo seed; shelf: filled by SQL)."""
    if request.param == "todo":
        return App("todo", REPO, request.getfixturevalue("seeded_db")("demo"), "tasks", "0008")
    return App("shelf", SHELF, request.getfixturevalue("shelf_filled_db"), "book", "e05b9f7a3c61")


def test_explain_list_shows_the_apps_own_queries(each_app):
    result = each_app.invoke("explain", "list", "--json")
    assert result.exit_code == 0, result.output
    names = {q["name"] for q in json.loads(clean(each_app, result.output))["queries"]}
    assert names == QUERY_NAMES[each_app.name]
    table = each_app.invoke("explain", "list")
    assert table.exit_code == 0 and clean(each_app, table.output)


def test_explain_check_and_a_baseline_gate_the_apps_queries(each_app_with_data, tmp_path):
    check = each_app_with_data.invoke("explain", "check", "--runs", "1", "--json")
    assert check.exit_code == 0, check.output
    document = json.loads(clean(each_app_with_data, check.output))
    assert {q["name"] for q in document["queries"]} == QUERY_NAMES[each_app_with_data.name] and document["ok"]
    plans = tmp_path / "plans.json"
    saved = each_app_with_data.invoke("explain", "baseline", "save", str(plans), "--runs", "1")
    assert saved.exit_code == 0, saved.output
    again = each_app_with_data.invoke("explain", "check", "--baseline", str(plans), "--runs", "1", "--factor", "1000")
    assert again.exit_code == 0, again.output
    one = sorted(QUERY_NAMES[each_app_with_data.name])[0]
    run = each_app_with_data.invoke("explain", one, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(clean(each_app_with_data, run.output))["query"] == one


def test_health_measures_the_apps_pool(each_app):
    result = each_app.invoke("health", "-c", "version", "-c", "dead-tuples", "-c", "duplicate-indexes",
                             "--probe", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(clean(each_app, result.output))
    assert document["pool"]["engine"] == ENGINES[each_app.name]
    assert document["pool"]["probe"]["errors"] == 0 and document["pool"]["probe"]["sessions"] == 3
    tables = {t["table"] for t in next(c for c in document["checks"] if c["name"] == "dead-tuples")["details"]["tables"]}
    assert each_app.table in tables
    text = each_app.invoke("health", "-c", "version")
    assert text.exit_code == 0 and f"App pool ({ENGINES[each_app.name]})" in clean(each_app, text.output)


@pytest.mark.parametrize("offline", [False, True], ids=["live", "offline"])
def test_review_reads_the_apps_models_queries_engine_and_sources(each_app, offline):
    result = each_app.invoke("review", "--json", *(["--offline"] if offline else []))
    assert result.exit_code in (0, 1), result.output
    document = json.loads(clean(each_app, result.output))
    assert {"sql-injection", "pool-size", "query-timeout", "query-user-scope"} <= set(document["rules"])
    assert not [s for s in document["skipped"] if "no sources" in s["reason"] or "no engine" in s["reason"]]

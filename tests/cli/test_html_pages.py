"""`--html FILE` pages (explain NAME, explain sql, explain check, schema erd) and `schema erd --format svg`,
made by the CLI on a real database and opened in headless Chromium with the network cut off.

Each page must reach ``data-todoctl-state="ready"`` with no console error, no exception and no
request beyond the file itself, and show what it is for: every node of the plan (PEV2 numbers
them #1..#N and names their types), or every table of the schema. A screenshot of each page is
left in the test's tmp_path for a person to look at. Without Chromium those tests skip (in CI,
where .ci/run installs it, they fail instead); the output-flag and secret tests need no browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from typer.testing import CliRunner

from tests.browser import CHROMIUM, MISSING, open_page
from tests.cli.test_secrets import SENTINEL, password_server, url_for  # noqa: F401 (a fixture)
from todoctl.cli.app import app

runner = CliRunner()


def _require(found, why: str) -> None:
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI is set, and .ci/run installs it")
        pytest.skip(why)


@pytest.fixture
def chromium():
    _require(CHROMIUM, MISSING)


@pytest.fixture
def graphviz():
    _require(shutil.which("dot"), "needs Graphviz's dot (apt-get install graphviz; .ci/run installs it)")


browser = pytest.mark.usefixtures("chromium")


def invoke(url, *args: str):
    return runner.invoke(app, ["-d", url if isinstance(url, str) else url.url, *args])


def nodes(plan: list) -> list[dict]:
    found = []

    def walk(node):
        found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def shown_as(node: dict) -> str:
    """How PEV2 names a node: its type, with a join type or strategy word it may put in between."""
    kind = node["Node Type"]
    if kind == "ModifyTable":
        return re.escape(node["Operation"])
    if kind == "Aggregate":
        return {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}.get(node.get("Strategy"), "Aggregate")
    return r"(?: \w+)? ".join(re.escape(word) for word in kind.split(" "))


def assert_plan_drawn(text: str, plan: list) -> None:
    every = nodes(plan)
    numbers = {int(n) for n in re.findall(r"#(\d+)\b", text)}
    assert numbers == set(range(1, len(every) + 1)), (numbers, len(every))
    for node in every:
        assert re.search(shown_as(node), text), f"{node['Node Type']} not drawn in:\n{text[:3000]}"


def assert_clean(page) -> None:
    assert page.state == "ready", page.errors
    assert page.errors == []
    assert page.remote_requests == []
    assert page.requests[:1] == [page.url], page.requests


# ---------------------------------------------------------------- explain NAME / sql


@browser
def test_explain_page_draws_every_node_of_the_plan_offline(workload_db, tmp_path):
    target = tmp_path / "plan.html"
    result = invoke(workload_db, "explain", "user-dashboard", "--html", str(target))
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.stderr
    plan = json.loads(invoke(workload_db, "explain", "user-dashboard", "--json").stdout)

    with open_page(target, tmp_path) as page:
        page.wait_for("document.querySelector('[data-plan=\"0\"]').innerText.includes('#1')")
        assert_clean(page)
        assert_plan_drawn(page.evaluate("document.querySelector('[data-plan=\"0\"]').innerText"), plan["plan"])
        header = page.evaluate("document.querySelector('header').innerText")
        assert "todoctl explain user-dashboard" in header and f"PostgreSQL{plan['server_version']}" in header.replace(" ", "")
        params = page.evaluate("document.querySelector('.todoctl-params').innerText")
        for name, value in plan["params"].items():
            assert name in params and str(value) in params
        assert page.evaluate("document.querySelector('.todoctl-sql').textContent") == plan["sql"]
        assert page.shoot(tmp_path / "plan.png").stat().st_size > 10_000


@browser
def test_explain_page_shows_findings_and_their_hints(workload_db, pg, tmp_path):
    pg.execute("DROP INDEX ix_tasks_user_status_due", database=workload_db.database)
    target = tmp_path / "plan.html"
    result = invoke(workload_db, "explain", "task-list", "--html", str(target))
    assert result.exit_code == 0, result.output
    findings = json.loads(invoke(workload_db, "explain", "task-list", "--json").stdout)["findings"]
    assert findings

    with open_page(target, tmp_path) as page:
        assert_clean(page)
        text = page.evaluate("document.querySelector('.todoctl-findings').innerText")
        for finding in findings:
            assert finding["message"] in text and finding["hint"] in text
        page.shoot(tmp_path / "findings.png")


@browser
def test_hostile_sql_stays_text_on_the_page(seeded_db, tmp_path):
    """The statement is the user's, but the page must never run it as markup or script."""
    hostile = "SELECT '</script><script>document.title=\"pwned\"</script><!--<script>' AS x, '\u2028&amp;' AS y"
    target = tmp_path / "sql.html"
    result = invoke(seeded_db("small"), "explain", "sql", hostile, "--html", str(target))
    assert result.exit_code == 0, result.output

    with open_page(target, tmp_path) as page:
        assert_clean(page)
        assert page.evaluate("document.title") == "todoctl explain sql"
        assert page.evaluate("document.querySelectorAll('script').length") == 5  # hook, data, vue, pev2, boot
        assert page.evaluate("document.querySelector('.todoctl-sql').textContent") == hostile
        assert page.evaluate("data.plans[0].query") == hostile
        page.shoot(tmp_path / "sql.png")


def test_no_password_and_no_other_session_text_reach_the_page(password_server, tmp_path):  # noqa: F811
    other = psycopg.connect(password_server.libpq_url(), autocommit=True)
    try:
        other.execute("SELECT 'other-session-Sentinel-7f3a'")  # stays in pg_stat_activity while idle
        url = url_for(password_server, SENTINEL)
        result = invoke(url, "explain", "sql", "SELECT count(*) FROM pg_stat_activity", "--html", "-")
        assert result.exit_code == 0, result.output
    finally:
        other.close()
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and "FROM pg_stat_activity" in page
    for secret in (SENTINEL, quote(SENTINEL, safe=""), quote(SENTINEL), "other-session-Sentinel-7f3a"):
        assert secret not in page


# ---------------------------------------------------------------- explain check


@browser
def test_check_page_has_every_query_its_budget_and_its_plan(workload_db, pg, tmp_path):
    """The gate failing (an index the queries rely on is gone): the page is written all the same."""
    pg.execute("DROP INDEX ix_tasks_list_due", database=workload_db.database)
    target = tmp_path / "check.html"
    result = invoke(workload_db, "explain", "check", "--runs", "1", "--html", str(target))
    assert result.exit_code == 1, result.output
    report = json.loads(invoke(workload_db, "explain", "check", "--runs", "1", "--json").stdout)
    assert "list-tasks" in report["failed"]

    with open_page(target, tmp_path) as page:
        assert_clean(page)
        assert page.evaluate("[...document.querySelectorAll('details.todoctl-query')].map(d => d.dataset.query)") == [
            q["name"] for q in report["queries"]
        ]
        verdict = page.evaluate("document.querySelector('.todoctl-verdict').innerText")
        assert f"{len(report['failed'])} of {len(report['queries'])} queries failed" in verdict
        failing = page.evaluate("document.getElementById('query-list-tasks').open")
        assert failing is True  # a failed query opens by itself
        terms = page.evaluate("document.querySelector('#query-list-tasks .todoctl-terms').innerText")
        budget = next(q for q in report["queries"] if q["name"] == "list-tasks")["budget"]
        assert "ix_tasks_list_due" in terms and f"≤ {budget['max_buffers']:,} (hit + read)" in terms
        page.shoot(tmp_path / "check-failing.png")
        for index, query in enumerate(report["queries"]):
            page.evaluate(f"todoctlShowPlan({index})")
            selector = f"document.querySelector('[data-plan=\"{index}\"]')"
            page.wait_for(f"{selector}.innerText.includes('#1')")
            assert page.evaluate(f"document.querySelectorAll('[data-mounted]').length") == 1
            assert_plan_drawn(page.evaluate(f"{selector}.innerText"), query["plan"])
        assert page.errors == []
        page.shoot(tmp_path / "check.png")


# ---------------------------------------------------------------- schema erd


def _second_app(pg, url) -> set[str]:
    """Tables of no Todo shape: a second cluster, a table alone, awkward names."""
    pg.execute(
        'CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric(10,2) NOT NULL); '
        'CREATE TABLE "invoice <lines>" (invoice_id bigint REFERENCES invoices(id) ON DELETE RESTRICT, '
        '"line no" int, PRIMARY KEY (invoice_id, "line no")); '
        "CREATE TABLE audit_log (at timestamptz, what text); "
        'CREATE TABLE "say ""hi"" #1" ("`tick`" int)',
        database=url.database,
    )
    return {"users", "tasks", "task_lists", "tags", "task_tags", "invoices", "invoice <lines>", "audit_log", 'say "hi" #1', "`tick`"}


@browser
def test_erd_page_draws_every_table_one_diagram_per_cluster(pg, migrated_db, tmp_path):
    tables = _second_app(pg, migrated_db)
    target = tmp_path / "erd.html"
    result = invoke(migrated_db, "schema", "erd", "--html", str(target))
    assert result.exit_code == 0, result.output

    with open_page(target, tmp_path) as page:
        assert_clean(page)
        assert page.evaluate("document.querySelectorAll('.todoctl-erd svg').length") == 3  # Todo, invoices, audit_log
        drawn = page.evaluate("[...document.querySelectorAll('.todoctl-erd svg')].map(s => s.textContent).join(' ')")
        for table in tables:
            assert table in drawn
        assert "ON DELETE RESTRICT" in drawn and "ON DELETE SET NULL" in drawn
        page.shoot(tmp_path / "erd.png")


@pytest.mark.usefixtures("graphviz")
def test_erd_svg_needs_no_browser(pg, migrated_db, tmp_path):
    tables = _second_app(pg, migrated_db)
    result = invoke(migrated_db, "schema", "erd", "--format", "svg")
    assert result.exit_code == 0, result.output
    svg = ElementTree.fromstring(result.stdout.split("\n", 3)[-1] if result.stdout.startswith("<?xml") else result.stdout)
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for table in tables:
        assert table in texts
    assert "ON DELETE CASCADE" in texts and "ON DELETE RESTRICT" in texts
    (tmp_path / "erd.svg").write_text(result.stdout)
    if CHROMIUM:
        with open_page(tmp_path / "erd.svg", tmp_path, ready_timeout=0) as page:
            assert page.errors == [] and page.remote_requests == []
            page.shoot(tmp_path / "erd-svg.png")


def test_erd_svg_without_graphviz_says_what_to_install(migrated_db, monkeypatch):
    monkeypatch.setenv("TODOCTL_DOT", "/nonexistent/dot")
    result = invoke(migrated_db, "schema", "erd", "--format", "svg")
    assert result.exit_code == 1
    assert "cannot run /nonexistent/dot" in result.stderr and "install Graphviz" in result.stderr


# ---------------------------------------------------------------- output flags


def test_html_flags_stdout_force_and_unusable_paths(seeded_db, tmp_path):
    url = seeded_db("small")
    target = tmp_path / "plan.html"
    target.write_text("keep me")

    result = invoke(url, "explain", "task-list", "--html", str(target))
    assert result.exit_code == 2
    assert f"--html {target}: the file exists" in result.stderr and "--force" in result.stderr
    assert target.read_text() == "keep me"

    result = invoke(url, "explain", "task-list", "--html", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("<!DOCTYPE html>") and "task-list" in result.stdout  # the tree still prints
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.html"]  # no temporary file left

    result = invoke(url, "explain", "task-list", "--html", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.rstrip().endswith("</html>")

    for unusable, says in (
        (tmp_path / "no-such-dir" / "plan.html", "no directory"),
        (tmp_path, "is a directory"),
        (Path("/proc/version/plan.html"), "no directory"),
    ):
        result = invoke(url, "explain", "check", "--html", str(unusable))
        assert result.exit_code == 2, result.output
        assert str(unusable) in result.stderr and says in result.stderr

    result = invoke(url, "schema", "erd", "--html", "-", "--json")
    assert result.exit_code == 2 and "both want stdout" in result.stdout
    result = invoke(url, "explain", "task-list", "--force")
    assert result.exit_code == 2 and "--force only goes with --html" in result.stderr
    result = invoke(url, "schema", "erd", "--format", "svg", "--markdown")
    assert result.exit_code == 2


def test_a_read_only_directory_is_exit_2_with_the_path(seeded_db, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("")  # root writes anyway: then the refusal cannot be shown here
            pytest.skip("running as a user whom directory permissions do not stop (root)")
        except PermissionError:
            pass
        result = invoke(seeded_db("small"), "schema", "erd", "--html", str(folder / "erd.html"))
        assert result.exit_code == 2
        assert str(folder / "erd.html") in result.stderr
    finally:
        folder.chmod(0o700)

"""Review rules over the app's own engine ([tool.todoctl] engine): pool-size, pool-recycle, query-timeout.

Each app here is a real project directory with a real module building its engine with
``create_engine``, as an app does; the rules read that Engine (and, live, a session through an
engine with its settings on the reviewed database)."""

from __future__ import annotations

import textwrap
import uuid

import pytest

from tests.core.review.rule_helpers import findings
from todoctl import project
from todoctl.core.review import ReviewContext, run
from todoctl.errors import TodoctlError


def app_project(tmp_path, engine_source: str, *, engine: str | None = "engine"):
    """A project whose module builds its engine with ``engine_source`` (the body of the module)."""
    module = f"app_db_{uuid.uuid4().hex[:8]}"  # a module name of its own: sys.modules keeps every import
    (tmp_path / f"{module}.py").write_text(
        "from sqlalchemy import Column, Integer, MetaData, Table, create_engine\n"
        "metadata = MetaData()\nTable('things', metadata, Column('id', Integer, primary_key=True))\n"
        + textwrap.dedent(engine_source)
    )
    table = f'metadata = "{module}:metadata"\n'
    if engine:
        table += f'engine = "{module}:{engine}"\n'
    (tmp_path / "pyproject.toml").write_text(f"[tool.todoctl]\n{table}")
    return project.from_directory(tmp_path)


def context(app, *, url=None) -> ReviewContext:
    return ReviewContext(root=app.root, metadata=app.metadata(), queries={}, environ={}, url=url, project=app)


URL = "postgresql+psycopg://app@localhost/app"


def test_a_pool_within_bounds_passes(tmp_path):
    app = app_project(tmp_path, f'engine = create_engine("{URL}", pool_size=10, max_overflow=5, pool_recycle=1800)\n')
    for rule in ("pool-size", "pool-recycle"):
        assert findings(context(app), rule) == []


@pytest.mark.parametrize(
    "arguments, words",
    [
        ("pool_size=2", "keeps 2 connection(s) open (pool_size), fewer than 5"),
        ("pool_size=40, max_overflow=20", "can open 60 connections at once"),
        ("pool_size=10, max_overflow=-1", "can open any number of connections"),
    ],
)
def test_a_pool_too_small_or_too_large_is_found(tmp_path, arguments, words):
    app = app_project(tmp_path, f'engine = create_engine("{URL}", {arguments})\n')
    [finding] = findings(context(app), "pool-size")
    assert finding.location == f"engine {app.engine_ref}"
    assert words in finding.message


def test_a_recycle_under_a_minute_is_found(tmp_path):
    app = app_project(tmp_path, f'engine = create_engine("{URL}", pool_recycle=30)\n')
    [finding] = findings(context(app), "pool-recycle")
    assert "pool_recycle=30 s" in finding.message and "pool_recycle=3600" in finding.hint


def test_an_engine_without_a_statement_timeout_is_found_offline(tmp_path):
    app = app_project(tmp_path, f'engine = create_engine("{URL}", pool_size=10)\n')
    [finding] = findings(context(app), "query-timeout")
    assert finding.location == f"engine {app.engine_ref}" and "--offline" in finding.message
    assert "statement_timeout" in finding.hint


@pytest.mark.parametrize(
    "engine_source",
    [
        'engine = create_engine("' + URL + '", connect_args={"options": "-c statement_timeout=5s"})\n',
        'engine = create_engine("' + URL + '?options=-c%20statement_timeout%3D5000")\n',
        'engine = create_engine("' + URL + '", connect_args={"options": "-c lock_timeout=1s --statement-timeout=5s"})\n',
    ],
)
def test_a_statement_timeout_in_the_connect_arguments_passes(tmp_path, engine_source):
    assert findings(context(app_project(tmp_path, engine_source)), "query-timeout") == []


def test_live_a_session_through_the_apps_pool_decides(tmp_path, pg, empty_db):
    app = app_project(tmp_path, f'engine = create_engine("{URL}", pool_size=10)\n')
    [finding] = findings(context(app, url=empty_db), "query-timeout")
    assert "gets none from the role, the database or the server" in finding.message

    pg.execute(f"ALTER DATABASE \"{empty_db.database}\" SET statement_timeout = '30s'")
    assert findings(context(app, url=empty_db), "query-timeout") == []


def test_without_an_engine_the_rules_say_they_were_skipped_and_why(tmp_path):
    app = app_project(tmp_path, "", engine=None)
    report = run(context(app), only=["pool-size", "pool-recycle", "query-timeout"])
    assert report.findings == []
    why = {s.rule: s.reason for s in report.skipped if "no engine in [tool.todoctl]" in s.reason}
    assert set(why) == {"pool-size", "pool-recycle", "query-timeout"}


def test_an_engine_function_given_the_url_builds_the_apps_pool_on_it(tmp_path, empty_db):
    app = app_project(
        tmp_path,
        "def make(url):\n    return create_engine(url, pool_size=3, connect_args={'options': '-c statement_timeout=2s'})\n",
        engine="make",
    )
    ctx = context(app, url=empty_db)
    [finding] = findings(ctx, "pool-size")
    assert "keeps 3 connection(s)" in finding.message
    assert findings(context(app, url=empty_db), "query-timeout") == []


def test_an_engine_function_that_ignores_the_url_is_refused(tmp_path, pg, empty_db):
    other = pg.create_database()
    try:
        elsewhere = pg.url_for(other).url
        app = app_project(tmp_path, f"def make(url):\n    return create_engine({elsewhere!r})\n", engine="make")
        with pytest.raises(TodoctlError) as caught:
            findings(context(app, url=empty_db), "query-timeout")
        assert caught.value.exit_code == 4 and f"not {empty_db.database!r}" in caught.value.message
    finally:
        pg.drop_database(other)


def test_an_engine_that_cannot_be_built_is_exit_2_naming_the_apps_line(tmp_path):
    app = app_project(tmp_path, "def make():\n    raise ValueError('DB_POOL_MIN must be a whole number')\n", engine="make")
    with pytest.raises(TodoctlError) as caught:
        findings(context(app), "pool-size")
    assert caught.value.exit_code == 2
    assert "DB_POOL_MIN must be a whole number" in caught.value.message and "line 5" in caught.value.message


def test_the_todo_apps_engine_is_read_from_its_variables(monkeypatch, migrated_db):
    from tests.helpers import REPO

    todo = project.from_directory(REPO)
    monkeypatch.setenv("DB_POOL_MIN", "2")
    ctx = ReviewContext(root=REPO, metadata=todo.metadata(), queries={}, environ={}, url=migrated_db, project=todo)
    [finding] = findings(ctx, "pool-size")
    assert finding.location == "engine todoctl.todo.db:engine_for_url" and "keeps 2 connection(s)" in finding.message
    monkeypatch.delenv("DB_POOL_MIN")
    ctx = ReviewContext(root=REPO, metadata=todo.metadata(), queries={}, environ={}, url=migrated_db, project=todo)
    assert findings(ctx, "pool-size") == [] and findings(ctx, "query-timeout") == []  # DB_QUERY_TIMEOUT: 30 s

"""examples/app_usage.py, the code docs/todo-app.md's "The app's database module" shows, run on a real database:
as a script (session_scope, ping), and its endpoints driven the way FastAPI drives a yield dependency.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError

import todoctl.todo.db as app_db
from tests.helpers import libpq
from todoctl.todo.db import AppSettings, engine_from_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app_usage.py"
SECRET = "pw-Example-8812"



@pytest.fixture
def example():
    spec = importlib.util.spec_from_file_location("app_usage_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app_engine(migrated_db, monkeypatch):
    """The module's default engine (built from DATABASE_URL in the app), here on this test's database."""
    settings = AppSettings.from_env({"DATABASE_URL": migrated_db.url, "DB_POOL_MIN": "1", "DB_POOL_MAX": "2"})
    engine = engine_from_settings(settings)
    monkeypatch.setattr(app_db, "_engine", engine)
    yield engine
    engine.dispose()


def request(endpoint, **params):
    """Call an endpoint as FastAPI does: its `Depends` default is a generator, entered as a context
    manager before the call; the endpoint's exception is thrown into it; it is finished afterwards."""
    dependency = inspect.signature(endpoint).parameters["session"].default
    dependency = getattr(dependency, "dependency", dependency)  # fastapi.params.Depends, when installed
    with contextmanager(dependency)() as session:
        return endpoint(**params, session=session)


def test_the_example_runs_as_a_script_against_a_real_database(migrated_db):
    env = {**os.environ, "DATABASE_URL": migrated_db.url, "DB_POOL_MIN": "1", "DB_POOL_MAX": "2"}
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = done.stdout.strip().splitlines()
    assert first.startswith("1 task(s) for user ")
    body = ast.literal_eval(second)
    assert body["status"] == "ok" and body["pool"]["max"] == 2 and body["pool"]["checked_out"] == 0
    with psycopg.connect(libpq(migrated_db)) as conn:
        assert conn.execute("SELECT count(*) FROM tasks WHERE title = 'Try todoctl.app'").fetchone()[0] == 1


def test_the_example_reports_a_down_database_without_its_password():
    env = {**os.environ, "DATABASE_URL": f"postgresql://app:{SECRET}@127.0.0.1:1/todo", "DB_CONNECT_TIMEOUT": "2"}
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode != 0  # session_scope raises: the script has no database
    assert SECRET not in done.stdout + done.stderr
    assert "OperationalError" in done.stderr


def test_the_endpoints_through_get_session(example, app_engine, migrated_db):
    user_id = uuid.uuid4()
    with psycopg.connect(libpq(migrated_db)) as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, %s)",
            (user_id, f"{user_id.hex[:8]}@example.com", "$2b$12$" + "a" * 53),
        )
    created = request(example.create_task, user_id=user_id, title="Write the release notes")
    assert created.id and created.status == "pending"
    assert [t.title for t in request(example.read_tasks, user_id=user_id)] == ["Write the release notes"]
    # A failing request (a blank title breaks a CHECK constraint at commit): rolled back, connection returned.
    with pytest.raises(IntegrityError):
        request(example.create_task, user_id=user_id, title="   ")
    assert len(request(example.read_tasks, user_id=user_id)) == 1
    assert app_db.pool_stats(app_engine).checked_out == 0
    assert example.health_db()["status"] == "ok"


def test_the_docs_show_the_example_as_it_is():
    """The docs' code block is the file the tests run, not a copy that can drift from it."""
    from tests.helpers import REPO, docs_page

    example = (REPO / "examples" / "app_usage.py").read_text()
    body = example[example.index("import uuid") : example.index("if __name__")].rstrip()
    assert "```python\n" + body + "\n```" in docs_page("todo-app.md")

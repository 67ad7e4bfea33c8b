"""Never a database other than the one named: an app's env.py that ignores the connection todoctl
hands it (``config.attributes["connection"]``) is refused before any revision runs.

The app is shelf (tests/apps/shelf), copied with the stock Alembic env.py of the "generic"
template, whose engine comes from ``sqlalchemy.url`` in its alembic.ini: pointed at database B
while todoctl is told to work on database A. Every command that would run env.py online must
exit 4 and leave both databases as they were.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SHELF, table_names
from todoctl.cli.app import app

runner = CliRunner()

# Alembic's own "generic" template env.py (alembic init), as most apps ship it.
STOCK_ENV = '''
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context
from shelf.models import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# The same env.py with the few lines the refusal's hint shows.
FIXED_ENV = STOCK_ENV.replace(
    '''    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()''',
    '''    shared = config.attributes.get("connection")
    if shared is not None:
        context.configure(connection=shared, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()''',
)


def shelf_copy(tmp_path: Path, env_py: str, other_url: str) -> Path:
    """shelf with its env.py replaced, and its alembic.ini naming ``other_url``."""
    target = tmp_path / "shelf-app"
    shutil.copytree(SHELF, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "shelf" / "migrations" / "env.py").write_text(env_py)
    ini = target / "alembic.ini"
    lines = [
        f"sqlalchemy.url = {other_url.replace('%', '%%')}" if line.startswith("sqlalchemy.url") else line
        for line in ini.read_text().splitlines()
    ]
    ini.write_text("\n".join(lines) + "\n")
    return target


@pytest.fixture
def two_databases(pg, empty_db):
    """(A, B): A is the one todoctl is told to use; B the one the stock env.py names."""
    other = pg.create_database()
    yield empty_db, pg.url_for(other)
    pg.drop_database(other)


def invoke(project: Path, url, *args: str):
    return runner.invoke(app, ["--project", str(project), "-d", url.url, *args])


@pytest.mark.parametrize(
    "args",
    [
        ("migrate", "up"),
        ("migrate", "up", "+1"),
        ("migrate", "stamp", "head"),
        ("migrate", "verify"),
        ("migrate", "reset", "--yes"),
    ],
    ids=" ".join,
)
def test_a_stock_env_py_that_builds_its_own_engine_is_refused_and_nothing_is_written(pg, tmp_path, two_databases, args):
    a, b = two_databases
    project = shelf_copy(tmp_path, STOCK_ENV, b.libpq)
    result = invoke(project, a, *args)
    assert result.exit_code == 4, result.output
    assert "env.py" in result.output and 'config.attributes["connection"]' in result.output
    assert "nothing was run" in result.output
    assert table_names(pg, a) == set() and table_names(pg, b) == set()


def test_the_refusal_holds_when_the_env_py_own_database_cannot_be_reached(pg, tmp_path, empty_db):
    project = shelf_copy(tmp_path, STOCK_ENV, "postgresql+psycopg://nobody@127.0.0.1:1/nowhere")
    result = invoke(project, empty_db, "migrate", "up")
    assert result.exit_code == 4, result.output
    assert "connection of its own" in result.output
    assert table_names(pg, empty_db) == set()


def test_migrate_new_with_a_stock_env_py_writes_no_revision(pg, tmp_path, two_databases):
    a, b = two_databases
    good = invoke(SHELF, a, "migrate", "up")
    assert good.exit_code == 0, good.output
    project = shelf_copy(tmp_path, STOCK_ENV, b.libpq)
    versions = project / "shelf" / "migrations" / "versions"
    before = sorted(p.name for p in versions.glob("*.py"))
    result = invoke(project, a, "migrate", "new", "-m", "anything")
    assert result.exit_code == 4, result.output
    assert sorted(p.name for p in versions.glob("*.py")) == before
    assert table_names(pg, b) == set()


def test_migrate_down_with_a_stock_env_py_leaves_the_schema(pg, tmp_path, two_databases):
    a, b = two_databases
    assert invoke(SHELF, a, "migrate", "up").exit_code == 0
    tables = table_names(pg, a)
    project = shelf_copy(tmp_path, STOCK_ENV, b.libpq)
    result = invoke(project, a, "migrate", "down", "--yes")
    assert result.exit_code == 4, result.output
    assert table_names(pg, a) == tables and table_names(pg, b) == set()


def test_the_env_py_with_the_hinted_lines_migrates_the_named_database(pg, tmp_path, two_databases):
    a, b = two_databases
    project = shelf_copy(tmp_path, FIXED_ENV, b.libpq)
    result = invoke(project, a, "migrate", "up")
    assert result.exit_code == 0, result.output
    assert {"user", "book", "loan", "category"} <= table_names(pg, a)
    assert table_names(pg, b) == set()


def test_offline_sql_runs_a_stock_env_py_as_it_is(tmp_path, two_databases):
    a, b = two_databases
    project = shelf_copy(tmp_path, STOCK_ENV, b.libpq)
    result = runner.invoke(app, ["--project", str(project), "migrate", "sql", "base:head"])
    assert result.exit_code == 0, result.output
    assert 'CREATE TABLE "user"' in result.output


@pytest.mark.parametrize("args", [("schema", "diff", "--against", "history"), ("migrate", "check")], ids=" ".join)
def test_a_history_replay_with_a_stock_env_py_is_refused(pg, tmp_path, two_databases, args):
    a, b = two_databases
    assert invoke(SHELF, a, "migrate", "up").exit_code == 0
    pg.execute("ALTER TABLE author ADD COLUMN nickname text", database=a.database)  # drift: check replays to blame it
    project = shelf_copy(tmp_path, STOCK_ENV, b.libpq)
    result = invoke(project, a, *args)
    assert result.exit_code == 4, result.output
    assert table_names(pg, b) == set()

"""Stock tools plug in: the `alembic` CLI from the checkout, pytest-alembic's built-in tests,
Alembic's connection-sharing recipe (an Engine or a Connection in config.attributes), and
importing any module of the package runs nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from alembic import command

from tests.helpers import REPO, copy_migrations, revision_source, todoctl_env
from todoctl.core import migrate

HEAD = migrate.history()[-1].revision


# ---------------------------------------------------------------- importing runs nothing


def test_importing_every_module_runs_nothing(tmp_path):
    listing = tmp_path / "imported.txt"
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import todoctl

        names = [m.name for m in pkgutil.walk_packages(todoctl.__path__, "todoctl.")]
        for name in names:
            importlib.import_module(name)
        with open(sys.argv[1], "w") as out:
            out.write("\\n".join(names))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(listing)], cwd=REPO, env=todoctl_env(), capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    imported = listing.read_text().splitlines()
    assert "todoctl.__main__" in imported and "todoctl.cli.app" in imported and len(imported) > 30


# ---------------------------------------------------------------- the stock alembic CLI


def alembic(url, *args: str) -> subprocess.CompletedProcess:
    # The URL goes in the environment, never in argv.
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=REPO,
        env=todoctl_env(DATABASE_URL=url.url),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_stock_alembic_commands_work_from_the_checkout(pg, empty_db):
    up = alembic(empty_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert pg.execute("SELECT version_num FROM alembic_version", database=empty_db.database) == [(HEAD,)]

    check = alembic(empty_db, "check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    down = alembic(empty_db, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    tables = pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=empty_db.database)
    assert tables == [("alembic_version",)]

    offline = alembic(empty_db, "upgrade", "head", "--sql")
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.index("SET lock_timeout = '5s'") < offline.stdout.index("CREATE TABLE users")
    assert pg.execute("SELECT count(*) FROM alembic_version", database=empty_db.database) == [(0,)]  # offline: nothing ran


# ---------------------------------------------------------------- connection sharing


SEEN = """op.execute(
    "CREATE TABLE settings_seen AS SELECT current_setting('lock_timeout') AS lock_timeout, "
    "current_setting('statement_timeout') AS statement_timeout, "
    "current_setting('client_connection_check_interval') AS check_interval"
)"""


@pytest.mark.parametrize("shared", ["engine", "connection", "nothing"])
def test_env_takes_an_engine_a_connection_or_nothing_and_sets_todoctl_s_session(
    pg, empty_db, tmp_path, monkeypatch, shared
):
    from sqlalchemy import create_engine

    location = copy_migrations(tmp_path, {"0099_seen.py": revision_source("0099", HEAD, SEEN)})
    config = migrate.alembic_config(location)
    engine = create_engine(empty_db.url)
    try:
        if shared == "engine":  # pytest-alembic's alembic_engine
            config.attributes["connection"] = engine
            command.upgrade(config, "head")
        elif shared == "connection":
            with engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        else:  # env.py builds its own, from DATABASE_URL like stock `alembic`
            monkeypatch.setenv("DATABASE_URL", empty_db.url)
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    seen = pg.execute("SELECT lock_timeout, statement_timeout, check_interval FROM settings_seen", database=empty_db.database)
    assert seen == [("5s", "10min", "2s")]
    assert pg.execute("SELECT version_num FROM alembic_version", database=empty_db.database) == [("0099",)]


def test_a_caller_s_transaction_is_refused_in_words(pg, empty_db):
    # The cookbook's `with engine.begin()` cannot hold this history: CREATE INDEX CONCURRENTLY
    # and one transaction per revision. Said plainly, before anything runs.
    from alembic.util import CommandError
    from sqlalchemy import create_engine

    engine = create_engine(empty_db.url)
    config = migrate.alembic_config()
    try:
        with pytest.raises(CommandError, match="share `engine.connect\\(\\)` or the Engine"):
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
    finally:
        engine.dispose()
    assert pg.execute("SELECT to_regclass('alembic_version')", database=empty_db.database) == [(None,)]


# ---------------------------------------------------------------- pytest-alembic's built-in tests


CONFTEST = '''
import os

import pytest
from alembic.config import Config
from sqlalchemy import create_engine


@pytest.fixture
def alembic_config():
    return Config(os.path.join(os.environ["TODOCTL_CHECKOUT"], "alembic.ini"))


@pytest.fixture
def alembic_engine():
    # An Engine, as pytest-alembic's documentation has it.
    engine = create_engine(os.environ["PYTEST_ALEMBIC_URL"])
    yield engine
    engine.dispose()
'''


def test_pytest_alembic_built_in_tests_pass_on_the_history(empty_db, tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(CONFTEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--test-alembic", "-v", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=todoctl_env(TODOCTL_CHECKOUT=str(REPO), PYTEST_ALEMBIC_URL=empty_db.url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for name in ("test_single_head_revision", "test_upgrade", "test_model_definitions_match_ddl", "test_up_down_consistency"):
        assert f"{name} PASSED" in result.stdout, result.stdout[-4000:]
    assert "4 passed" in result.stdout

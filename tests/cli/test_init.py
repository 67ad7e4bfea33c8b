"""`todoctl init`: the [tool.todoctl] table written for an existing app (found from what the app
says) or a new one (with alembic init's files and todoctl's env.py); nothing overwritten unasked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import SHELF, table_names
from tests.helpers import todoctl_env
from todoctl.cli.app import app

runner = CliRunner()


def shelf_without_table(tmp_path: Path) -> Path:
    root = tmp_path / "shelf-app"
    shutil.copytree(SHELF, root, ignore=shutil.ignore_patterns("__pycache__"))
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.split("[tool.todoctl]")[0])
    return root


def table_of(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["todoctl"]


def test_init_finds_an_existing_apps_models_migrations_and_engine(tmp_path):
    root = shelf_without_table(tmp_path)
    before = (root / "pyproject.toml").read_text()
    dry = runner.invoke(app, ["init", str(root), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    document = json.loads(dry.output)
    assert document["table"] == {
        "metadata": "shelf.models:SQLModel.metadata",
        "migrations": "shelf/migrations",
        "python_path": ["."],
        "engine": "shelf.db:engine",
        "sources": ["shelf/**/*.py"],
        "queries": ["shelf.queries"],
    }
    assert "env.py" in document["found"]["metadata"] and "alembic.ini" in document["found"]["migrations"]
    assert (root / "pyproject.toml").read_text() == before  # --dry-run writes nothing

    wrote = runner.invoke(app, ["init", str(root)])
    assert wrote.exit_code == 0, wrote.output
    assert table_of(root)["metadata"] == "shelf.models:SQLModel.metadata"
    assert (root / "pyproject.toml").read_text().startswith(before.rstrip("\n"))  # the rest kept as it was


def test_init_reads_a_stock_env_py_target_metadata(tmp_path):
    """The full-stack FastAPI template's way: `from app.models import SQLModel`, then target_metadata."""
    root = shelf_without_table(tmp_path)
    (root / "shelf" / "migrations" / "env.py").write_text(
        "from alembic import context\nimport shelf.models\n\n"
        "config = context.config\ntarget_metadata = shelf.models.SQLModel.metadata\n"
    )
    result = runner.invoke(app, ["init", str(root), "--dry-run", "--json"])
    assert json.loads(result.output)["table"]["metadata"] == "shelf.models:SQLModel.metadata"


def test_an_existing_table_is_replaced_only_when_confirmed(tmp_path):
    root = shelf_without_table(tmp_path)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + '\n[tool.todoctl]\nmetadata = "old:thing"\n\n[tool.other]\nkeep = true\n'
    )
    refused = runner.invoke(app, ["init", str(root)])
    assert refused.exit_code == 4 and "already has [tool.todoctl]" in refused.output
    assert table_of(root) == {"metadata": "old:thing"}
    replaced = runner.invoke(app, ["init", str(root), "--yes"])
    assert replaced.exit_code == 0, replaced.output
    data = tomllib.loads((root / "pyproject.toml").read_text())
    assert data["tool"]["todoctl"]["metadata"] == "shelf.models:SQLModel.metadata"
    assert data["tool"]["other"] == {"keep": True}


def test_replacing_a_table_keeps_every_key_init_does_not_find_and_names_what_it_replaces(tmp_path):
    """`init --yes` dropped the queries and seeds keys a user had added (newcomer F12)."""
    root = shelf_without_table(tmp_path)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text()
        + '\n[tool.todoctl]\nmetadata = "old:thing"\nqueries = ["shelf.my_queries"]\nseeds = "fixtures"\n'
    )
    dry = runner.invoke(app, ["init", str(root), "--dry-run", "--json"])
    document = json.loads(dry.output)
    assert document["table"]["seeds"] == "fixtures" and "kept" in document["found"]["seeds"]
    # What init finds replaces what was there, and says so.
    assert 'replaces "old:thing"' in document["found"]["metadata"]
    assert 'replaces ["shelf.my_queries"]' in document["found"]["queries"]
    assert runner.invoke(app, ["init", str(root), "--yes"]).exit_code == 0
    table = table_of(root)
    assert table["seeds"] == "fixtures" and table["queries"] == ["shelf.queries"]
    assert table["metadata"] == "shelf.models:SQLModel.metadata"


def test_init_finds_the_apps_named_queries_and_seed_profiles(tmp_path):
    root = shelf_without_table(tmp_path)
    (root / "shelf" / "reports.py").write_text("from todoctl import query, Param\n")
    (root / "seeds").mkdir(exist_ok=True)
    (root / "seeds" / "demo.toml").write_text("")
    document = json.loads(runner.invoke(app, ["init", str(root), "--dry-run", "--json"]).output)
    assert "shelf.reports" in document["table"]["queries"] and document["table"]["seeds"] == "seeds"


def test_what_cannot_be_found_is_exit_2_naming_the_option(tmp_path):
    root = tmp_path / "bare"
    root.mkdir()
    (root / "README.md").write_text("an app without models yet\n")
    result = runner.invoke(app, ["init", str(root)])
    assert result.exit_code == 2
    assert "metadata" in result.output and "--metadata" in result.output
    assert not (root / "pyproject.toml").exists()


def test_init_in_an_empty_directory_starts_an_app_that_migrates(tmp_path, pg, empty_db):
    root = tmp_path / "newapp"
    root.mkdir()
    env = todoctl_env()

    def todoctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "todoctl", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)

    made = todoctl("init")
    assert made.returncode == 0, made.stderr
    for name in ("alembic.ini", "app/models.py", "migrations/env.py", "migrations/script.py.mako"):
        assert (root / name).is_file(), name
    again = todoctl("init")
    assert again.returncode == 4  # no terminal to ask: nothing overwritten
    new = todoctl("-d", empty_db.url, "migrate", "new", "-m", "first tables")
    assert new.returncode == 0, new.stderr
    up = todoctl("-d", empty_db.url, "migrate", "up")
    assert up.returncode == 0, up.stderr
    assert "item" in table_names(pg, empty_db)
    # Stock alembic works from the new app's directory too (its env.py is todoctl's).
    alembic = subprocess.run([str(Path(sys.executable).parent / "alembic"), "current"], cwd=root,
                             env={**env, "DATABASE_URL": empty_db.libpq}, capture_output=True, text=True, timeout=120)
    assert alembic.returncode == 0, alembic.stderr
    assert "0001" in alembic.stdout + alembic.stderr

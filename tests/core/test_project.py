"""The project file: [tool.todoctl] found as pytest and ruff find theirs, checked key by key, and the
app imported only when asked (every mistake exit 2 naming the key, the file and its line)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import SHELF
from tests.helpers import REPO, todoctl_env
from todoctl import project
from todoctl.errors import ExitCode, TodoctlError


FILE = "pyproject.toml"


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(fn, *args, **kwargs) -> TodoctlError:
    with pytest.raises(TodoctlError) as caught:
        fn(*args, **kwargs)
    return caught.value


# ---------------------------------------------------------------- finding the file


def test_the_nearest_pyproject_with_the_table_wins_walking_up(tmp_path):
    outer = write(tmp_path, '[tool.todoctl]\nmetadata = "a:b"\n')
    write(tmp_path / "pkg", '[project]\nname = "no-table-here"\n')  # a pyproject without the table is passed by
    deep = tmp_path / "pkg" / "src" / "deeper"
    deep.mkdir(parents=True)
    assert project.find(deep) == outer
    inner = write(tmp_path / "pkg" / "src", '[tool.todoctl]\nmetadata = "c:d"\n')
    assert project.find(deep) == inner


def test_no_project_file_means_the_bundled_todo_app(tmp_path):
    assert project.find(tmp_path / "nowhere") is None or project.find(tmp_path) is None
    bundled = project.bundled()
    assert bundled.file is None and bundled.name == "todo"
    assert bundled.metadata().tables.keys() >= {"users", "tasks"}


def test_todoctl_declares_the_todo_app_through_the_same_table():
    """todoctl's own pyproject.toml and the bundled default are the same app."""
    checkout = project.load(REPO / "pyproject.toml")
    bundled = project.bundled()
    assert checkout.metadata_ref == bundled.metadata_ref and checkout.queries == bundled.queries
    assert checkout.engine_ref == bundled.engine_ref and checkout.name == bundled.name == "todo"
    assert checkout.migrations == bundled.migrations.resolve() and checkout.seeds == bundled.seeds.resolve()
    assert checkout.metadata() is bundled.metadata()


def test_project_option_and_variable_name_the_directory(tmp_path, monkeypatch):
    write(tmp_path / "app", '[tool.todoctl]\nmetadata = "x:y"\n')
    monkeypatch.setenv("TODOCTL_PROJECT", str(tmp_path / "app"))
    project.select(None)
    assert project.current().root == (tmp_path / "app").resolve()
    project.select(str(SHELF))
    assert project.current().root == SHELF
    project.select(None)


@pytest.mark.parametrize(
    "named, expected",
    [("missing-dir", "no such directory"), ("empty-dir", "no pyproject.toml there")],
)
def test_a_project_directory_that_is_not_one_is_exit_2(tmp_path, named, expected):
    (tmp_path / "empty-dir").mkdir()
    error = error_of(project.from_directory, tmp_path / named)
    assert error.exit_code == ExitCode.USAGE and expected in error.message


# ---------------------------------------------------------------- checking the table


@pytest.mark.parametrize(
    "body, key, fragment",
    [
        ('metadata = 42', "metadata", "must be a \"module:attribute\" string"),
        ('metadata = "a:b"\npython_path = "."', "python_path", "must be a list of directories"),
        ('metadata = "a:b"\nqueries = ["ok", 3]', "queries", "must be a list of module names"),
        ('metadata = "a:b"\nmigratons = "x"', "migratons", "did you mean 'migrations'"),
        ('metadata = "no-colon"', "metadata", "must be a \"module:attribute\" string"),
        ('metadata = "a:b"\nengine = "no-colon"', "engine", "must be a \"module:attribute\" string"),
        ('metadata = "a:b"\nmigrations = "nope"', "migrations", "no directory"),
        ('metadata = "a:b"\nseeds = "nope"', "seeds", "no directory"),
        ('metadata = "a:b"\nalembic_ini = "nope.ini"', "alembic_ini", "no file"),
    ],
)
def test_a_key_of_the_wrong_type_is_exit_2_with_the_file_and_line(tmp_path, body, key, fragment):
    path = write(tmp_path, f'[project]\nname = "x"\n\n[tool.todoctl]\n{body}\n')
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(key))
    error = error_of(project.load, path)
    assert error.exit_code == ExitCode.USAGE
    assert f"{path} line {line}" in error.message and fragment in error.message + (error.hint or "")


def test_a_table_without_metadata_and_a_broken_file_are_exit_2(tmp_path):
    error = error_of(project.load, write(tmp_path / "a", '[tool.todoctl]\nmigrations = "."\n'))
    assert error.exit_code == ExitCode.USAGE and "no metadata key" in error.message
    error = error_of(project.load, write(tmp_path / "b", '[tool.todoctl\nmetadata = "a:b"\n'))
    assert error.exit_code == ExitCode.USAGE and "not valid TOML" in error.message


def test_a_pyproject_that_is_not_a_file_is_exit_2_not_skipped(tmp_path):
    """Skipped, the bundled Todo app (or a project further up) was used, exit 0 (attack pass 2, F11)."""
    (tmp_path / "app" / FILE).mkdir(parents=True)
    error = error_of(project.find, tmp_path / "app")
    assert error.exit_code == ExitCode.USAGE and "is not a file" in error.message


# ---------------------------------------------------------------- importing the app


def make_app(tmp_path: Path, models: str, metadata: str = "models:SQLModel.metadata") -> project.Project:
    """An app whose package has a name of its own (one process imports each name once)."""
    package = f"app_{tmp_path.name}_{abs(hash(str(tmp_path))) % 10**8}"
    (tmp_path / package).mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "models.py").write_text(textwrap.dedent(models))
    return project.load(write(tmp_path, f'[tool.todoctl]\nmetadata = "{package}.{metadata}"\n'))


def test_an_app_module_that_fails_to_import_is_named_with_its_line(tmp_path):
    app = make_app(tmp_path / "a", "import os\nx = 1\nraise ValueError('broken on purpose')\n")
    error = error_of(app.metadata)
    assert error.exit_code == ExitCode.USAGE
    assert "ValueError: broken on purpose" in error.message and "models.py line 3" in error.message
    assert f"{app.file} line 2" in error.message  # where metadata is set


@pytest.mark.parametrize("code", ["0", "None", "'bye'"])
def test_an_app_module_that_exits_while_imported_is_exit_2_never_its_own_code(tmp_path, code):
    """`raise SystemExit(0)` in the app used to end every command with exit 0, gates included."""
    app = make_app(tmp_path / f"x{abs(hash(code))}", f"import sys\nsys.exit({code})\n")
    error = error_of(app.metadata)
    assert error.exit_code == ExitCode.USAGE
    assert "called exit(" in error.message and "models.py line 2" in error.message and "__main__" in error.hint


def test_what_the_app_prints_while_imported_goes_to_stderr_so_json_parses(tmp_path):
    import json

    models = """\
        print("hello from the app")
        from sqlalchemy import Column, Integer, MetaData, Table
        metadata = MetaData()
        Table("things", metadata, Column("id", Integer, primary_key=True))
    """
    app = make_app(tmp_path / "p", models, metadata="models:metadata")
    result = subprocess.run(
        [sys.executable, "-m", "todoctl", "--project", str(app.file.parent), "seed", "--dry-run", "--json"],
        capture_output=True, text=True, env=todoctl_env(TODOCTL_HOME=str(tmp_path / "home")), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["command"] == "seed"
    assert "hello from the app" in result.stderr


def test_an_app_module_that_is_not_there_says_where_it_looked(tmp_path):
    path = write(tmp_path / "b", '[tool.todoctl]\nmetadata = "notthere.models:metadata"\n')
    error = error_of(project.load(path).metadata)
    assert error.exit_code == ExitCode.USAGE and "no module named 'notthere.models'" in error.message


def test_an_attribute_that_is_not_a_metadata_is_exit_2(tmp_path):
    app = make_app(tmp_path / "c", "metadata = 'just a string'\n", metadata="models:metadata")
    error = error_of(app.metadata)
    assert error.exit_code == ExitCode.USAGE and "is a str, not a SQLAlchemy MetaData" in error.message
    app = make_app(tmp_path / "d", "x = 1\n", metadata="models:missing")
    assert "has no attribute 'missing'" in error_of(app.metadata).message


def test_another_app_imports_no_todo_module_and_leaves_sqlmodel_metadata_alone(tmp_path):
    """With shelf configured, commands run without importing the Todo app, and shelf's metadata
    holds shelf's tables only, under its own (default) constraint names."""
    code = textwrap.dedent(
        """
        import sys
        from todoctl.cli.app import app
        from typer.testing import CliRunner
        for args in (["migrate", "history"], ["migrate", "heads"], ["migrate", "sql", "base:head"]):
            result = CliRunner().invoke(app, ["--project", sys.argv[1], *args])
            assert result.exit_code == 0, result.output
        from sqlmodel import SQLModel
        todo = sorted(m for m in sys.modules if m.startswith(("todoctl.todo", "todoctl.models", "todoctl.queries", "todoctl.app")))
        print("TODO", todo)
        print("TABLES", sorted(SQLModel.metadata.tables))
        print("CONVENTION", SQLModel.metadata.naming_convention)
        """
    )
    result = subprocess.run([sys.executable, "-c", code, str(SHELF)], capture_output=True, text=True,
                            env=todoctl_env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "TODO []" in result.stdout
    assert "TABLES ['author', 'book', 'bookauthorlink', 'category', 'loan', 'user']" in result.stdout
    assert "'ck'" not in result.stdout.split("CONVENTION", 1)[1]  # SQLAlchemy's default convention only


# ---------------------------------------------------------------- the Alembic configuration


def test_an_alembic_ini_deeper_than_one_level_is_found_by_its_script_location(tmp_path, use_app):
    """A backend/ app whose alembic.ini sits two levels above its script directory."""
    root = tmp_path / "repo"
    shutil.copytree(SHELF, root / "backend", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "backend" / "pyproject.toml").unlink()
    write(root, '[tool.todoctl]\nmetadata = "shelf.models:SQLModel.metadata"\nmigrations = "backend/shelf/migrations"\npython_path = ["backend"]\n')
    from todoctl.core.history import _located

    use_app(project.load(root / "pyproject.toml"))
    where = _located()
    assert where.ini == root / "backend" / "alembic.ini"
    assert where.location == root / "backend" / "shelf" / "migrations"


def test_without_a_migrations_key_the_ini_names_the_directory(tmp_path, use_app, monkeypatch):
    root = tmp_path / "app"
    shutil.copytree(SHELF, root, ignore=shutil.ignore_patterns("__pycache__"))
    write(root, '[tool.todoctl]\nmetadata = "shelf.models:SQLModel.metadata"\n')
    from todoctl.core.history import _located

    use_app(project.load(root / "pyproject.toml"))
    assert _located().location == root / "shelf" / "migrations"
    other = tmp_path / "other.ini"
    other.write_text(f"[alembic]\nscript_location = {root / 'shelf' / 'migrations'}\n")
    monkeypatch.setenv("ALEMBIC_CONFIG", str(other))
    assert _located().ini == other


def test_migrate_history_on_shelf_reads_shelf_history():
    result = subprocess.run(
        [sys.executable, "-m", "todoctl", "--project", str(SHELF), "migrate", "history", "--json"],
        capture_output=True, text=True, env=todoctl_env(), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "3f9a1c2e7b40" in result.stdout and "e05b9f7a3c61" in result.stdout and "0008" not in result.stdout

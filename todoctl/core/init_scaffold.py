"""`todoctl init --scaffold`: the starting files of a new app (models, Alembic's env.py and ini)."""

from __future__ import annotations

from pathlib import Path

from todoctl.errors import ExitCode, TodoctlError

_MODELS = '''"""The app's tables. Every table model registers on SQLModel.metadata, which todoctl and Alembic read."""

from datetime import datetime, timezone
from typing import Optional

from sqlmodel import Field, SQLModel


class Item(SQLModel, table=True):
    """An example table: change it, then `todoctl migrate new -m "first tables"`."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


metadata = SQLModel.metadata  # what [tool.todoctl] and env.py name
'''


_ENV = '''"""Alembic environment: todoctl's one-call body (the shared connection, its lock and timeouts, offline mode)."""

from app.models import SQLModel
from todoctl.alembic import run_migrations

run_migrations(SQLModel.metadata)
'''


_INI = """[alembic]
script_location = %(here)s/migrations
file_template = %%(rev)s_%%(slug)s
prepend_sys_path = .
path_separator = os

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def write_scaffold(root: Path, table: dict, scaffold: list[str]) -> list[str]:
    """Write the scaffold's files under ``root`` (never over one that exists); the paths written."""
    from importlib.resources import files

    template = files("alembic").joinpath("templates/generic/script.py.mako").read_text(encoding="utf-8")
    module = str(table["metadata"]).partition(":")[0]
    migrations = str(table["migrations"])
    contents = {"alembic.ini": _INI.replace("%(here)s/migrations", f"%(here)s/{migrations}")}
    for name in scaffold:
        if name.endswith("__init__.py"):
            contents[name] = ""
    contents["/".join(module.split(".")) + ".py"] = _MODELS
    contents[f"{migrations}/env.py"] = _ENV.replace("from app.models import", f"from {module} import")
    contents[f"{migrations}/script.py.mako"] = template
    for name in contents:
        path = root / name
        if path.exists():
            raise TodoctlError(f"{path} exists; todoctl init never overwrites", hint="move it away, or declare the app by hand", exit_code=ExitCode.REFUSED)
    (root / migrations / "versions").mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        pyproject.write_text(f'[project]\nname = "{_project_name(root)}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
                             'dependencies = ["sqlmodel", "alembic", "psycopg[binary]"]\n', encoding="utf-8")
    return written


def _project_name(root: Path) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in root.name.lower()).strip("-_")
    return cleaned or "app"

"""`todoctl init`: declare an app in its pyproject.toml, finding what can be found.

In an existing app the ``[tool.todoctl]`` table is derived from what the app already says:

- the Alembic directory: an ``alembic.ini``'s ``script_location``, else a folder holding
  ``env.py`` and ``versions/``;
- the MetaData: what ``env.py`` assigns to ``target_metadata`` (read with Python's own parser,
  ``ast``), else the module defining the most ``table=True`` models;
- the engine: a module-level ``engine = create_engine(...)``;
- sources: the app's top-level package; queries: modules importing todoctl's ``query``; seeds.

(How each is found: init_detect.py.)

In an empty directory it also writes what ``alembic init`` would, with todoctl's ``env.py`` and a
first model to start from. Nothing that exists is overwritten: the caller asks first.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from todoctl.core.init_detect import engine_in, find_migrations, metadata_from_env, metadata_from_models, queries_in, seeds_in
from todoctl.core.init_scaffold import write_scaffold
from todoctl.errors import usage_error



@dataclass
class InitPlan:
    root: str
    pyproject: str  # the file the table goes into
    table: dict[str, object]  # the [tool.todoctl] keys, in order
    found: dict[str, str] = field(default_factory=dict)  # key -> how it was found
    missing: list[str] = field(default_factory=list)  # keys that could not be found (need an option)
    scaffold: list[str] = field(default_factory=list)  # files an empty directory gets
    replaces_table: bool = False  # the pyproject already has [tool.todoctl]
    written: list[str] = field(default_factory=list)
    dry_run: bool = False

    __json_properties__ = ("toml",)

    @property
    def toml(self) -> str:
        return render_table(self.table)


def render_table(table: dict[str, object]) -> str:
    """The table as TOML text: what init found, and what an existing table held, whatever its type."""
    lines = ["[tool.todoctl]"]
    for key, value in table.items():
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text)["tool"]["todoctl"] != table:  # what we write must read back as itself
        raise usage_error("todoctl init cannot write the existing [tool.todoctl] back unchanged", "edit the table by hand")
    return text


def _toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "-_" for c in key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return _toml_string(str(value))


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- the plan


def plan(root: Path, *, metadata: str | None = None, migrations: str | None = None, engine: str | None = None) -> InitPlan:
    """What `todoctl init` would write in ``root`` (nothing is written here)."""
    root = root.resolve()
    if not root.is_dir():
        raise usage_error(f"{root} is not a directory", "run todoctl init in the app's directory")
    pyproject = root / "pyproject.toml"
    replaces = False
    existing: dict[str, object] = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise usage_error(f"{pyproject} is not valid TOML: {exc}", "fix it first; todoctl adds a table to it") from None
        replaces = isinstance(data.get("tool"), dict) and "todoctl" in data["tool"]
        if replaces and isinstance(data["tool"]["todoctl"], dict):
            existing = dict(data["tool"]["todoctl"])
    empty = not any(p for p in root.iterdir() if p.name not in (".git",) and not p.name.startswith("."))
    result = InitPlan(str(root), str(pyproject), {}, replaces_table=replaces)
    if empty:
        return _scaffold_plan(result, metadata=metadata, migrations=migrations, engine=engine)
    found_dir, how = (root / migrations, "--migrations") if migrations else find_migrations(root)
    meta = metadata
    meta_how = "--metadata" if metadata else ""
    if meta is None and found_dir is not None and (found_dir / "env.py").is_file():
        meta = metadata_from_env(found_dir / "env.py")
        meta_how = f"target_metadata in {(found_dir / 'env.py').relative_to(root)}" if meta else ""
    models_path = None
    if meta is None:
        meta, models_path = metadata_from_models(root)
        meta_how = f"table=True models in {models_path.relative_to(root)}" if meta else ""
    table: dict[str, object] = {}
    if meta:
        table["metadata"] = meta
        result.found["metadata"] = meta_how
    else:
        result.missing.append("metadata")
    if found_dir is not None:
        table["migrations"] = found_dir.resolve().relative_to(root).as_posix() if found_dir.resolve().is_relative_to(root) else str(found_dir)
        result.found["migrations"] = how
    else:
        result.missing.append("migrations")
    table["python_path"] = ["."]
    the_engine = engine or engine_in(root)
    if the_engine:
        table["engine"] = the_engine
        result.found["engine"] = "--engine" if engine else "a module-level create_engine(...)"
    if meta:
        package = meta.split(":")[0].split(".")[0]
        if (root / package).is_dir():
            table["sources"] = [f"{package}/**/*.py"]
    queries = queries_in(root)
    if queries:
        table["queries"] = queries
        result.found["queries"] = "modules that import todoctl's query"
    seeds = seeds_in(root)
    if seeds:
        table["seeds"] = seeds
        result.found["seeds"] = "seed profiles (*.toml) in seeds/"
    # Keys init does not find stay as the existing table has them: init refreshes what it can
    # detect and never drops a key someone wrote. A value it replaces is named.
    for key, value in existing.items():
        if key not in table:
            table[key] = value
            result.found[key] = "the existing [tool.todoctl] (kept)"
            if key in result.missing:
                result.missing.remove(key)
        elif table[key] != value:
            result.found[key] += f" (replaces {_toml_value(value)})"
    result.table = table
    return result


def _scaffold_plan(result: InitPlan, *, metadata: str | None, migrations: str | None, engine: str | None) -> InitPlan:
    """A new app, laid out where the options say (else ``app/models.py`` and ``migrations/``)."""
    metadata = metadata or "app.models:SQLModel.metadata"
    module, _, attribute = metadata.partition(":")
    if attribute not in ("SQLModel.metadata", "metadata") or not module or not all(p.isidentifier() for p in module.split(".")):
        raise usage_error(
            f"--metadata {metadata}: a new app's models module defines SQLModel.metadata (and metadata)",
            "for example --metadata app.models:SQLModel.metadata",
        )
    migrations = (migrations or "migrations").strip("/")
    package = module.split(".")[0]
    result.table = {"metadata": metadata, "migrations": migrations, "python_path": ["."]}
    if engine:
        result.table["engine"] = engine
    result.table["sources"] = [f"{package}/**/*.py"]
    result.found = {key: "a new app" for key in result.table}
    parts = module.split(".")
    packages = ["/".join(parts[: i + 1]) + "/__init__.py" for i in range(len(parts) - 1)]
    result.scaffold = [
        "pyproject.toml", "alembic.ini", *packages, "/".join(parts) + ".py",
        f"{migrations}/env.py", f"{migrations}/script.py.mako", f"{migrations}/versions/",
    ]
    return result


def require_complete(result: InitPlan) -> None:
    if result.missing:
        options = " ".join(f"--{key} ..." for key in result.missing)
        raise usage_error(
            f"could not find the app's {' and '.join(result.missing)} in {result.root}",
            f"name it: todoctl init {options} (e.g. --metadata app.models:SQLModel.metadata --migrations app/alembic)",
        )


# ---------------------------------------------------------------- writing


def write(result: InitPlan) -> InitPlan:
    """Write the table (appended to pyproject.toml, or replacing an existing [tool.todoctl] the caller
    agreed to replace) and, for a new app, the scaffold. Files that exist are never touched."""
    require_complete(result)
    root = Path(result.root)
    pyproject = Path(result.pyproject)
    if result.scaffold:
        result.written += write_scaffold(root, result.table, result.scaffold)
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    if result.replaces_table:
        text = _without_table(text)
    if text and not text.endswith("\n"):
        text += "\n"
    text = text + ("\n" if text else "") + result.toml
    _atomic_write(pyproject, text)
    result.written.append(str(pyproject))
    return result


def _without_table(text: str) -> str:
    """``text`` without the [tool.todoctl] table and its sub-tables (by their headers)."""
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            header = stripped.strip("[] \t")
            inside = header == "tool.todoctl" or header.startswith("tool.todoctl.")
        if not inside:
            kept.append(line)
    return "".join(kept).rstrip("\n") + "\n"


def _atomic_write(path: Path, text: str) -> None:
    import os
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise



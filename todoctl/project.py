"""The app todoctl works on: declared by a ``[tool.todoctl]`` table in its ``pyproject.toml``.

    [tool.todoctl]
    metadata = "app.models:SQLModel.metadata"   # required: the app's MetaData (module:attribute)
    migrations = "app/alembic"                  # the Alembic script directory
    alembic_ini = "alembic.ini"                 # optional: else found as Alembic finds it
    python_path = ["."]                         # put on sys.path before importing the app
    queries = ["app.queries"]                   # modules registering named queries
    engine = "app.core.db:engine"               # the app's Engine, or a function returning one
    sources = ["app/**/*.py"]                   # what `review` scans
    seeds = "seeds"                             # seed profiles and hooks

The file is found by walking up from the working directory, as pytest and ruff find theirs, or
named with ``--project DIR`` / ``TODOCTL_PROJECT``. With none, the bundled Todo app is the app;
todoctl's own ``pyproject.toml`` declares the Todo app through this same table.

Reading the table imports nothing of the app; :meth:`Project.metadata` and friends import it on
first use. Every mistake is a usage error (exit 2) naming the key, the file and its line.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from todoctl.errors import TodoctlError, usage_error

if TYPE_CHECKING:
    from sqlalchemy import MetaData

ENV_VAR = "TODOCTL_PROJECT"
TABLE = "[tool.todoctl]"
FILE_NAME = "pyproject.toml"

# key -> (the type TOML must give, what a user should write)
_KEYS: dict[str, tuple[type, str]] = {
    "metadata": (str, 'a "module:attribute" string, e.g. "app.models:SQLModel.metadata"'),
    "migrations": (str, 'a directory path, e.g. "app/alembic"'),
    "alembic_ini": (str, 'a file path, e.g. "alembic.ini"'),
    "python_path": (list, 'a list of directories, e.g. ["."]'),
    "queries": (list, 'a list of module names, e.g. ["app.queries"]'),
    "engine": (str, 'a "module:attribute" string, e.g. "app.core.db:engine"'),
    "sources": (list, 'a list of glob patterns, e.g. ["app/**/*.py"]'),
    "seeds": (str, 'a directory path, e.g. "seeds"'),
    "name": (str, 'a short name, e.g. "shelf" (the database on the embedded server)'),
    "review": (dict, "a table: [tool.todoctl.review]"),
}


@dataclass(frozen=True)
class Project:
    """One app: where its models, history, queries, engine, sources and seeds are."""

    root: Path  # the directory of the project file (paths in it are relative to it)
    file: Path | None  # the pyproject.toml; None for the bundled Todo app outside a checkout
    metadata_ref: str
    migrations: Path | None  # None: the script_location of the Alembic configuration
    alembic_ini: Path | None
    python_path: tuple[Path, ...] = ()
    queries: tuple[str, ...] = ()
    engine_ref: str | None = None
    sources: tuple[str, ...] = ()
    seeds: Path | None = None
    review: dict = field(default_factory=dict, compare=False, hash=False)
    name: str = "app"

    @property
    def database_name(self) -> str:
        """The app's database on the embedded server: its name, as a plain PostgreSQL identifier."""
        cleaned = "".join(c if c.isalnum() else "_" for c in self.name.lower()).strip("_")
        return (cleaned or "app")[:63]

    @property
    def where(self) -> str:
        """Where the app was declared, for messages: ``/path/pyproject.toml`` or ``bundled``."""
        return str(self.file) if self.file else "the bundled Todo app"

    # ---------------------------------------------------------------- importing the app

    def metadata(self) -> "MetaData":
        """The app's MetaData (imported on first use, then cached)."""
        return _metadata(self)

    def table_names(self) -> list[str]:
        """The app's tables, parents before children, named as MetaData keys them (``name`` in the
        database's default schema, ``schema.name`` for a table that names its schema)."""
        return [table.key for table in self.metadata().sorted_tables]

    def schemas(self) -> tuple[str | None, ...]:
        """The schemas the app's tables live in, each once: None (the database's default schema)
        first when a table names none, then the named ones in order."""
        named = {table.schema for table in self.metadata().tables.values()}
        return tuple(sorted(named, key=lambda s: (s is not None, s or "")))

    def import_path(self) -> None:
        """Put ``python_path`` on ``sys.path`` (first, in order), once."""
        for entry in reversed(self.python_path):
            text = str(entry)
            if text not in sys.path:
                sys.path.insert(0, text)
        importlib.invalidate_caches()

    def load(self, ref: str, key: str) -> Any:
        """``module:attribute`` of the app, imported; a failure is exit 2 naming the key and file."""
        return _load_ref(self, ref, key)

    def error(self, key: str, what: str, hint: str | None = None):
        """A usage error about ``key`` of this project's table, located at its line."""
        return usage_error(
            f"{_location(self.file, key)}: {key}: {what}",
            hint or (f"{key} is {_KEYS[key][1]}" if key in _KEYS else None),
        )


# ---------------------------------------------------------------- finding and reading the file


def find(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` holding ``[tool.todoctl]``, from ``start`` up; None if none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file() and _declares(candidate):
            return candidate
        if candidate.exists() and not candidate.is_file():
            # Skipping it would quietly fall back to a project further up (or the bundled app).
            raise usage_error(
                f"{candidate} is not a file, so todoctl cannot tell whether it declares the app",
                "remove or rename it, or name the project with --project DIR",
            )
    return None


def _declares(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # A broken file is reported when it is the one read (load); here it is only a candidate
        # if it says [tool.todoctl] at all.
        try:
            return TABLE.strip("[]") in path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise usage_error(
                f"cannot read {path}: {exc.strerror}, so todoctl cannot tell whether it declares the app",
                "fix its permissions, or name the project with --project DIR",
            ) from None
    return isinstance(data.get("tool"), dict) and "todoctl" in data["tool"]


def from_directory(directory: Path | str, *, source: str = "--project") -> Project:
    """The project declared in ``directory/pyproject.toml`` (``--project DIR``, ``TODOCTL_PROJECT``)."""
    folder = Path(directory).expanduser()
    path = folder if folder.name == FILE_NAME and folder.is_file() else folder / FILE_NAME
    if not folder.exists():
        raise usage_error(f"{source} {directory}: no such directory", "name the directory that holds the app's pyproject.toml")
    if not path.is_file():
        raise usage_error(
            f"{source} {directory}: no {FILE_NAME} there",
            "name the directory that holds the app's pyproject.toml, or run `todoctl init` in it",
        )
    return load(path.resolve())


def load(path: Path) -> Project:
    """Read and check ``[tool.todoctl]`` of ``path``; nothing of the app is imported."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", "fix or remove the file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise usage_error(f"{path}: not valid TOML: {exc}", "fix the file (TOML syntax)") from None
    table = (data.get("tool") or {}).get("todoctl")
    if not isinstance(table, dict):
        raise usage_error(f"{path}: no {TABLE} table", "add one, or run `todoctl init` to write it")
    for key, value in table.items():
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            raise usage_error(
                f"{_location(path, key)}: unknown key {key!r} in {TABLE}",
                f"did you mean {close[0]!r}?" if close else f"the keys are: {', '.join(_KEYS)}",
            )
        kind, what = _KEYS[key]
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
            raise usage_error(f"{_location(path, key)}: {key} must be {what}; found {value!r}", f"write {key} as {what}")
    if "metadata" not in table:
        raise usage_error(
            f"{path}: {TABLE} has no metadata key",
            'name the app\'s MetaData: metadata = "app.models:SQLModel.metadata"',
        )
    root = path.parent
    ref = table["metadata"]
    if ":" not in ref or not all(ref.partition(":")[::2]):
        raise usage_error(f"{_location(path, 'metadata')}: metadata must be {_KEYS['metadata'][1]}; found {ref!r}")
    if "engine" in table and ":" not in table["engine"]:
        raise usage_error(f"{_location(path, 'engine')}: engine must be {_KEYS['engine'][1]}; found {table['engine']!r}")
    migrations = _existing_dir(root, table, "migrations", path) if "migrations" in table else None
    alembic_ini = _existing_file(root, table, "alembic_ini", path) if "alembic_ini" in table else None
    seeds = _existing_dir(root, table, "seeds", path) if "seeds" in table else None
    project_name = (data.get("project") or {}).get("name") if isinstance(data.get("project"), dict) else None
    return Project(
        root=root,
        file=path,
        metadata_ref=ref,
        migrations=migrations,
        alembic_ini=alembic_ini,
        python_path=tuple((root / entry).resolve() for entry in table.get("python_path", ["."])),
        queries=tuple(table.get("queries", ())),
        engine_ref=table.get("engine"),
        sources=tuple(table.get("sources", ())),
        seeds=seeds,
        review=table.get("review", {}),
        name=str(table.get("name") or project_name or root.name),
    )


def _existing_dir(root: Path, table: dict, key: str, path: Path) -> Path:
    found = (root / table[key]).resolve()
    if not found.is_dir():
        raise usage_error(f"{_location(path, key)}: {key}: no directory {found}", f"{key} is {_KEYS[key][1]}, relative to {path}")
    return found


def _existing_file(root: Path, table: dict, key: str, path: Path) -> Path:
    found = (root / table[key]).resolve()
    if not found.is_file():
        raise usage_error(f"{_location(path, key)}: {key}: no file {found}", f"{key} is {_KEYS[key][1]}, relative to {path}")
    return found


def _location(path: Path | None, key: str) -> str:
    """``/app/pyproject.toml line 12`` for ``key`` of the table (or the file alone)."""
    if path is None:
        return "the bundled Todo app"
    line = key_line(path, key)
    return f"{path} line {line}" if line else str(path)


def key_line(path: Path, key: str) -> int | None:
    """The line where ``key`` is set inside ``[tool.todoctl]`` (tomllib keeps no positions; the table
    is located by its header, and the key as the first thing on a line within it)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    inside = False
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("["):
            header = line.strip("[] \t")
            inside = header == "tool.todoctl" or header.startswith("tool.todoctl.")
            if inside and key == header.removeprefix("tool.todoctl.").split(".")[0]:
                return number
            continue
        if inside and line.split("=", 1)[0].strip().strip("\"'") == key and "=" in line:
            return number
    return None


# ---------------------------------------------------------------- the bundled Todo app


def bundled() -> Project:
    """The Todo app as todoctl ships it: the same table as todoctl's own pyproject.toml declares."""
    from todoctl import paths

    return Project(
        root=paths.PACKAGE_DIR,
        file=None,
        metadata_ref="todoctl.todo.models:metadata",
        migrations=paths.migrations_dir(),
        alembic_ini=paths.alembic_ini() if paths.alembic_ini().is_file() else None,
        python_path=(),
        queries=("todoctl.todo.queries",),
        engine_ref="todoctl.todo.db:engine_for_url",
        sources=("todoctl/todo/**/*.py",),
        seeds=paths.seeds_dir(),
        name="todo",
    )


# ---------------------------------------------------------------- the project of this invocation

_explicit: Project | None = None
_selected: str | None = None  # --project DIR, read on first use
_cached: Project | None = None


def current() -> Project:
    """The app this invocation works on: ``use()``'s, else ``--project``'s or ``TODOCTL_PROJECT``'s,
    else the nearest project file's from the working directory, else the bundled Todo app."""
    global _cached
    if _explicit is not None:
        return _explicit
    if _cached is None:
        named = _selected or os.environ.get(ENV_VAR)
        if named:
            _cached = from_directory(named, source="--project" if _selected else ENV_VAR)
        else:
            found = find()
            _cached = load(found) if found else bundled()
    return _cached


def select(directory: str | None) -> None:
    """The root callback's ``--project DIR`` (None: find it); forgets what an earlier run found."""
    global _selected, _cached
    _cached = None
    _selected = directory or None


@contextmanager
def use(project: Project) -> Iterator[Project]:
    """Work on ``project`` inside the block (tests, and commands that replay another app's history)."""
    global _explicit
    before = _explicit
    _explicit = project
    try:
        yield project
    finally:
        _explicit = before


def app_tables() -> list[str]:
    """The tables of the app this invocation works on (its metadata's), parents first."""
    return current().table_names()


def app_metadata() -> "MetaData":
    """The MetaData of the app this invocation works on."""
    return current().metadata()


def app_schemas() -> tuple[str | None, ...]:
    """The schemas the app's tables live in (None: the database's default schema)."""
    return current().schemas()


def find_table(metadata: "MetaData", key: str):
    """The table of ``metadata`` a todoctl name stands for (None: no such table). The one lookup by
    name: catalog reads name a table ``name`` in the default schema and ``schema.name`` elsewhere, as
    MetaData keys it. A bare name MetaData does not key (a model that spells out its schema, or SQL
    that names a table as the search path finds it) finds the only table of that name, if one."""
    table = metadata.tables.get(key)
    if table is not None or "." in key:
        return table
    named = [candidate for candidate in metadata.tables.values() if candidate.name == key]
    return named[0] if len(named) == 1 else None


# ---------------------------------------------------------------- imports, cached per project

_METADATA: dict[tuple, "MetaData"] = {}


def _metadata(project: Project) -> "MetaData":
    from sqlalchemy import MetaData

    key = (project.root, project.metadata_ref)
    if key not in _METADATA:
        found = project.load(project.metadata_ref, "metadata")
        if not isinstance(found, MetaData):
            raise project.error(
                "metadata",
                f"{project.metadata_ref} is a {type(found).__name__}, not a SQLAlchemy MetaData",
                'name the MetaData itself, e.g. "app.models:SQLModel.metadata"',
            )
        if not found.tables:
            raise project.error(
                "metadata",
                f"{project.metadata_ref} holds no tables",
                "name the module that defines (or imports) the table models, so importing it registers them",
            )
        _METADATA[key] = found
    return _METADATA[key]


def _load_ref(project: Project, ref: str, key: str) -> Any:
    module_name, _, attribute = ref.partition(":")
    module = import_module(project, module_name, key)
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise project.error(key, f"module {module_name} has no attribute {attribute!r}") from None
    return value


def import_module(project: Project, module_name: str, key: str):
    """Import one of the app's modules; a failure is exit 2 naming the module, and the file and line
    in the app where the import failed. What the app prints while importing goes to stderr: stdout
    is todoctl's (a ``--json`` document must parse). An app that exits while being imported
    (``SystemExit``, ``sys.exit()`` at module level) is an import failure, never todoctl's exit."""
    import contextlib
    import sys

    project.import_path()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(module_name)
    except SystemExit as exc:
        raise project.error(
            key,
            f"importing {module_name} failed: the module called exit({exc.code!r}) while being imported{_where(exc)}",
            "guard the app's start-up code with `if __name__ == \"__main__\":` so importing the module only defines things",
        ) from None
    except TodoctlError:
        raise  # todoctl's own API refused something in the module (a duplicate query name): it says where
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise project.error(
                key,
                f"no module named {module_name!r} (looked in {', '.join(str(p) for p in project.python_path) or 'sys.path'})",
                "check python_path in the table: it lists the directories to import the app from",
            ) from None
        raise project.error(key, f"importing {module_name} failed: {describe_failure(exc)}", "fix the app's import (see --verbose)") from exc
    except Exception as exc:
        raise project.error(key, f"importing {module_name} failed: {describe_failure(exc)}", "fix the app's import (see --verbose)") from exc


def _where(exc: BaseException) -> str:
    """`` (app/main.py line 3)``: the innermost frame of the failure in the app's own files."""
    import traceback

    import todoctl

    own = Path(todoctl.__file__).parent
    bundled_app = own / "todo"

    def in_app(filename: str) -> bool:
        path = Path(filename)
        if "importlib" in filename or "site-packages" in filename or "<frozen" in filename:
            return False
        return not path.is_relative_to(own) or path.is_relative_to(bundled_app)  # not todoctl's own code

    frames = traceback.extract_tb(exc.__traceback__)
    app_frames = [f for f in frames if in_app(f.filename)]
    return f" ({app_frames[-1].filename} line {app_frames[-1].lineno})" if app_frames else ""


def describe_failure(exc: BaseException) -> str:
    """``ValueError: ... (app/models.py line 12)``: the innermost frame in the app's own files."""
    where = _where(exc)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}{where}" if first else f"{type(exc).__name__}{where}"

"""What `todoctl init` finds in an existing app: its Alembic directory, MetaData, engine, named
queries and seed profiles, read from its files (``ast``, ``configparser``), never imported."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

_SKIP = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "build", "dist", ".tox", "site-packages", "tests"}
_MAX_DEPTH = 4


def _walk(root: Path, depth: int = 0):
    if depth > _MAX_DEPTH:
        return
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_dir():
            if entry.name in _SKIP or entry.name.startswith("."):
                continue
            yield entry
            yield from _walk(entry, depth + 1)
        else:
            yield entry


def find_migrations(root: Path) -> tuple[Path | None, str]:
    """The Alembic script directory, and how it was found."""
    for path in _walk(root):
        if path.name == "alembic.ini" and path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
                location = parser.get("alembic", "script_location", fallback=None)
            except (configparser.Error, UnicodeDecodeError):
                location = None
            if location:
                location = location.replace("%(here)s", str(path.parent))
                candidate = (path.parent / location).resolve()
                if (candidate / "env.py").is_file():
                    return candidate, f"script_location in {path.relative_to(root)}"
    for path in _walk(root):
        if path.is_dir() and (path / "env.py").is_file() and (path / "versions").is_dir():
            return path.resolve(), f"env.py and versions/ in {path.relative_to(root)}"
    return None, ""


def _module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_base(path: Path, root: Path) -> Path:
    """The directory a module is imported from: above its outermost package (``__init__.py``)."""
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder != root:
        folder = folder.parent
    return folder


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None


def metadata_from_env(env_py: Path) -> str | None:
    """``module:attribute`` of the MetaData env.py hands Alembic as ``target_metadata``."""
    tree = _parse(env_py)
    if tree is None:
        return None
    imported: dict[str, str] = {}  # local name -> "module:attribute" or "module"
    value = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "target_metadata" for t in node.targets):
            value = node.value
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "run_migrations" and node.args:
            value = value or node.args[0]  # todoctl's own env.py: run_migrations(SQLModel.metadata)
    if value is None:
        return None
    dotted = _dotted(value)
    if not dotted:
        return None
    head, _, rest = dotted.partition(".")
    source = imported.get(head)
    if source is None:
        return None
    if ":" in source:
        module, attribute = source.split(":", 1)
        return f"{module}:{attribute}{'.' + rest if rest else ''}"
    # import app.models; target_metadata = app.models.SQLModel.metadata
    module_parts = source.split(".")
    names = dotted.split(".")
    if names[: len(module_parts)] == module_parts and len(names) > len(module_parts):
        return f"{source}:{'.'.join(names[len(module_parts):])}"
    return None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def metadata_from_models(root: Path) -> tuple[str | None, Path | None]:
    """The module defining the most ``table=True`` models, as ``module:SQLModel.metadata``."""
    best: tuple[int, Path] | None = None
    for path in _walk(root):
        if path.suffix != ".py" or not path.is_file():
            continue
        tree = _parse(path)
        if tree is None:
            continue
        count = sum(
            1
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(k.arg == "table" and getattr(k.value, "value", None) is True for k in node.keywords)
        )
        if count and (best is None or count > best[0]):
            best = (count, path)
    if best is None:
        return None, None
    path = best[1]
    return f"{_module_name(path, _import_base(path, root))}:SQLModel.metadata", path


def _app_modules(root: Path):
    """``(path, parsed module)`` for each of the app's Python files outside its migrations."""
    for path in _walk(root):
        if path.suffix != ".py" or not path.is_file() or "migrations" in path.parts or "alembic" in path.parts:
            continue
        tree = _parse(path)
        if tree is not None:
            yield path, tree


def engine_in(root: Path) -> str | None:
    """``module:engine`` for a module-level ``NAME = create_engine(...)``."""
    for path, tree in _app_modules(root):
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
                and (getattr(node.value.func, "id", None) or getattr(node.value.func, "attr", None)) in ("create_engine", "create_async_engine")
            ):
                return f"{_module_name(path, _import_base(path, root))}:{node.targets[0].id}"
    return None


def queries_in(root: Path) -> list[str]:
    """Modules that register named queries: they import ``query`` from todoctl and decorate with it."""
    found = []
    for path, tree in _app_modules(root):
        imports_query = any(
            isinstance(node, ast.ImportFrom) and node.module == "todoctl" and any(a.name == "query" for a in node.names)
            for node in tree.body
        )
        if imports_query:
            found.append(_module_name(path, _import_base(path, root)))
    return found


def seeds_in(root: Path) -> str | None:
    """A ``seeds/`` directory holding seed profiles (``*.toml``)."""
    folder = root / "seeds"
    return "seeds" if folder.is_dir() and any(folder.glob("*.toml")) else None

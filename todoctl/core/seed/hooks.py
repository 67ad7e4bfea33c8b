"""Seed hooks: the small Python an app writes for what a profile cannot say.

Two kinds, registered with decorators in the app's ``hooks.py`` in its seed directory (``seeds``
of ``[tool.todoctl]``), which every profile of the app and a run without one use, and in modules or
files a profile adds (``hooks = "app.seed_hooks"`` or ``hooks = "more_hooks.py"``, a file beside
the profile):

    from todoctl.core.seed import hooks

    @hooks.rows("tasks", satisfies=["ck_tasks_completed_at_iff_completed"])
    def statuses_agree_with_dates(rows):
        completed = rows["status"] == "completed"
        rows["completed_at"] = np.where(completed, rows["updated_at"], np.datetime64("NaT"))

    @hooks.text("task_titles")
    def titles(ctx, count):
        return [...]          # ``count`` strings, from ctx.rng, ctx.words("NAME"), ctx.first_names()

A rows hook runs on every chunk of its table after the engine has drawn every column, and may
change any column but the keys: it reads and writes whole columns as numpy arrays (no per-row
Python). ``satisfies`` names the CHECK constraints it takes care of, which the seed cannot read
by itself. A text model makes a pool of texts once per run, which a profile uses with
``column = { text = "task_titles" }``.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from todoctl.errors import usage_error

_MARK = "__todoctl_seed_hook__"
NaT = np.datetime64("NaT", "us")


def rows(table: str, *, satisfies: Iterable[str] = (), writes: Iterable[str] = ()) -> Callable:
    """Register ``fn(rows: Rows) -> None`` to run on each chunk of ``table``'s rows. ``writes``
    names columns it sets in every row: the engine draws only their NULLs (which the hook reads
    with ``rows.isnull``), not values the hook would throw away."""

    def register(fn: Callable) -> Callable:
        setattr(fn, _MARK, ("rows", table, (tuple(satisfies), tuple(writes))))
        return fn

    return register


def text(name: str) -> Callable:
    """Register ``fn(ctx, count) -> list[str]`` as the text model ``name``."""

    def register(fn: Callable) -> Callable:
        setattr(fn, _MARK, ("text", name, ()))
        return fn

    return register


@dataclass(frozen=True)
class RowHook:
    table: str
    satisfies: tuple[str, ...]
    fn: Callable
    where: str  # module.function, for messages
    writes: tuple[str, ...] = ()


@dataclass
class Hooks:
    rows: dict[str, list[RowHook]] = field(default_factory=dict)
    texts: dict[str, Callable] = field(default_factory=dict)
    modules: tuple[str, ...] = ()


def load(specs: tuple[str, ...], base: Path | None, app_seeds: Path | None = None) -> Hooks:
    """The app's hooks (``app_seeds/hooks.py``, if there is one) and those of the modules or files
    ``specs`` names (``base``: where the profile is, for files)."""
    sources: list[tuple[str, Path | None]] = []
    if app_seeds is not None and (app_seeds / "hooks.py").is_file():
        sources.append((str((app_seeds / "hooks.py").resolve()), None))
    for spec in specs:
        if spec.endswith(".py"):
            path = (base / spec) if base is not None and not Path(spec).is_absolute() else Path(spec)
            spec = str(path.resolve())
        if spec not in [s for s, _ in sources]:
            sources.append((spec, base))
    found = Hooks(modules=tuple(s for s, _ in sources))
    seen: set[int] = set()
    for spec, where in sources:
        module = _import(spec, where)
        for name in sorted(vars(module)):
            value = getattr(module, name)
            mark = getattr(value, _MARK, None)
            if not callable(value) or mark is None or id(value) in seen:
                continue
            seen.add(id(value))
            kind, target, extra = mark
            where = f"{getattr(value, '__module__', module.__name__)}.{getattr(value, '__name__', name)}"
            if kind == "rows":
                satisfies, writes = extra
                found.rows.setdefault(target, []).append(RowHook(target, satisfies, value, where, writes))
            else:
                found.texts[target] = value
    return found


def _import(spec: str, base: Path | None):
    from todoctl import project

    if spec.endswith(".py"):
        path = (base / spec) if base is not None and not Path(spec).is_absolute() else Path(spec)
        if not path.is_file():
            raise usage_error(f"seed hooks file {path} does not exist", "hooks names a module (app.seed_hooks) or a .py file beside the profile")
        name = f"todoctl_seed_hooks_{abs(hash(str(path.resolve())))}"
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise usage_error(f"loading seed hooks {path} failed: {type(exc).__name__}: {exc}", "fix the hooks file") from exc
        return module
    current = project.current()
    try:
        return project.import_module(current, spec, "seeds")
    except Exception as exc:
        if getattr(exc, "exit_code", None) is not None:
            raise usage_error(f"seed hooks {spec!r}: {getattr(exc, 'message', exc)}", "hooks names a module (app.seed_hooks) or a .py file beside the profile") from None
        raise


# ---------------------------------------------------------------- what a rows hook sees


class Rows:
    """One chunk of a table's rows, column by column, as numpy arrays.

    ``rows[col]`` reads a column: integers and floats as numbers, numeric as float, booleans,
    timestamps as ``datetime64[us]`` and dates as ``datetime64[D]`` (NaT where NULL), text and
    other values as a string (or object) array ("" where NULL). ``rows[col] = array`` writes one
    (NaT, or None in an object array, is NULL); ``rows.isnull(col)`` is the NULL mask. ``rows.now`` is the reference time,
    ``rows.uniform(k)`` k arrays of uniforms of the chunk's own stream (deterministic).
    """

    def __init__(self, chunk, hook: RowHook) -> None:
        self._chunk = chunk
        self._hook = hook
        self.table = chunk.table.name
        self.now = np.datetime64(chunk.run.now_datetime64(), "us")

    def __len__(self) -> int:
        return self._chunk.n

    def __contains__(self, column: str) -> bool:
        return column in self._chunk.values

    def uniform(self, k: int = 1) -> np.ndarray:
        return self._chunk.hook_uniform(self._hook, k)

    def isnull(self, column: str) -> np.ndarray:
        return self._chunk.isnull(self._name(column))

    def __getitem__(self, column: str) -> np.ndarray:
        return self._chunk.read(self._name(column))

    def __setitem__(self, column: str, values) -> None:
        self._chunk.write(self._name(column), values, self._hook)

    def set_null(self, column: str, mask: np.ndarray) -> None:
        self._chunk.write_null(self._name(column), np.asarray(mask, dtype=bool), self._hook)

    def _name(self, column: str) -> str:
        if column not in self._chunk.values:
            import difflib

            close = difflib.get_close_matches(column, list(self._chunk.values), n=1)
            raise KeyError(
                f"{self._hook.where}: {self.table} has no column {column!r} the seed writes"
                + (f" (did you mean {close[0]!r}?)" if close else "")
            )
        return column

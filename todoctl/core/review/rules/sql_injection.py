"""Review rule: the app's SQL, how it is built.

- sql-injection (critical): SQL built from strings in the app's code (the Python files its
  ``sources`` globs match in ``[tool.todoctl]``): bandit's B608 (hardcoded_sql_expressions) plus an
  ``ast`` check for ``text()``, ``literal_column()``, ``execute()`` and ``exec_driver_sql()`` given an
  f-string, ``%``/``+`` concatenation or ``.format()``. Interpolating ``int(...)``/``float(...)`` is
  allowed: a number cannot carry SQL. Without ``sources`` the rule is skipped, saying why.
"""

from __future__ import annotations

import ast
import logging
import warnings
from pathlib import Path
from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule

SQL_SINKS = {"text", "literal_column", "execute", "exec_driver_sql", "executemany"}
_SAFE_CASTS = {"int", "float"}


@rule(
    "sql-injection",
    "critical",
    "SQL built from strings in the app's code or named queries",
    why="a value pasted into SQL text can rewrite the statement; bound parameters cannot",
)
def sql_injection(ctx: ReviewContext) -> Iterator[Finding]:
    if not ctx.sources:
        ctx.skip("no sources in [tool.todoctl]: name the app's code, e.g. sources = [\"app/**/*.py\"]")
        return
    files = [path for path in ctx.source_files() if path.suffix == ".py"]
    found: dict[tuple[str, int], str] = {}
    for path, line in _bandit_b608(files):
        found.setdefault((ctx.relative(path), line), "builds SQL text from strings (bandit B608)")
    for path in files:
        for line, what in _dynamic_sql_calls(path):
            found.setdefault((ctx.relative(path), line), what)
    for (location, line), what in sorted(found.items()):
        source = _line(ctx.root / location, line)
        yield Finding(
            "sql-injection",
            f"{location}:{line}",
            f"{what}: {source}" if source else what,
            "pass values as bound parameters (text('... = :name').bindparams(name=value), or select() "
            "with column objects); never format them into the SQL text",
        )


def _line(path: Path, number: int) -> str:
    try:
        text = path.read_text(encoding="utf-8").splitlines()[number - 1].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
    return text if len(text) <= 100 else text[:99] + "…"


def _bandit_b608(files: list[Path]) -> list[tuple[str, int]]:
    """bandit's hardcoded_sql_expressions test over ``files``: (file, line) per issue."""
    if not files:
        return []
    # bandit logs its progress and its plugin loader warns; core never prints, so both are quiet.
    log = logging.getLogger("bandit")
    level, log.level = log.level, logging.CRITICAL + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from bandit.core import config, manager

            scan = manager.BanditManager(
                config.BanditConfig(), "file", profile={"include": {"B608"}, "exclude": set()}, quiet=True
            )
            scan.discover_files([str(f) for f in files], False)
            scan.run_tests()
        return [(issue.fname, issue.lineno) for issue in scan.get_issue_list() if issue.test_id == "B608"]
    finally:
        log.level = level


def _dynamic_sql_calls(path: Path) -> Iterator[tuple[int, str]]:
    """``text(f"...")`` and friends: a SQL-taking call whose first argument is built at run time."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in SQL_SINKS:
            continue
        how = _built_how(node.args[0])
        if how:
            yield node.lineno, f"{name}() is given SQL built with {how}"


def _built_how(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.JoinedStr):
        unsafe = [v for v in arg.values if isinstance(v, ast.FormattedValue) and not _is_number(v.value)]
        return "an f-string" if unsafe else None
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Add, ast.Mod)):
        if isinstance(arg.left, ast.Constant) and isinstance(arg.right, ast.Constant):
            return None  # "a" "b" split over lines: still a constant
        return "% formatting" if isinstance(arg.op, ast.Mod) else "+ concatenation"
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
        return ".format()"
    return None


def _is_number(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _SAFE_CASTS

"""The package's import graph: no circle, no layer importing the one above it, no core module over
400 lines.

Every import counts, at module level or inside a function, under TYPE_CHECKING or not; importing a
package (``from todoctl.core.seed import x``) counts as importing its ``__init__``, which runs it.
The graph is read from the source with ``ast``: nothing is imported to draw it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "todoctl"
# Data flows down: cli -> render -> core -> db (docs/development.md).
LAYERS = ("todoctl.cli", "todoctl.render", "todoctl.core", "todoctl.db")
MAX_CORE_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the package that ``name`` imports: the module each statement names (a
    package: its ``__init__``), and each imported name that is itself a module."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in modules and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _layer(name: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if name == layer or name.startswith(layer + "."):
            return i
    return None


def test_no_import_circles():
    graph = _graph()
    circles = _circles(graph)
    described = [
        "; ".join(f"{a} -> {b}" for a in circle for b in sorted(graph[a]) if b in circle) for circle in circles
    ]
    assert not circles, "import circles:\n" + "\n".join(described)


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_layer_imports_the_one_above_it():
    upward = [
        f"{a} -> {b}"
        for a, targets in _graph().items()
        for b in targets
        if _layer(a) is not None and _layer(b) is not None and _layer(b) < _layer(a)
    ]
    assert not upward, "imports against the flow cli -> render -> core -> db:\n" + "\n".join(sorted(upward))


def test_no_core_module_over_400_lines():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in (PACKAGE / "core").rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_CORE_LINES
    }
    assert not long, f"core modules over {MAX_CORE_LINES} lines (split them by responsibility): {long}"

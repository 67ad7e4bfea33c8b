"""Facts several review rules read: the live schema (read once per review), the CHECK constraints
of a model table, and what a CHECK constraint says about a column (parsed by pglast, PostgreSQL's
own grammar, whether it comes from the models or from ``pg_get_constraintdef``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from sqlalchemy import Table

    from todoctl.core.review.registry import ReviewContext
    from todoctl.core.review.lint_rules import LiveSchema


def live_schema(ctx: "ReviewContext") -> "LiveSchema":
    """The catalog snapshot, indexes and foreign keys of ``ctx.schema``, read once per review."""
    from todoctl.core.review.lint_rules import live_schema as read

    return ctx.cached("live-schema", lambda: read(ctx.connection(), ctx.schema))


def model_checks(table: "Table") -> list[str]:
    """The SQL of every CHECK constraint of a model table (table-level and column-level)."""
    from sqlalchemy import CheckConstraint

    checks = [c for c in table.constraints if isinstance(c, CheckConstraint)]
    for column in table.columns:
        checks += [c for c in column.constraints if isinstance(c, CheckConstraint)]
    return [str(c.sqltext) for c in checks]


@dataclass(frozen=True)
class ColumnTest:
    """One test a CHECK constraint makes on a column: ``IN (...)`` / ``= ANY (ARRAY[...])``, or a
    pattern: a regex (``~``, ``~*``) or a LIKE pattern (``LIKE``, ``ILIKE``, which the catalog
    writes ``~~``, ``~~*``)."""

    column: str
    kind: str  # "in" | "regex" | "like"
    values: tuple[str, ...]  # the IN list, or the patterns (any of which may match)
    operator: str = ""  # a pattern's operator: ~, ~*, ~~ or ~~*


PATTERN_OPERATORS = {"~": "regex", "~*": "regex", "~~": "like", "~~*": "like"}


def column_tests(check: str) -> list[ColumnTest]:
    """The column tests a CHECK constraint makes at its top level (alone, or ANDed).

    ``check`` is the expression (``status IN ('a', 'b')``) or a whole definition as
    ``pg_get_constraintdef`` writes it (``CHECK (((status)::text = ANY (...))) NOT VALID``).
    An expression pglast cannot parse yields nothing.
    """
    from pglast import parse_sql
    from pglast.parser import ParseError

    definition = check.strip()
    if not definition.upper().startswith("CHECK"):
        definition = f"CHECK ({definition})"
    try:
        statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
    except ParseError:
        return []
    return list(_tests(statement.cmds[0].def_.raw_expr))


def _tests(node) -> Iterator[ColumnTest]:
    from pglast import ast
    from pglast.enums import A_Expr_Kind, BoolExprType

    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args:
            yield from _tests(arg)
        return
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
        # col ~ 'a' OR col ~ 'b' (bcrypt or argon2): one pattern test with both patterns.
        parts = [list(_tests(arg)) for arg in node.args]
        if all(len(p) == 1 and p[0].kind != "in" for p in parts) and len({(p[0].column, p[0].operator) for p in parts}) == 1:
            first = parts[0][0]
            yield ColumnTest(first.column, first.kind, tuple(p[0].values[0] for p in parts), first.operator)
        return
    if not isinstance(node, ast.A_Expr):
        return
    column = _column(node.lexpr)
    operator = node.name[-1].sval if node.name else ""
    if column is None:
        return
    if node.kind == A_Expr_Kind.AEXPR_IN and operator == "=":
        values = [_constant(v) for v in node.rexpr]
        if None not in values:
            yield ColumnTest(column, "in", tuple(values))
    elif node.kind == A_Expr_Kind.AEXPR_OP_ANY and operator == "=":
        array = _uncast(node.rexpr)
        if isinstance(array, ast.A_ArrayExpr):
            values = [_constant(v) for v in array.elements or ()]
            if None not in values:
                yield ColumnTest(column, "in", tuple(values))
    elif node.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE) and operator in PATTERN_OPERATORS:
        # LIKE parses as AEXPR_LIKE named ~~; pg_get_constraintdef writes the operator itself.
        pattern = _constant(node.rexpr)
        if pattern is not None:
            yield ColumnTest(column, PATTERN_OPERATORS[operator], (pattern,), operator)


def _uncast(node):
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _column(node) -> str | None:
    from pglast import ast

    node = _uncast(node)
    if isinstance(node, ast.ColumnRef) and node.fields and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def _constant(node) -> str | None:
    from pglast import ast

    node = _uncast(node)
    if isinstance(node, ast.A_Const) and not node.isnull and isinstance(node.val, ast.String):
        return node.val.sval
    return None


def primary_key_columns(table) -> list[str]:
    """The primary key's columns of a live table (catalog.TableInfo), read from its definition."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    for constraint in table.constraints.values():
        if constraint.kind != "primary key":
            continue
        try:
            statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {constraint.definition}")[0].stmt
        except ParseError:
            return []
        return [k.sval for k in statement.cmds[0].def_.keys or ()]
    return []


def column_location(table: str, columns) -> str:
    """``tasks.list_id``; ``task_tags.(task_id, tag_id)`` for several columns."""
    columns = list(columns)
    return f"{table}.{columns[0]}" if len(columns) == 1 else f"{table}.({', '.join(columns)})"


def merge_sources(found: dict[str, list[str]], location: str, source: str) -> None:
    """Record that ``location`` was found in ``source`` ("the models", "the database")."""
    found.setdefault(location, [])
    if source not in found[location]:
        found[location].append(source)


def sources_text(sources: list[str]) -> str:
    return " and ".join(sources)


def in_the_models(ctx: "ReviewContext", table: str, column: str | None = None) -> str:
    """Where a model column is written, for a finding's message: ``todoctl/models.py:152`` when the
    table is a mapped class whose source Python can show, else "the models" (a bare Table)."""
    lines = ctx.cached("model-lines", lambda: _model_lines(ctx))
    return lines.get((table, column)) or lines.get((table, None)) or "the models"


def _model_lines(ctx: "ReviewContext") -> dict[tuple[str, str | None], str]:
    import inspect
    import re

    found: dict[tuple[str, str | None], str] = {}
    for model in _mapped_classes():
        table = getattr(model, "__table__", None)
        if getattr(table, "metadata", None) is not ctx.metadata:
            continue
        try:
            source, start = inspect.getsourcelines(model)
            path = ctx.relative(inspect.getsourcefile(model))
        except (OSError, TypeError):
            continue
        found[(table.name, None)] = f"{path}:{start}"
        for column in table.columns:
            declared = re.compile(rf"\s+{re.escape(column.name)}\s*:")  # `list_id: uuid.UUID | None = ...`
            offset = next((n for n, line in enumerate(source) if declared.match(line)), None)
            if offset is not None:
                found[(table.name, column.name)] = f"{path}:{start + offset}"
    return found


def _mapped_classes() -> list[type]:
    """Every mapped class whatever its registry: SQLModel table models (the app's own registry
    or the default one) and SQLAlchemy declarative classes."""
    from sqlalchemy.orm import DeclarativeBase
    from sqlmodel import SQLModel

    seen: list[type] = []
    stack = [SQLModel, DeclarativeBase]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return [cls for cls in seen if "__table__" in vars(cls)]

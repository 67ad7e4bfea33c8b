"""What a named query filters, sorts and joins on, read from PostgreSQL's parse tree of its SQL.

Each named query is built with placeholder values (every optional parameter given, so conditional
clauses such as a keyset are included), compiled by SQLAlchemy for PostgreSQL with ``$n``
parameters, and parsed by pglast (libpg_query, the server's own grammar). Nothing is matched as a
string: a column is a ``ColumnRef`` resolved through the FROM list, a value is any expression with
no column in it (parameters, constants, functions of them). Expressions and a partial index's
predicate are compared as pglast prints them back with the table qualifiers removed
(``lower(email)``, ``status = 'pending'``), never as the source text.

Placeholder values differ per parameter, so a bound value names its parameter: that is how
``tasks.list_id = $1`` and ``EXISTS (... task_lists.id = $2 ...)`` are known to be the same list.

The indexes a query could use come from the models (``MetaData``: indexes, primary keys, unique
constraints), so the check runs offline and judges the schema the code declares.

    shape = shape_of(QUERIES["task-list"], SQLModel.metadata)
    [(c.table, c.key, c.kind) for c in shape.conditions]
    # [("tasks", "user_id", "eq"), ("tasks", "status", "eq"), ("tasks", "due_date", "range")]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from todoctl.named_queries import NamedQuery, Param

_EQUALITY = {"="}
_RANGE = {"<", ">", "<=", ">="}
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
ORDERED_METHODS = {"btree"}  # index methods that serve equality-prefix, range and ORDER BY


@dataclass(frozen=True)
class Condition:
    """One top-level AND term that compares a column (or an expression of one table's columns) to values."""

    table: str
    key: str  # the column, or the expression with unqualified columns: "lower(email)"
    kind: str  # "eq" (=, IN, IS NULL), "range" (<, >, BETWEEN, a row comparison), "like", "other" (@@ ...)
    operator: str
    value_has_param: bool  # the value side holds a parameter ($n): it comes from the caller
    sql: str = ""  # the whole term, unqualified: matched against a partial index's predicate
    param: str | None = None  # the named query's parameter the value is, when it is exactly one


@dataclass
class QueryShape:
    name: str
    sql: str = ""
    tables: dict[str, str] = field(default_factory=dict)  # alias -> table
    conditions: list[Condition] = field(default_factory=list)  # WHERE terms
    join_conditions: list[Condition] = field(default_factory=list)  # JOIN ... ON terms against values
    predicates: set[str] = field(default_factory=set)  # every WHERE term as unqualified SQL
    order_by: list[tuple[str, str]] | None = None  # (table, column); None when a key is not a plain column
    descending: bool = False
    grouped: bool = False  # GROUP BY or an aggregate: ORDER BY sorts groups, not rows
    joined: bool = False
    limit_one: bool = False
    error: str | None = None  # the query could not be built, compiled or parsed
    bound: dict[int, Any] = field(default_factory=dict)  # $n -> the value the builder bound
    params: dict[int, str] = field(default_factory=dict)  # $n -> the parameter whose placeholder it holds
    exists: list["QueryShape"] = field(default_factory=list)  # top-level EXISTS (SELECT ...) terms

    def eq_keys(self, table: str) -> set[str]:
        return {c.key for c in self.conditions if c.table == table and c.kind == "eq"}


# ---------------------------------------------------------------- building and parsing


def placeholders(params: Iterable["Param"]) -> dict[str, Any]:
    """A value of each parameter's type, a different one per parameter, so that a value bound in the
    SQL tells which parameter it came from (:meth:`todoctl.named_queries.Param.placeholder`)."""
    from todoctl.named_queries import placeholders as of

    return of(params)


def compile_sql(statement) -> tuple[str, dict[int, Any]]:
    """The statement as PostgreSQL SQL with ``$n`` parameters (which pglast parses as ParamRef),
    and the value bound to each ``n``."""
    from sqlalchemy.dialects import postgresql

    compiled = statement.compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
    values = compiled.construct_params()
    return compiled.string, {n: values.get(name) for n, name in enumerate(compiled.positiontup or (), 1)}


def shape_of(named: "NamedQuery", metadata: "MetaData") -> QueryShape:
    shape = QueryShape(named.name)
    try:
        given = placeholders(named.params)
        statement = named.build(**given)
        shape.sql, shape.bound = compile_sql(statement)
        # SQLAlchemy binds a value once per use: $1 and $2 may both be list_id.
        shape.params = {n: name for n, v in shape.bound.items() for name, g in given.items() if v is not None and v == g}
    except Exception as exc:  # a builder that refuses placeholders: reported, not raised
        shape.error = f"cannot be built with placeholder values: {exc}"
        return shape
    try:
        from pglast import parse_sql
        from pglast.parser import ParseError

        [raw] = parse_sql(shape.sql)
    except (ParseError, ValueError) as exc:
        shape.error = f"its SQL does not parse: {exc}"
        return shape
    _read(raw.stmt, shape, metadata)
    return shape


def _read(stmt, shape: QueryShape, metadata: "MetaData") -> None:
    from pglast import ast

    where = None
    if isinstance(stmt, ast.SelectStmt):
        if stmt.op and stmt.op.value != 0:  # UNION / INTERSECT / EXCEPT: read neither branch
            shape.error = "a set operation (UNION ...) is not analysed"
            return
        joins = _relations(stmt.fromClause or (), shape)
        where = stmt.whereClause
        shape.grouped = bool(stmt.groupClause) or _has_aggregate(stmt.targetList or ())
        shape.limit_one = _value(stmt.limitCount, shape.bound) == 1
    elif isinstance(stmt, (ast.UpdateStmt, ast.DeleteStmt)):
        _add_relation(stmt.relation, shape)
        more = stmt.fromClause if isinstance(stmt, ast.UpdateStmt) else stmt.usingClause
        joins = _relations(more or (), shape)
        where = stmt.whereClause
    else:
        shape.error = f"a {type(stmt).__name__} is not analysed"
        return
    columns = {t.name: set(t.c.keys()) for t in metadata.tables.values()}
    for term in conjuncts(where):
        if isinstance(term, ast.SubLink) and term.subLinkType.name == "EXISTS_SUBLINK":
            inner = QueryShape(shape.name, bound=shape.bound, params=shape.params)
            _read(term.subselect, inner, metadata)
            shape.exists.append(inner)
            continue
        shape.predicates.add(unqualified(term))
        condition = _condition(term, shape, columns)
        if condition is not None:
            shape.conditions.append(condition)
    for quals in joins:
        for term in conjuncts(quals):
            condition = _condition(term, shape, columns)
            if condition is not None:
                shape.join_conditions.append(condition)
    if isinstance(stmt, ast.SelectStmt) and stmt.sortClause:
        shape.order_by = _order(stmt.sortClause, shape, columns)
        shape.descending = all(s.sortby_dir.value == 2 for s in stmt.sortClause)  # SORTBY_DESC


def _relations(items, shape: QueryShape) -> list:
    """Record the FROM list's tables; return the JOIN ... ON conditions."""
    from pglast import ast

    quals = []
    for item in items:
        if isinstance(item, ast.RangeVar):
            _add_relation(item, shape)
        elif isinstance(item, ast.JoinExpr):
            shape.joined = True
            quals += _relations((item.larg, item.rarg), shape)
            if item.quals is not None:
                quals.append(item.quals)
        else:  # a subquery or a function in FROM: its rows are not a table's
            shape.joined = True
    if len(shape.tables) > 1:
        shape.joined = True
    return quals


def _add_relation(rv, shape: QueryShape) -> None:
    alias = rv.alias.aliasname if rv.alias is not None else rv.relname
    # Named as MetaData keys a table: schema.name when the SQL names the schema.
    shape.tables[alias] = f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname


def conjuncts(node) -> Iterable:
    from pglast import ast

    if node is None:
        return
    if isinstance(node, ast.BoolExpr) and node.boolop.value == 0:  # AND_EXPR
        for arg in node.args:
            yield from conjuncts(arg)
    else:
        yield node


def _column_refs(node) -> list:
    from pglast import ast
    from pglast.visitors import Visitor

    found = []

    class Collect(Visitor):
        def visit_ColumnRef(self, ancestors, ref):
            found.append(ref)

    if isinstance(node, ast.ColumnRef):
        return [node]
    Collect()(node)
    return found


def _has_param(node) -> bool:
    from pglast import ast
    from pglast.visitors import Visitor

    found = []

    class Collect(Visitor):
        def visit_ParamRef(self, ancestors, ref):
            found.append(ref)

    if isinstance(node, ast.ParamRef):
        return True
    Collect()(node)
    return bool(found)


def _has_aggregate(targets) -> bool:
    from pglast import ast
    from pglast.visitors import Visitor

    aggregates = {"count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or", "json_agg", "jsonb_agg"}
    found = []

    class Collect(Visitor):
        def visit_FuncCall(self, ancestors, call):
            if call.agg_star or call.funcname[-1].sval.lower() in aggregates:
                found.append(call)

    for target in targets:
        if isinstance(target, ast.ResTarget) and target.val is not None:
            Collect()(target.val)
    return bool(found)


def _value(node, bound: dict[int, Any]) -> Any:
    """A constant's value, or the value bound to a parameter; None for anything else."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ParamRef):
        return bound.get(node.number)
    return getattr(node.val, "ival", None) if isinstance(node, ast.A_Const) else None


def _resolve(ref, shape: QueryShape, columns: dict[str, set[str]]) -> tuple[str, str] | None:
    """(table, column) of a ColumnRef, or None (a label such as ORDER BY rank, or ``*``)."""
    from pglast import ast

    names = [f.sval for f in ref.fields if isinstance(f, ast.String)]
    if len(names) != len(ref.fields) or not names:
        return None
    if len(names) >= 2:
        table = shape.tables.get(names[-2])
        return (table, names[-1]) if table is not None else None
    owners = [t for t in shape.tables.values() if names[0] in columns.get(t, ())]
    return (owners[0], names[0]) if len(owners) == 1 else None


def _side(node, shape, columns) -> tuple[str, str] | None:
    """(table, key) when ``node`` is a column or an expression over one table's columns."""
    from pglast import ast

    refs = _column_refs(node)
    resolved = {_resolve(r, shape, columns) for r in refs}
    if not refs or None in resolved or len({t for t, _ in resolved}) != 1:
        return None
    table = next(iter(resolved))[0]
    if isinstance(node, ast.ColumnRef):
        return table, resolved.pop()[1]
    return table, unqualified(node)


def _condition(term, shape: QueryShape, columns) -> Condition | None:
    from pglast import ast

    if isinstance(term, ast.NullTest):
        side = _side(term.arg, shape, columns)
        return Condition(side[0], side[1], "eq", "IS NULL", False, unqualified(term), None) if side else None
    if not isinstance(term, ast.A_Expr):
        return None
    kind = term.kind.name
    op = term.name[-1].sval if term.name else ""
    left, right = term.lexpr, term.rexpr
    if kind == "AEXPR_OP" and isinstance(left, ast.RowExpr) and op in _RANGE:
        left = left.args[0]  # (a, b) > (x, y): a range on the leading column
        right = right.args[0] if isinstance(right, ast.RowExpr) else right
    values = right if isinstance(right, (list, tuple)) else [right]
    if _column_refs(right if not isinstance(right, (list, tuple)) else ast.List(items=right)):
        # column <op> column is a join term; value <op> column is mirrored
        if kind != "AEXPR_OP" or _column_refs(left):
            return None
        left, right, op = right, left, _MIRROR.get(op, op)
        values = [right]
    side = _side(left, shape, columns)
    if side is None:
        return None
    has_param = any(_has_param(v) for v in values if v is not None)
    if kind in ("AEXPR_LIKE", "AEXPR_ILIKE") or op in ("~~", "~~*"):
        what = "like"
    elif kind == "AEXPR_IN" or (kind == "AEXPR_OP" and op in _EQUALITY):
        what = "eq"
    elif kind.startswith("AEXPR_BETWEEN") or (kind == "AEXPR_OP" and op in _RANGE):
        what = "range"
    else:
        what = "other"
    value = values[0] if len(values) == 1 else None
    while isinstance(value, ast.TypeCast):
        value = value.arg
    param = shape.params.get(value.number) if isinstance(value, ast.ParamRef) else None
    return Condition(side[0], side[1], what, op or kind, has_param, unqualified(term), param)


def _order(sort_clause, shape, columns) -> list[tuple[str, str]] | None:
    from pglast import ast

    keys = []
    for sort in sort_clause:
        if not isinstance(sort.node, ast.ColumnRef):
            return None
        resolved = _resolve(sort.node, shape, columns)
        if resolved is None:
            return None
        keys.append(resolved)
    return keys


def unqualified(node) -> str:
    """The expression as SQL with every column written without its table: ``lower(email)``."""
    from pglast import ast, parse_sql
    from pglast.stream import RawStream
    from pglast.visitors import Visitor

    class Strip(Visitor):
        def visit_ColumnRef(self, ancestors, ref):
            return ast.ColumnRef(fields=ref.fields[-1:])

    # Strip a fresh copy (the visitor rewrites in place): deparse, parse, strip, deparse.
    [raw] = parse_sql(f"SELECT {RawStream()(node)}")
    expression = raw.stmt.targetList[0].val
    if isinstance(expression, ast.ColumnRef):
        return expression.fields[-1].sval
    Strip()(expression)
    return RawStream()(expression)



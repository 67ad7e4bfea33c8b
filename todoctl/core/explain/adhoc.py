"""Ad-hoc SQL for `explain sql`, read by PostgreSQL's own grammar (pglast is libpg_query, the
server's parser) instead of by hand: exactly one statement, of a kind EXPLAIN accepts, and the
names of everything in it that can run a function (its Reach), for core/explain/harmless.py to
judge against the catalog.

Pure functions: they return data or raise TodoctlError; nothing here connects to a database.
pglast is imported inside functions so `todoctl --help` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.errors import ExitCode, TodoctlError, usage_error

EXAMPLE = 'for example: todoctl explain sql "SELECT count(*) FROM tasks"'

# What EXPLAIN may wrap, by libpg_query node name. A rollback undoes all of their writes.
EXPLAINABLE = {
    "SelectStmt": "SELECT",  # also VALUES and TABLE
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
}

# EXPLAIN accepts these too, but they are refused, each for its reason.
REFUSED_EXPLAINABLE = {
    "ExecuteStmt": (
        "EXECUTE runs a prepared statement, which exists only in the session that prepared it",
        "explain the prepared statement's own SQL, with its parameters written in",
    ),
    "DeclareCursorStmt": (
        "DECLARE creates a cursor (session state); its plan is the plan of its query",
        "explain the cursor's SELECT itself",
    ),
    "CreateTableAsStmt": (
        "CREATE TABLE AS / CREATE MATERIALIZED VIEW creates an object",
        "explain its SELECT itself",
    ),
    "ExplainStmt": (
        "the statement is already an EXPLAIN",
        "pass the statement itself; todoctl adds EXPLAIN",
    ),
}


@dataclass(frozen=True)
class Name:
    """A name as the statement writes it, case folded by the parser: ``schema`` is None when unqualified."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class Call:
    """A function the statement calls by name: ``arity`` arguments, or by attribute notation
    (``t.f`` is ``f(t)`` when ``t`` has no column ``f``)."""

    name: Name
    arity: int
    how: str  # "call" | "attribute" | "tablesample"


@dataclass(frozen=True)
class OperatorUse:
    """An operator the statement applies, written (``a === b``) or implied (IN, BETWEEN, CASE x WHEN,
    JOIN USING, LIKE ...): PostgreSQL looks each up by name, so they resolve like written ones."""

    name: Name
    prefix: bool  # ``-x`` rather than ``a - b``


@dataclass(frozen=True)
class Reach:
    """Everything in the text that can make the server run a function: calls, operators, the
    relations it reads or writes (views, rules, policies and defaults run functions too), and the
    types it casts to (cast functions, domain checks). Only names: core/explain/harmless.py
    resolves them against the catalog."""

    calls: tuple[Call, ...] = ()
    operators: tuple[OperatorUse, ...] = ()
    relations: tuple[Name, ...] = ()
    types: tuple[Name, ...] = ()
    writes: bool = False  # column defaults are evaluated: an INSERT or MERGE anywhere, or SET x = DEFAULT


@dataclass(frozen=True)
class AdhocStatement:
    text: str  # the one statement as written, without a trailing semicolon
    kind: str  # libpg_query node name: SelectStmt, InsertStmt, ...
    reach: Reach


def parse_statement(sql: str) -> AdhocStatement:
    """The one statement ``sql`` holds, as PostgreSQL's grammar reads it; usage error (exit 2) if
    it holds none, several, or one EXPLAIN cannot (or todoctl will not) wrap."""
    statements = _parse(sql, what="the statement")
    if not statements:
        raise usage_error("no SQL statement given", EXAMPLE)
    if len(statements) > 1:
        raise usage_error(
            f"{len(statements)} statements given; explain takes exactly one",
            "explain them one at a time (semicolons, quotes and comments are read by PostgreSQL's own parser)",
        )
    raw = statements[0]
    kind = type(raw.stmt).__name__
    _require_explainable(raw.stmt, kind, sql)
    _require_no_parameters(raw.stmt)
    end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql)
    text = sql[raw.stmt_location : end].strip()
    return AdhocStatement(text, kind, reach(raw.stmt))


def check_explain_text(text: str, statement: AdhocStatement) -> None:
    """The second fence: the final ``EXPLAIN (...) statement`` text is one EXPLAIN of the same
    kind of statement, reaching the same names, so nothing in the user's text escaped the wrapping."""
    statements = _parse(text, what="the EXPLAIN todoctl built")
    if (
        len(statements) != 1
        or type(statements[0].stmt).__name__ != "ExplainStmt"
        or type(statements[0].stmt.query).__name__ != statement.kind
        or reach(statements[0].stmt.query) != statement.reach
    ):
        raise TodoctlError(
            "the EXPLAIN built around the statement does not parse as one EXPLAIN of it; nothing was run",
            hint="rewrite the statement (e.g. without trailing comments) and report this as a todoctl bug",
            exit_code=ExitCode.REFUSED,
        )


def reach_of_text(text: str, *, expression: bool = False) -> Reach:
    """The Reach of SQL the server wrote itself (a view's query, a rule, a policy's or a default's
    expression): ValueError when PostgreSQL's grammar cannot read it."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(f"SELECT ({text})" if expression else text)
    except (ParseError, RecursionError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    found = [reach(s.stmt) for s in statements]
    return Reach(
        *(tuple(dict.fromkeys(item for r in found for item in getattr(r, part))) for part in ("calls", "operators", "relations", "types")),
        writes=any(r.writes for r in found),
    )


# Operators the grammar implies without naming them in the tree.
_IMPLIED_OPERATORS = {
    "AEXPR_BETWEEN": (">=", "<="),
    "AEXPR_BETWEEN_SYM": (">=", "<="),
    "AEXPR_NOT_BETWEEN": ("<", ">"),
    "AEXPR_NOT_BETWEEN_SYM": ("<", ">"),
}


def reach(node) -> Reach:
    """What ``node`` (a parsed statement) can make the server run, found anywhere in its tree:
    CTEs, subqueries, LATERAL, ORDER BY, window and FILTER clauses, VALUES, RETURNING, MERGE actions."""
    from pglast import ast
    from pglast.visitors import Visitor

    calls: list[Call] = []
    operators: list[OperatorUse] = []
    relations: list[Name] = []
    types: list[Name] = []
    writes = False

    def operator(names, prefix: bool = False) -> None:
        operators.append(OperatorUse(_name(names), prefix))

    class Found(Visitor):
        def visit_FuncCall(self, ancestors, call: ast.FuncCall) -> None:
            arity = len(call.args or ()) + (len(call.agg_order or ()) if call.agg_within_group else 0)
            calls.append(Call(_name(call.funcname), arity, "call"))

        def visit_ColumnRef(self, ancestors, ref: ast.ColumnRef) -> None:
            # t.f (or s.t.f) is f(t) when t has no column f: a function call without parentheses.
            fields = ref.fields or ()
            if len(fields) >= 2 and isinstance(fields[-1], ast.String):
                calls.append(Call(Name(None, fields[-1].sval), 1, "attribute"))

        def visit_A_Indirection(self, ancestors, node: ast.A_Indirection) -> None:
            for item in node.indirection or ():  # (row).f, likewise
                if isinstance(item, ast.String):
                    calls.append(Call(Name(None, item.sval), 1, "attribute"))

        def visit_RangeTableSample(self, ancestors, node: ast.RangeTableSample) -> None:
            calls.append(Call(_name(node.method), 1, "tablesample"))  # the method's handler(internal)

        def visit_A_Expr(self, ancestors, expr: ast.A_Expr) -> None:
            kind = expr.kind.name
            if kind in _IMPLIED_OPERATORS:
                for name in _IMPLIED_OPERATORS[kind]:
                    operators.append(OperatorUse(Name(None, name), False))
            else:  # OP, OP_ANY, OP_ALL, DISTINCT, NOT_DISTINCT, NULLIF, IN, LIKE, ILIKE, SIMILAR
                operator(expr.name, prefix=expr.lexpr is None)

        def visit_SubLink(self, ancestors, link: ast.SubLink) -> None:
            kind = link.subLinkType.name
            if kind in ("ANY_SUBLINK", "ALL_SUBLINK", "ROWCOMPARE_SUBLINK"):
                operator(link.operName or (ast.String("="),))  # x IN (SELECT ...): =

        def visit_SortBy(self, ancestors, sort: ast.SortBy) -> None:
            if sort.useOp:
                operator(sort.useOp)

        def visit_CaseExpr(self, ancestors, case: ast.CaseExpr) -> None:
            if case.arg is not None:  # CASE x WHEN y: x = y
                operators.append(OperatorUse(Name(None, "="), False))

        def visit_JoinExpr(self, ancestors, join: ast.JoinExpr) -> None:
            if join.usingClause or join.isNatural:
                operators.append(OperatorUse(Name(None, "="), False))

        def visit_RangeVar(self, ancestors, var: ast.RangeVar) -> None:
            relations.append(Name(var.schemaname, var.relname))

        def visit_TypeName(self, ancestors, type_name: ast.TypeName) -> None:
            if type_name.names:
                types.append(_name(type_name.names))

        def visit_InsertStmt(self, ancestors, node) -> None:
            nonlocal writes
            writes = True

        visit_MergeStmt = visit_InsertStmt
        visit_SetToDefault = visit_InsertStmt  # UPDATE ... SET x = DEFAULT

    Found()(node)

    def unique(items):
        return tuple(dict.fromkeys(items))

    return Reach(unique(calls), unique(operators), unique(relations), unique(types), writes)


def _name(parts) -> Name:
    """A qualified name from the grammar's list of String nodes (``catalog.schema.name``: the
    server refuses another database's catalog, so the last two parts decide)."""
    names = [p.sval for p in parts]
    return Name(names[-2] if len(names) > 1 else None, names[-1])


def _parse(sql: str, *, what: str):
    from pglast import parse_sql
    from pglast.parser import ParseError

    if "\x00" in sql:
        # libpg_query and libpq both read C strings: text after a NUL would be seen by neither.
        raise usage_error(f"{what} contains a NUL character", "remove it")
    try:
        return parse_sql(sql)
    except ParseError as exc:
        raise usage_error(f"{what} is not valid SQL: {exc}", "check the SQL; it is read by PostgreSQL's own parser") from None
    except RecursionError:
        raise usage_error(f"{what} is nested too deeply to check", "simplify the statement") from None


def _require_explainable(stmt, kind: str, sql: str) -> None:
    if kind in EXPLAINABLE:
        if kind == "SelectStmt" and stmt.intoClause is not None:
            raise usage_error(
                "SELECT INTO creates a table; explain takes a statement EXPLAIN can run and roll back",
                "drop the INTO clause and explain the SELECT",
            )
        return
    if kind in REFUSED_EXPLAINABLE:
        message, hint = REFUSED_EXPLAINABLE[kind]
        raise usage_error(f"cannot explain that statement: {message}", hint)
    label = _leading_keywords(sql)
    if kind == "TransactionStmt":
        message = f"{label} is transaction control; todoctl runs the statement in its own transaction and rolls it back"
    elif kind in ("VariableSetStmt", "VariableShowStmt"):
        message = f"{label} is a session setting, not a statement EXPLAIN accepts"
    else:
        message = f"{label} is a utility statement, not one EXPLAIN accepts"
    raise usage_error(message, "explain takes one SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE")


def _require_no_parameters(stmt) -> None:
    """``$1`` has no value to bind: a usage error naming it, not the server's protocol message."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[int] = []

    class Params(Visitor):
        def visit_ParamRef(self, ancestors, node: ast.ParamRef) -> None:
            found.append(node.number)

    Params()(stmt)
    if found:
        raise usage_error(
            f"the statement has a parameter (${min(found)}) and explain sql takes no values for it",
            "write the value in place of it; named queries (`todoctl explain NAME --param k=v`) take parameters",
        )


def _leading_keywords(sql: str) -> str:
    """The statement's first keyword (two for CREATE/ALTER/DROP ...), from PostgreSQL's own scanner."""
    from pglast.parser import scan

    # Token names are the grammar's: keywords that clash with C macros carry a _P suffix (BEGIN_P).
    words = [t.name.removesuffix("_P") for t in scan(sql) if t.name not in ("C_COMMENT", "SQL_COMMENT")]
    if not words:
        return "the statement"
    first = words[0]
    if first in ("CREATE", "ALTER", "DROP", "COMMENT", "SECURITY") and len(words) > 1 and words[1] not in ("IDENT",):
        return f"{first} {words[1]}"
    return first if first.isalpha() else "the statement"

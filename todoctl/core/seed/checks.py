"""CHECK constraints read with PostgreSQL's grammar (pglast): what each says about the columns.

A CHECK is a conjunction (``AND``) of facts the seed knows how to satisfy:

    status IN ('a', 'b')  /  status = ANY (ARRAY[...])  /  s = 'a' OR s = 'b'   one of these values
    price > 0  /  rating BETWEEN 1 AND 5  /  starts >= '2020-01-01'::date     a range
    btrim(title) <> ''  /  title <> ''                                        not blank
    length(code) = 8  /  char_length(name) BETWEEN 2 AND 50                   a length
    code ~ '^[A-Z]+$'  /  email LIKE '%@%'  /  x !~* 'test'                   a pattern
    ends_at > starts_at  /  updated_at >= created_at                          an order of two columns
    col IS NOT NULL                                                           not null

Anything else (``(status = 'completed') = (completed_at IS NOT NULL)``) is ``unreadable``: the seed
stops before writing unless a hook says it satisfies that constraint, or the profile trusts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

_COMPARE = {"<", "<=", ">", ">=", "=", "<>", "!="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "<>"}
_LENGTH_FUNCTIONS = {"length", "char_length", "character_length"}
_TRIM_FUNCTIONS = {"btrim", "trim", "ltrim", "rtrim"}
_FOLD_FUNCTIONS = {"lower", "upper"}


@dataclass(frozen=True)
class Pattern:
    kind: str  # "regex" | "like"
    pattern: str
    negated: bool = False
    ignore_case: bool = False

    @property
    def sql(self) -> str:
        op = {"regex": "~", "like": "LIKE"}[self.kind]
        if self.ignore_case:
            op = "~*" if self.kind == "regex" else "ILIKE"
        if self.negated:
            op = ("!" + op) if self.kind == "regex" else "NOT " + op
        return f"{op} {self.pattern!r}"

    def compiled(self) -> re.Pattern:
        """The pattern as a Python regular expression (raises re.error for what Python cannot read)."""
        return _compiled(self.kind, self.pattern, self.ignore_case)

    def matches(self, value: str) -> bool:
        found = self.compiled().search(value) is not None if self.kind == "regex" else self.compiled().fullmatch(value) is not None
        return found != self.negated


@lru_cache(maxsize=256)
def _compiled(kind: str, pattern: str, ignore_case: bool) -> re.Pattern:
    flags = re.IGNORECASE if ignore_case else 0
    if kind == "regex":
        return re.compile(pattern, flags)
    # LIKE: % is any run of characters, _ any one, backslash escapes the next character.
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), flags | re.DOTALL)


@dataclass
class Facts:
    """What one table's CHECKs say, per column; ``where[column]`` names the constraints that said it."""

    one_of: dict[str, tuple] = field(default_factory=dict)
    none_of: dict[str, set] = field(default_factory=dict)
    bounds: dict[str, list[tuple[str, object]]] = field(default_factory=dict)  # (op, constant)
    lengths: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # (op, n), trimmed or not
    not_blank: set[str] = field(default_factory=set)
    patterns: dict[str, list[Pattern]] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    orders: list[tuple[str, str, str, str]] = field(default_factory=list)  # (a, op, b, constraint)
    where: dict[str, list[str]] = field(default_factory=dict)

    def said(self, column: str, constraint: str) -> None:
        self.where.setdefault(column, [])
        if constraint not in self.where[column]:
            self.where[column].append(constraint)


class Unreadable(Exception):
    """A CHECK (or part of one) the seed cannot turn into facts."""


def read(checks, columns) -> tuple[Facts, list]:
    """Facts from a table's checks; also the checks that could not be read (as given)."""
    facts = Facts()
    unreadable = []
    for check in checks:
        name = check.name or check.sql
        try:
            conjuncts = _conjuncts(_parse(check.sql))
            found = [_fact(node, columns) for node in conjuncts]
        except Unreadable:
            unreadable.append(check)
            continue
        for fact in found:
            _record(facts, fact, name)
    return facts, unreadable


def folded_column(sql: str) -> str | None:
    """``lower(email)`` -> ``email`` (also upper(), and through casts); None for anything else."""
    try:
        node = _strip(_parse(sql))
    except Unreadable:
        return None
    if type(node).__name__ == "FuncCall" and _func_name(node) in _FOLD_FUNCTIONS and len(node.args or ()) == 1:
        column = _column_name(node.args[0])
        return column
    return None


# ---------------------------------------------------------------- the grammar


def _parse(sql: str):
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(f"SELECT ({sql})")
    except ParseError as exc:
        raise Unreadable(str(exc)) from None
    return statements[0].stmt.targetList[0].val


def _conjuncts(node) -> list:
    if type(node).__name__ == "BoolExpr" and node.boolop.name == "AND_EXPR":
        out = []
        for arg in node.args:
            out += _conjuncts(arg)
        return out
    return [node]


def _strip(node):
    """Through casts: ``(theme)::text`` is ``theme``, ``'a'::varchar`` is ``'a'``."""
    while type(node).__name__ == "TypeCast":
        node = node.arg
    return node


def _column_name(node) -> str | None:
    node = _strip(node)
    if type(node).__name__ == "ColumnRef":
        last = node.fields[-1]
        return getattr(last, "sval", None)
    return None


def _func_name(node) -> str:
    return node.funcname[-1].sval.lower()


_NO_VALUE = object()


def _constant(node):
    """The Python value of a constant (through casts); ``_NO_VALUE`` if it is not one."""
    node = _strip(node)
    kind = type(node).__name__
    if kind == "A_Const":
        if node.isnull:
            return None
        value = node.val
        name = type(value).__name__
        if name == "Integer":
            return value.ival
        if name == "Float":
            return Decimal(value.fval)
        if name == "String":
            return value.sval
        if name == "Boolean":
            return value.boolval
        return _NO_VALUE
    if kind == "A_Expr" and node.kind.name == "AEXPR_OP" and node.lexpr is None and node.name[-1].sval == "-":
        inner = _constant(node.rexpr)
        return -inner if isinstance(inner, (int, Decimal)) else _NO_VALUE
    return _NO_VALUE


def _constants(node) -> tuple:
    node = _strip(node)
    items = node.elements if type(node).__name__ == "A_ArrayExpr" else node
    if not isinstance(items, (tuple, list)):
        raise Unreadable("not a list of constants")
    values = tuple(_constant(item) for item in items)
    if any(v is _NO_VALUE for v in values):
        raise Unreadable("not a list of constants")
    return values


def _fact(node, columns) -> tuple:
    """One conjunct as a fact tuple: (kind, column, ...)."""
    node = _strip(node)
    kind = type(node).__name__
    if kind == "NullTest":
        column = _column_name(node.arg)
        if column in columns and node.nulltesttype.name == "IS_NOT_NULL":
            return ("not_null", column)
        raise Unreadable("null test")
    if kind == "BoolExpr" and node.boolop.name == "OR_EXPR":
        return _alternatives(node, columns)
    if kind != "A_Expr":
        raise Unreadable(kind)
    expr_kind = node.kind.name
    op = node.name[-1].sval if node.name else ""
    if expr_kind == "AEXPR_IN":
        column = _column_name(node.lexpr)
        if column not in columns:
            raise Unreadable("IN over an expression")
        values = _constants(node.rexpr)
        return ("one_of", column, values) if op == "=" else ("none_of", column, values)
    if expr_kind == "AEXPR_OP_ANY" and op == "=":
        column = _column_name(node.lexpr)
        if column not in columns:
            raise Unreadable("ANY over an expression")
        return ("one_of", column, _constants(node.rexpr))
    if expr_kind == "AEXPR_OP_ALL" and op in ("<>", "!="):
        column = _column_name(node.lexpr)
        if column not in columns:
            raise Unreadable("ALL over an expression")
        return ("none_of", column, _constants(node.rexpr))
    if expr_kind == "AEXPR_BETWEEN":
        column, subject = _subject(node.lexpr, columns)
        low, high = _constants(node.rexpr)
        _readable_comparison(subject, ">=", low)
        _readable_comparison(subject, "<=", high)
        return ("between", column, subject, low, high)
    if expr_kind in ("AEXPR_LIKE", "AEXPR_ILIKE"):
        column = _column_name(node.lexpr)
        pattern = _constant(node.rexpr)
        if column not in columns or not isinstance(pattern, str):
            raise Unreadable("LIKE")
        return ("pattern", column, Pattern("like", pattern, negated=op.startswith("!"), ignore_case=expr_kind == "AEXPR_ILIKE"))
    if expr_kind != "AEXPR_OP" or node.lexpr is None:
        raise Unreadable(expr_kind)
    if op in ("~", "~*", "!~", "!~*"):
        column = _column_name(node.lexpr)
        pattern = _constant(node.rexpr)
        if column not in columns or not isinstance(pattern, str):
            raise Unreadable("regex")
        return ("pattern", column, Pattern("regex", pattern, negated=op.startswith("!"), ignore_case=op.endswith("*")))
    if op not in _COMPARE:
        raise Unreadable(op)
    left_column, right_column = _column_name(node.lexpr), _column_name(node.rexpr)
    if left_column in columns and right_column in columns:
        if op in ("<>", "!=", "="):
            raise Unreadable("two columns, not an order")
        return ("order", left_column, op, right_column)
    left, right = _constant(node.lexpr), _constant(node.rexpr)
    if right is not _NO_VALUE and left is _NO_VALUE:
        column, subject = _subject(node.lexpr, columns)
        return ("compare", column, subject, *_readable_comparison(subject, op, right))
    if left is not _NO_VALUE and right is _NO_VALUE:
        column, subject = _subject(node.rexpr, columns)
        return ("compare", column, subject, *_readable_comparison(subject, _FLIP[op], left))
    raise Unreadable("comparison")


def _readable_comparison(subject: str, op: str, value) -> tuple[str, object]:
    """A comparison the seed can satisfy: of a value with a constant, a length with an integer,
    a trimmed value with '' (not blank)."""
    op = "<>" if op == "!=" else op
    if value is None:
        raise Unreadable("comparison with NULL")
    if subject == "trimmed" and not (op == "<>" and value == ""):
        raise Unreadable("a trimmed value compared with something other than ''")
    if subject in ("length", "trimmed_length") and (isinstance(value, bool) or not isinstance(value, int)):
        raise Unreadable("a length compared with something other than an integer")
    return op, value


def _subject(node, columns) -> tuple[str, str]:
    """What a comparison is about: (column, "value" | "length" | "trimmed" | "trimmed_length")."""
    node = _strip(node)
    column = _column_name(node)
    if column in columns:
        return column, "value"
    if type(node).__name__ == "FuncCall" and len(node.args or ()) == 1:
        name = _func_name(node)
        inner = _strip(node.args[0])
        if name in _TRIM_FUNCTIONS and _column_name(inner) in columns:
            return _column_name(inner), "trimmed"
        if name in _LENGTH_FUNCTIONS:
            if _column_name(inner) in columns:
                return _column_name(inner), "length"
            if type(inner).__name__ == "FuncCall" and _func_name(inner) in _TRIM_FUNCTIONS and len(inner.args or ()) == 1:
                if _column_name(inner.args[0]) in columns:
                    return _column_name(inner.args[0]), "trimmed_length"
    raise Unreadable("not a column")


def _alternatives(node, columns) -> tuple:
    """``s = 'a' OR s = 'b' OR s IN ('c')`` -> one_of; anything else is unreadable."""
    column, values = None, []
    for arg in node.args:
        fact = _fact(arg, columns)
        if fact[0] == "one_of":
            this, more = fact[1], list(fact[2])
        elif fact[0] == "compare" and fact[2] == "value" and fact[3] == "=":
            this, more = fact[1], [fact[4]]
        else:
            raise Unreadable("OR of other things")
        if column not in (None, this):
            raise Unreadable("OR over several columns")
        column = this
        values += more
    return ("one_of", column, tuple(values))


def _record(facts: Facts, fact: tuple, name: str) -> None:
    kind, column = fact[0], fact[1]
    if kind == "order":
        facts.orders.append((fact[1], fact[2], fact[3], name))
        facts.said(fact[1], name)
        facts.said(fact[3], name)
        return
    facts.said(column, name)
    if kind == "not_null":
        facts.not_null.add(column)
    elif kind == "one_of":
        values = tuple(v for v in fact[2] if v is not None)
        if column in facts.one_of:
            values = tuple(v for v in facts.one_of[column] if v in values)
        facts.one_of[column] = values
    elif kind == "none_of":
        facts.none_of.setdefault(column, set()).update(v for v in fact[2] if v is not None)
    elif kind == "pattern":
        facts.patterns.setdefault(column, []).append(fact[2])
    elif kind == "between":
        _, _, subject, low, high = fact
        _record(facts, ("compare", column, subject, ">=", low), name)
        _record(facts, ("compare", column, subject, "<=", high), name)
    elif kind == "compare":
        _, _, subject, op, value = fact
        op = "<>" if op == "!=" else op
        if subject == "value":
            if op == "=":
                facts.one_of[column] = (value,) if column not in facts.one_of else tuple(v for v in facts.one_of[column] if v == value)
            elif op == "<>" and value == "":
                facts.not_blank.add(column)
            elif op == "<>":
                facts.none_of.setdefault(column, set()).add(value)
            else:
                facts.bounds.setdefault(column, []).append((op, value))
        elif subject == "trimmed":
            facts.not_blank.add(column)
        else:  # a length, of the value or of it trimmed
            facts.lengths.setdefault(column, []).append((op, value))
            if subject == "trimmed_length" and op in (">", ">=", "=", "<>") and (value > 0 or op == ">"):
                facts.not_blank.add(column)



def columns_of(sql: str, columns) -> list[str]:
    """The table's columns an expression mentions, in the order it mentions them."""
    try:
        node = _parse(sql)
    except Unreadable:
        return []
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[str] = []

    class Collect(Visitor):
        def visit_ColumnRef(self, ancestors, node: ast.ColumnRef):
            name = getattr(node.fields[-1], "sval", None)
            if name in columns and name not in found:
                found.append(name)

    Collect()(node)
    return found

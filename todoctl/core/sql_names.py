"""Names and values written into the SQL todoctl prints (hints, fixes): quoted as PostgreSQL needs.

One rule, PostgreSQL's own ``quote_ident``: a name stays bare when it is lower-case letters, digits
and underscores (not starting with a digit) and is not a keyword, or only an unreserved one;
otherwise it is double-quoted, with ``"`` doubled. The keyword table is the server's grammar's
(libpg_query, through pglast), so a table named ``user``, ``order`` or ``concurrently`` comes out
as ``"user"``, ``"order"``, ``"concurrently"``; ``tasks`` stays ``tasks``.

    ident("user")                    # '"user"'
    idents(["user_id", "order"])     # 'user_id, "order"'
    table_ref("billing.order")       # 'billing."order"' (never '"billing.order"')
    literal("it's")                  # "'it''s'"
"""

from __future__ import annotations

import functools
import re
from typing import Iterable

_SIMPLE = re.compile(r"^[a-z_][a-z0-9_$]*$")


@functools.lru_cache(maxsize=1)
def _needs_quoting_keywords() -> frozenset[str]:
    from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    return frozenset(RESERVED_KEYWORDS) | frozenset(TYPE_FUNC_NAME_KEYWORDS) | frozenset(COL_NAME_KEYWORDS)


def ident(name: str) -> str:
    """``name`` as an identifier in SQL: bare when PostgreSQL allows it, else double-quoted."""
    if _SIMPLE.match(name) and name not in _needs_quoting_keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def idents(names: Iterable[str]) -> str:
    """A comma-separated list of identifiers: ``user_id, "order"``."""
    return ", ".join(ident(n) for n in names)


def qualified(*parts: str) -> str:
    """``schema.table`` (or ``table.column``), each part quoted as needed."""
    return ".".join(ident(p) for p in parts if p)


def table_ref(name: str, schema: str | None = None) -> str:
    """SQL for the table a todoctl name stands for: ``schema.name`` (as MetaData keys a table
    outside the default schema) qualified, a bare name in ``schema`` if given, else as the search
    path finds it."""
    own_schema, table = split_table(name)
    return qualified(own_schema or schema or "", table)


def split_table(name: str) -> tuple[str | None, str]:
    """A todoctl table name (``table``, or ``schema.table`` as MetaData keys a table outside the
    default schema) as its schema (None: as the search path finds it) and its own name."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


def table_name(name: str) -> str:
    """The table's own name, without its schema: what names derived from it (``payment_order_id_fkey``) start with."""
    return split_table(name)[1]


def in_table_schema(table: str, name: str) -> str:
    """SQL for an object of ``table``'s schema other than the table (an index to drop): qualified
    like the table, each part quoted as needed (``billing.ix_payment_order_id``)."""
    return qualified(split_table(table)[0] or "", name)


def key(expression: str) -> str:
    """An index key as written in CREATE INDEX: a plain column name quoted as needed; an expression
    (``lower(email)``, already SQL as PostgreSQL or todoctl printed it) in parentheses."""
    if expression.startswith('"') or re.fullmatch(r"[^()\s,'\"]+", expression):
        return expression if expression.startswith('"') else ident(expression)
    if re.fullmatch(r"[a-z_][a-z0-9_]*\(.*\)", expression, re.DOTALL):
        return expression  # a function call needs no parentheses of its own: lower(email)
    return f"({expression})"


def keys(expressions: Iterable[str]) -> str:
    return ", ".join(key(e) for e in expressions)


def literal(value: str) -> str:
    """A string constant: ``'it''s'`` (standard_conforming_strings, on since PostgreSQL 9.1)."""
    return "'" + str(value).replace("'", "''") + "'"

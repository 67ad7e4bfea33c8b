"""The models' indexes as shapes a query can use: keys, method, predicate (query_shape.py reads the queries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from todoctl.core.review.query_shape import ORDERED_METHODS, QueryShape, conjuncts, unqualified

if TYPE_CHECKING:
    from sqlalchemy import MetaData


@dataclass(frozen=True)
class IndexShape:
    """An index as the models declare it (primary keys and unique constraints included)."""

    name: str
    table: str
    keys: tuple[str, ...]  # columns or unqualified expressions, in order
    method: str
    predicate: frozenset[str] = frozenset()  # a partial index's WHERE terms, unqualified SQL
    unique: bool = False

    @property
    def ordered(self) -> bool:
        return self.method in ORDERED_METHODS

    def usable_by(self, shape: QueryShape) -> bool:
        """A partial index serves a query only when the query states the index's predicate."""
        return self.predicate <= shape.predicates


def _sql_expression(text_sql: str) -> str:
    from pglast import parse_sql

    [raw] = parse_sql(f"SELECT {text_sql}")
    return unqualified(raw.stmt.targetList[0].val)


def _predicate_terms(text_sql: str) -> frozenset[str]:
    from pglast import parse_sql

    [raw] = parse_sql(f"SELECT 1 WHERE {text_sql}")
    return frozenset(unqualified(t) for t in conjuncts(raw.stmt.whereClause))


def model_indexes(metadata: "MetaData") -> dict[str, list[IndexShape]]:
    """table -> its indexes as the models declare them (primary key and unique constraints too)."""
    from sqlalchemy import Column, UniqueConstraint
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    found: dict[str, list[IndexShape]] = {}
    for table in metadata.tables.values():
        shapes = found.setdefault(table.name, [])
        if table.primary_key.columns:
            keys = tuple(c.name for c in table.primary_key.columns)
            shapes.append(IndexShape(table.primary_key.name or f"{table.name}_pkey", table.name, keys, "btree", unique=True))
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.columns:
                keys = tuple(c.name for c in constraint.columns)
                shapes.append(IndexShape(str(constraint.name or f"{table.name}_{'_'.join(keys)}_key"), table.name, keys, "btree", unique=True))
        for index in table.indexes:
            keys = tuple(
                e.name if isinstance(e, Column) else _sql_expression(str(e.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
                for e in index.expressions
            )
            options = index.dialect_options["postgresql"]
            where = options.get("where")
            predicate = (
                _predicate_terms(str(where.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
                if where is not None
                else frozenset()
            )
            shapes.append(IndexShape(str(index.name), table.name, keys, (options.get("using") or "btree").lower(), predicate, bool(index.unique)))
    return found

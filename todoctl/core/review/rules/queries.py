"""Review rules: the app's named queries — whom they read, what serves them (sql_injection.py: how
the app builds its SQL).

- query-user-scope (critical): a named query reading a user-owned table (one with a ``user_id``
  column) must compare some user-owned table's ``user_id`` with a parameter (in WHERE or a JOIN's
  ON), unless its registry entry says ``cross_user=True``. Filtering by a parent's id (``list_id``)
  alone is not ownership: whoever learns the id would read another user's rows. It is, when a
  top-level ``EXISTS`` checks that parent (by its primary key, bound to the same parameter as the
  foreign key the query filters on) has ``user_id`` = a parameter. Rows reached by a join from the
  scoped table are trusted to belong to the same user.
- query-index (warning): each WHERE term and the ORDER BY of a named query, against the indexes the
  models declare (todoctl/models.py; not the live pg_index, so it runs offline).
- index-column-order (warning): a composite index used by a query (declared in its ``indexes=`` or
  led by a column the query filters or sorts on) that puts a column the query compares with ``=``
  after one it compares by range, sorts on, or leaves free.
- n-plus-one (warning): a named query returning ORM entities whose mapper has a relationship loaded
  lazily per row (``lazy="select"``, SQLAlchemy's default, or ``"dynamic"``) with no loader option
  in the query for it. Reading that relationship on each row costs a query per row; choosing
  ``selectinload``/``joinedload`` (or ``lazy="raise"`` to forbid it) makes the access pattern explicit.
  Queries that return at most one row (LIMIT 1) are exempt.
"""

from __future__ import annotations

from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule
from todoctl.core.review.index_shape import IndexShape, model_indexes
from todoctl.core.review.query_shape import QueryShape, placeholders, shape_of
from todoctl.core.sql_names import keys as index_keys, table_ref
from todoctl.project import find_table



def _shapes(ctx: ReviewContext) -> list[tuple[object, QueryShape]]:
    return [(named, shape_of(named, ctx.metadata)) for named in ctx.queries.values()]


# ---------------------------------------------------------------- query-user-scope


def user_owned(ctx: ReviewContext) -> set[str]:
    """Tables whose rows belong to a user: those with a ``user_id`` column."""
    return {t.key for t in ctx.metadata.tables.values() if "user_id" in t.c}


@rule(
    "query-user-scope",
    "critical",
    "named query over user-owned rows without a user_id filter",
    why="a query that does not pin the user returns rows of other people to whoever calls it",
)
def query_user_scope(ctx: ReviewContext) -> Iterator[Finding]:
    owned = user_owned(ctx)
    for named, shape in _shapes(ctx):
        if getattr(named, "cross_user", False):
            continue
        if shape.error:
            yield Finding(
                "query-user-scope",
                f"query {named.name}",
                f"cannot be checked: {shape.error}",
                "make the query build from its parameters' types, or declare cross_user=True if it reads every user",
            )
            continue
        read = sorted({t for t in shape.tables.values() if t in owned})
        if not read:
            continue
        pinned = [
            c
            for c in shape.conditions + shape.join_conditions
            if c.key == "user_id" and c.kind == "eq" and c.value_has_param and c.table in owned
        ]
        if not pinned and not _scoped_through_parent(shape, owned, ctx.metadata):
            yield Finding(
                "query-user-scope",
                f"query {named.name}",
                f"reads user-owned {', '.join(read)} without comparing user_id with a parameter",
                f"add .where({read[0]}.c.user_id == user_id) with a user_id parameter, or register it with "
                "cross_user=True if it is a job over every user",
            )


def _scoped_through_parent(shape: QueryShape, owned: set[str], metadata) -> bool:
    """``WHERE tasks.list_id = :list_id AND EXISTS (SELECT FROM task_lists WHERE id = :list_id AND
    user_id = :user_id)``: every row's parent (by a foreign key to its primary key, compared with the
    same parameter) is checked to be the user's."""
    for inner in shape.exists:
        for parent in sorted(set(inner.tables.values()) & owned):
            pk = [c.name for c in find_table(metadata, parent).primary_key.columns]
            mine = [c for c in inner.conditions if c.table == parent and c.kind == "eq" and c.param]
            if len(pk) != 1 or not any(c.key == "user_id" for c in mine):
                continue
            key_params = {c.param for c in mine if c.key == pk[0]}
            for c in shape.conditions:
                if c.kind == "eq" and c.param in key_params and _references(metadata, c.table, c.key, parent, pk[0]):
                    return True
    return False


def _references(metadata, table: str, column: str, parent: str, parent_column: str) -> bool:
    found = find_table(metadata, table)
    col = found.c.get(column) if found is not None else None
    return col is not None and any(
        fk.column.table.key == parent and fk.column.name == parent_column for fk in col.foreign_keys
    )


# ---------------------------------------------------------------- query-index


def _serves(index: IndexShape, key: str, kind: str, eq: set[str]) -> bool:
    """Whether ``index`` can find rows by ``key``: btree when every key before it is pinned by ``=``."""
    if key not in index.keys:
        return False
    if not index.ordered:
        return kind in ("eq", "other")  # GIN/GiST/hash: any key position, but no range order
    if kind == "other":
        return False  # @@, @> ... are not btree operators
    return all(k in eq for k in index.keys[: index.keys.index(key)])


def _orders(index: IndexShape, columns: list[str], eq: set[str]) -> bool:
    """Whether the btree ``index`` returns rows in ``columns`` order once its ``=`` keys are pinned."""
    if not index.ordered:
        return False
    keys = list(index.keys)
    while keys and keys[0] in eq and keys[0] not in columns:
        keys.pop(0)
    return keys[: len(columns)] == columns


@rule(
    "query-index",
    "warning",
    "column a named query filters or sorts on without a supporting index",
    why="without an index the query reads the whole table, and grows slower with every row",
)
def query_index(ctx: ReviewContext) -> Iterator[Finding]:
    indexes = model_indexes(ctx.metadata)
    for named, shape in _shapes(ctx):
        if shape.error:
            continue
        for condition in shape.conditions:
            if condition.kind == "like":
                continue  # text search has its own check (text-search-index)
            usable = [i for i in indexes.get(condition.table, []) if i.usable_by(shape)]
            eq = shape.eq_keys(condition.table)
            if any(i.unique and set(i.keys) <= eq for i in usable):
                continue  # a unique key pinned by =: at most one row, the other terms filter it
            if any(condition.sql in i.predicate for i in usable) or any(_serves(i, condition.key, condition.kind, eq) for i in usable):
                continue
            keys = sorted(eq - {condition.key}) + [condition.key]
            sql = f"CREATE INDEX CONCURRENTLY ON {table_ref(condition.table)} ({index_keys(keys)});"
            yield Finding(
                "query-index",
                f"query {named.name}",
                f"filters {condition.table} on {condition.key} ({condition.operator}) and no index serves it",
                f"declare Index(..., {', '.join(keys)}) on {condition.table} in the models "
                f"(equality columns first) and add a migration: {sql}",
                sql=sql,
            )
        sort = _unserved_sort(shape, indexes)
        if sort:
            table, columns, eq = sort
            keys = sorted(eq - set(columns)) + columns
            sql = f"CREATE INDEX CONCURRENTLY ON {table_ref(table)} ({index_keys(keys)});"
            yield Finding(
                "query-index",
                f"query {named.name}",
                f"sorts {table} by {', '.join(columns)} and no index gives that order: every matching row is read and sorted",
                f"{sql}  (declare it in the models and a migration)",
                sql=sql,
            )


def _unserved_sort(shape: QueryShape, indexes: dict[str, list[IndexShape]]):
    # A join is sorted after joining and an aggregate sorts its groups: no index order helps either.
    if not shape.order_by or shape.joined or shape.grouped or shape.limit_one:
        return None
    tables = {t for t, _ in shape.order_by}
    if len(tables) != 1:
        return None
    table = tables.pop()
    eq = shape.eq_keys(table)
    columns = [c for _, c in shape.order_by if c not in eq]
    if not columns:
        return None  # sorting on columns pinned by = is no sort at all
    if any(_orders(i, columns, eq) for i in indexes.get(table, []) if i.usable_by(shape)):
        return None
    return table, columns, eq


# ---------------------------------------------------------------- index-column-order


@rule(
    "index-column-order",
    "warning",
    "composite index whose column order does not serve its queries (equality first, then range/sort)",
    why="a btree can use its columns only left to right: a = column after a range or sort column is read, not searched",
)
def index_column_order(ctx: ReviewContext) -> Iterator[Finding]:
    indexes = model_indexes(ctx.metadata)
    for named, shape in _shapes(ctx):
        if shape.error:
            continue
        declared = set(getattr(named, "indexes", ()) or ())
        for table in sorted(set(shape.tables.values())):
            eq = shape.eq_keys(table)
            used = {c.key for c in shape.conditions if c.table == table}
            used |= {c for t, c in shape.order_by or () if t == table}
            usable = [i for i in indexes.get(table, []) if i.ordered and i.usable_by(shape)]
            exact = any(_pins(i, eq) for i in usable)
            for index in usable:
                if len(index.keys) < 2:
                    continue
                # An index the query does not declare is judged only when it is the query's best
                # way in: not when another index already finds the rows by all the = columns.
                if index.name not in declared and (index.keys[0] not in used or exact):
                    continue
                misplaced = _misplaced(index.keys, eq)
                if misplaced:
                    column, after = misplaced
                    better = [k for k in index.keys if k in eq] + [k for k in index.keys if k not in eq]
                    yield Finding(
                        "index-column-order",
                        f"query {named.name}",
                        f"{index.name} ({', '.join(index.keys)}) puts {column}, compared with =, after {after}, "
                        "which the query does not pin with =",
                        f"reorder it as ({', '.join(better)}): equality columns first, then range and sort columns",
                    )


def _pins(index: IndexShape, eq: set[str]) -> bool:
    """Whether ``index`` finds the rows by the query's = columns alone (they lead it, or it is unique within them)."""
    if not eq:
        return False
    return set(index.keys[: len(eq)]) == eq or (index.unique and set(index.keys) <= eq)


def _misplaced(keys: tuple[str, ...], eq: set[str]) -> tuple[str, str] | None:
    first_free = None
    for key in keys:
        if key not in eq:
            first_free = first_free or key
        elif first_free is not None:
            return key, first_free
    return None


# ---------------------------------------------------------------- n-plus-one

_PER_ROW = {"select", True, "dynamic"}


@rule(
    "n-plus-one",
    "warning",
    "relationship loaded lazily per row by a named query that returns entities",
    why="reading a lazy relationship on each of N rows issues N more queries",
)
def n_plus_one(ctx: ReviewContext) -> Iterator[Finding]:
    for named, shape in _shapes(ctx):
        if shape.error or shape.limit_one:
            continue
        statement = named.build(**placeholders(named.params))
        for entity, relationship in _lazy_relationships(statement):
            yield Finding(
                "n-plus-one",
                f"query {named.name}",
                f"returns {entity.__name__} rows whose {relationship.key} loads lazily, one query per row",
                f"add .options(selectinload({entity.__name__}.{relationship.key})) to the query, or declare the "
                f'relationship with lazy="selectin" (or lazy="raise" if the app never reads it)',
            )


def _lazy_relationships(statement) -> Iterator[tuple[type, object]]:
    from sqlalchemy import inspect
    from sqlalchemy.orm.strategy_options import _WildcardLoad

    descriptions = getattr(statement, "column_descriptions", None) or []
    options = list(getattr(statement, "_with_options", ()))
    if any(isinstance(o, _WildcardLoad) for o in options):
        return  # options("*") chose a strategy for every relationship
    chosen = set()
    for option in options:
        for element in getattr(option, "context", ()):
            path = getattr(element, "path", ())
            if len(path) >= 2 and hasattr(path[1], "key"):
                chosen.add(path[1].key)
    for description in descriptions:
        entity = description.get("entity")
        if entity is None or description.get("expr") is not entity:
            continue  # a column or an aggregate, not whole rows of a mapped class
        for relationship in inspect(entity).relationships:
            if relationship.lazy in _PER_ROW and relationship.key not in chosen:
                yield entity, relationship

"""What the seed reads from the app's models: tables in load order, their columns with the kind of
value each holds, keys, foreign keys, unique constraints and indexes, and CHECK constraints.

Everything comes from the SQLAlchemy MetaData (``project.app_metadata()``); SQL text in it (CHECK
expressions, index expressions) is read with PostgreSQL's grammar (pglast) in ``checks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from todoctl.errors import usage_error

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table as SATable

# kind -> the PostgreSQL type names shown for it
KINDS = (
    "uuid", "int2", "int4", "int8", "float4", "float8", "numeric", "bool", "text", "date", "time",
    "timestamp", "timestamptz", "interval", "json", "jsonb", "bytea", "enum", "array", "inet", "cidr",
)  # fmt: skip
INTEGER_KINDS = ("int2", "int4", "int8")
NUMBER_KINDS = (*INTEGER_KINDS, "float4", "float8", "numeric")
TIME_KINDS = ("date", "timestamp", "timestamptz")


@dataclass
class Column:
    name: str
    sql_type: str  # as PostgreSQL spells it, for messages: VARCHAR(255), NUMERIC(6, 2)
    kind: str | None  # one of KINDS; None: a type the seed does not know
    nullable: bool
    length: int | None = None  # varchar(n)
    precision: int | None = None  # numeric(p, s)
    scale: int | None = None
    enum_values: tuple[str, ...] = ()
    item: "Column | None" = None  # arrays: the element
    identity: bool = False  # IDENTITY or serial: drawn, and the sequence moved past them
    generated: bool = False  # GENERATED ALWAYS AS (...) STORED: the server computes it
    server_default: bool = False

    @property
    def quoted(self) -> str:
        return quote(self.name)


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    target: str  # the referenced table's key in Schema.tables
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class UniquePart:
    column: str
    folded: bool = False  # lower(col) / upper(col): unique whatever the case


@dataclass(frozen=True)
class Unique:
    name: str | None
    parts: tuple[UniquePart, ...]
    primary: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(p.column for p in self.parts)


@dataclass(frozen=True)
class Check:
    name: str | None
    sql: str


@dataclass
class Table:
    name: str
    schema: str | None
    key: str  # MetaData key: "schema.name" or "name"
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    foreign_keys: list[ForeignKey]
    uniques: list[Unique]
    checks: list[Check]
    unreadable_uniques: list[tuple[str, str]] = field(default_factory=list)  # (index name, expression)
    order: int = 0  # declaration order in the MetaData

    @property
    def quoted(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}" if self.schema else quote(self.name)

    def fk_of(self, column: str) -> ForeignKey | None:
        """The single-column foreign key on ``column``, if any."""
        for fk in self.foreign_keys:
            if fk.columns == (column,):
                return fk
        return None


@dataclass
class Schema:
    tables: dict[str, Table]  # in load order: every table after those its NOT NULL keys point at
    back_references: set[tuple[str, str]]  # (table, column): nullable keys to a table loaded later (a cycle)

    def table(self, key: str) -> Table:
        return self.tables[key]


def quote(name: str) -> str:
    """An identifier as PostgreSQL reads it: always double-quoted (``user`` is a reserved word)."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- reading the metadata


def read(metadata: "MetaData") -> Schema:
    """The app's tables, in load order, from its MetaData."""
    tables = {}
    for order, sa_table in enumerate(metadata.tables.values()):
        table = _table(sa_table)
        table.order = order
        tables[table.key] = table
    ordered, back = _load_order(tables)
    return Schema({key: tables[key] for key in ordered}, back)


def _dialect():
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _sql(element) -> str:
    return str(element.compile(dialect=_dialect(), compile_kwargs={"literal_binds": True}))


def _table(sa_table: "SATable") -> Table:
    from sqlalchemy import CheckConstraint, ForeignKeyConstraint, PrimaryKeyConstraint, UniqueConstraint

    auto = sa_table.autoincrement_column
    columns = {c.name: _column(c, identity=c is auto) for c in sa_table.columns}
    foreign_keys, uniques, checks = [], [], []
    for constraint in sa_table.constraints:
        if isinstance(constraint, ForeignKeyConstraint):
            elements = list(constraint.elements)
            foreign_keys.append(
                ForeignKey(
                    _name(constraint),
                    tuple(e.parent.name for e in elements),
                    elements[0].column.table.key,
                    tuple(e.column.name for e in elements),
                )
            )
        elif isinstance(constraint, (PrimaryKeyConstraint, UniqueConstraint)) and constraint.columns:
            uniques.append(
                Unique(
                    _name(constraint),
                    tuple(UniquePart(c.name) for c in constraint.columns),
                    primary=isinstance(constraint, PrimaryKeyConstraint),
                )
            )
        elif isinstance(constraint, CheckConstraint):
            checks.append(Check(_name(constraint), _sql(constraint.sqltext)))
    unreadable = []
    for index in sorted(sa_table.indexes, key=lambda i: i.name or ""):
        if not index.unique:
            continue
        parts = []
        for expression in index.expressions:
            part = _index_part(expression)
            if part is None:
                unreadable.append((index.name or "?", _sql(expression)))
                break
            parts.append(part)
        else:
            uniques.append(Unique(index.name, tuple(parts)))
    for column in sa_table.columns:
        if column.unique and not any(u.columns == (column.name,) for u in uniques):
            uniques.append(Unique(None, (UniquePart(column.name),)))
    foreign_keys.sort(key=lambda fk: [list(sa_table.columns.keys()).index(c) for c in fk.columns])
    return Table(
        name=sa_table.name,
        schema=sa_table.schema,
        key=sa_table.key,
        columns=columns,
        primary_key=tuple(c.name for c in sa_table.primary_key.columns),
        foreign_keys=foreign_keys,
        uniques=uniques,
        checks=checks,
        unreadable_uniques=unreadable,
    )


def _name(constraint) -> str | None:
    return str(constraint.name) if constraint.name else None


def _index_part(expression) -> UniquePart | None:
    """A unique index's expression as a column, or lower()/upper() of one; None for anything else."""
    from sqlalchemy import Column as SAColumn

    if isinstance(expression, SAColumn):
        return UniquePart(expression.name)
    from todoctl.core.seed.checks import folded_column

    found = folded_column(_sql(expression))
    return UniquePart(found, folded=True) if found else None


def _column(column, *, identity: bool) -> Column:
    sql_type = column.type.compile(dialect=_dialect())
    out = Column(
        name=column.name,
        sql_type=sql_type,
        kind=None,
        nullable=bool(column.nullable),
        identity=identity or column.identity is not None,
        generated=column.computed is not None,
        server_default=column.server_default is not None,
    )
    _describe_type(out, column.type)
    return out


def _unwrap(sa_type):
    from sqlalchemy.types import TypeDecorator

    while isinstance(sa_type, TypeDecorator):
        sa_type = sa_type.impl_instance if hasattr(sa_type, "impl_instance") else sa_type.impl
    return sa_type


def _describe_type(out: Column, sa_type) -> None:
    """Fill ``kind`` (and length, precision, enum values, item) from a SQLAlchemy type."""
    from sqlalchemy import types as t
    from sqlalchemy.dialects import postgresql as pg

    if isinstance(sa_type, (t.Interval, pg.INTERVAL)):  # Interval is a TypeDecorator over DateTime
        out.kind = "interval"
        return
    sa_type = _unwrap(sa_type)
    if isinstance(sa_type, t.ARRAY):
        item = Column(name=out.name, sql_type=_unwrap(sa_type.item_type).compile(dialect=_dialect()), kind=None, nullable=False)
        _describe_type(item, sa_type.item_type)
        out.kind, out.item = ("array", item) if item.kind not in (None, "array") else (None, item)
        return
    if isinstance(sa_type, t.Enum):
        out.kind, out.enum_values = ("enum" if sa_type.native_enum else "text"), tuple(sa_type.enums)
        out.length = sa_type.length if not sa_type.native_enum else None
        return
    kinds = [
        (pg.INET, "inet"), (pg.CIDR, "cidr"),
        (pg.JSONB, "jsonb"), (t.JSON, "json"),
        (t.Uuid, "uuid"),
        (t.Boolean, "bool"),
        (t.SmallInteger, "int2"), (t.BigInteger, "int8"), (t.Integer, "int4"),
        (pg.INTERVAL, "interval"), (t.Interval, "interval"),
        (t.DateTime, None), (t.Date, "date"), (t.Time, None),
        (t.LargeBinary, "bytea"),
        (t.String, "text"),
    ]  # fmt: skip
    if isinstance(sa_type, t.Float) or isinstance(sa_type, (pg.DOUBLE_PRECISION, pg.REAL)):
        out.kind = "float4" if isinstance(sa_type, pg.REAL) or out.sql_type == "REAL" else "float8"
        return
    if isinstance(sa_type, t.Numeric):
        out.kind, out.precision, out.scale = "numeric", sa_type.precision, sa_type.scale
        return
    for cls, kind in kinds:
        if isinstance(sa_type, cls):
            if cls is t.DateTime:
                kind = "timestamptz" if sa_type.timezone else "timestamp"
            elif cls is t.Time:
                kind = None if getattr(sa_type, "timezone", False) else "time"
            out.kind = kind
            if isinstance(sa_type, t.String):
                out.length = sa_type.length
            return
    out.kind = None


# ---------------------------------------------------------------- load order


def _load_order(tables: dict[str, Table]) -> tuple[list[str], set[tuple[str, str]]]:
    """Tables by depth (the longest chain of keys to a table with none), then declaration order.

    NOT NULL foreign keys must point at earlier tables (a cycle of them cannot be seeded: exit 2);
    a nullable key that would close a cycle is a back reference (``Schema.back_references``).
    """
    required: dict[str, set[str]] = {key: set() for key in tables}
    optional: list[tuple[str, str, str]] = []  # (table, column, target), in declaration order
    for key, table in tables.items():
        for fk in table.foreign_keys:
            if fk.target == key or fk.target not in tables:
                continue
            if any(table.columns[c].nullable for c in fk.columns):
                optional.append((key, fk.columns[0], fk.target))
            else:
                required[key].add(fk.target)
    cycle = _find_cycle(required)
    if cycle:
        names = " -> ".join(tables[k].name for k in cycle)
        raise usage_error(
            f"the NOT NULL foreign keys {names} form a cycle: no order of tables can load them",
            "make one of those foreign key columns nullable, or seed these tables yourself",
        )
    edges = {key: set(targets) for key, targets in required.items()}
    back: set[tuple[str, str]] = set()
    for key, column, target in optional:
        if _reaches(edges, target, key):
            back.add((key, column))
        else:
            edges[key].add(target)
    depth: dict[str, int] = {}

    def visit(key: str) -> int:
        if key not in depth:
            depth[key] = 1 + max((visit(t) for t in edges[key]), default=-1)
        return depth[key]

    for key in tables:
        visit(key)
    return sorted(tables, key=lambda k: (depth[k], tables[k].order)), back


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        key = todo.pop()
        if key == goal:
            return True
        if key not in seen:
            seen.add(key)
            todo.extend(edges[key])
    return False


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``edges`` as a list of keys ending where it starts, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = 1
        path.append(key)
        for target in sorted(edges[key]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[key] = 2
        return None

    for key in edges:
        if key not in state:
            found = visit(key)
            if found:
                return found
    return None

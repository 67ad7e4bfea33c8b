"""What is in a live schema, read from pg_catalog, and how two such snapshots differ.

Used by `migrate verify` (down-and-up must give back the same schema) and by the schema
commands. todoctl's own bookkeeping tables and Alembic's version table are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

IGNORED_TABLES = ("alembic_version",)
IGNORED_PREFIX = "todoctl_"


# Which schemas a catalog read covers, and what a table is called in what it returns. The app's
# tables live in the schemas its metadata names (``project.app_schemas()``; a table without a schema
# is in the database's default schema, where Alembic's version table is too). A table is named as
# MetaData keys it: ``name`` in the default schema, ``schema.name`` in any other.


def key_sql(schema: str = "n.nspname", name: str = "c.relname") -> str:
    """SQL for the todoctl name of the relation ``schema``/``name`` (expressions of the query)."""
    return f"(CASE WHEN {schema} = pg_catalog.current_schema() THEN {name}::text ELSE {schema} || '.' || {name} END)"


def in_app_schemas_sql(schema: str = "n.nspname", param: str = ":schemas") -> str:
    """SQL: ``schema`` is one the app uses (``param`` holds ``app_schemas_param()``, or one schema)."""
    return f"({schema} = ANY(CAST({param} AS text[])))"


def named_sql(param: str, schema: str = "n.nspname", name: str = "c.relname") -> str:
    """SQL: the relation is one of the names in ``param`` (a text array of todoctl names; one that
    spells out the default schema, as a model with ``schema="public"`` is keyed, matches too)."""
    return (
        f"EXISTS (SELECT FROM unnest(CAST({param} AS text[])) AS k(name) "
        f"WHERE k.name = {key_sql(schema, name)} OR k.name = {schema} || '.' || {name})"
    )


def schemas_param(conn: "Connection", schema: str | None = None) -> list[str]:
    """The schemas a catalog read covers: ``schema`` alone when given, else the default schema and
    every schema the app's tables name."""
    if schema is not None:
        return [schema]
    from todoctl.project import app_schemas

    default = conn.execute(text("SELECT pg_catalog.current_schema()")).scalar()
    named = [s for s in app_schemas() if s is not None]
    return list(dict.fromkeys([*([default] if default else []), *named]))


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    default: str | None
    generated: str | None


@dataclass(frozen=True)
class IndexInfo:
    name: str
    definition: str
    valid: bool


@dataclass(frozen=True)
class ConstraintInfo:
    name: str
    kind: str  # primary key | unique | foreign key | check | exclusion
    definition: str
    validated: bool


@dataclass
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    constraints: dict[str, ConstraintInfo] = field(default_factory=dict)


@dataclass
class SchemaSnapshot:
    tables: dict[str, TableInfo]
    types: dict[str, str]  # name -> kind (enum, domain, composite)

    def is_empty(self) -> bool:
        return not self.tables and not self.types


_KINDS = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}


def _ignored(name: str) -> bool:
    bare = name.rpartition(".")[2]
    return bare in IGNORED_TABLES or bare.startswith(IGNORED_PREFIX)


def snapshot(conn: "Connection", schema: str | None = None) -> SchemaSnapshot:
    """Tables and types of the app's schemas (``schema``: that one alone), named as MetaData keys them."""
    tables: dict[str, TableInfo] = {}
    schemas = schemas_param(conn, schema)
    rows = conn.execute(
        text(
            f"SELECT {key_sql()}, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, "
            "CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
            f"WHERE {in_app_schemas_sql()} AND c.relkind IN ('r', 'p') ORDER BY 1, a.attnum"
        ),
        {"schemas": schemas},
    )
    for table, column, type_, nullable, default, generated in rows:
        if _ignored(table):
            continue
        info = tables.setdefault(table, TableInfo(table))
        info.columns[column] = ColumnInfo(column, type_, nullable, default, generated)

    rows = conn.execute(
        text(
            f"SELECT {key_sql(name='t.relname')}, i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            f"JOIN pg_namespace n ON n.oid = t.relnamespace WHERE {in_app_schemas_sql()}"
        ),
        {"schemas": schemas},
    )
    for table, index, definition, valid in rows:
        if table in tables:
            tables[table].indexes[index] = IndexInfo(index, definition, valid)

    rows = conn.execute(
        text(
            f"SELECT {key_sql(name='t.relname')}, c.conname, c.contype, pg_get_constraintdef(c.oid), c.convalidated "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            f"JOIN pg_namespace n ON n.oid = t.relnamespace WHERE {in_app_schemas_sql()} AND c.contype <> 'n'"
        ),
        {"schemas": schemas},
    )
    for table, name, kind, definition, validated in rows:
        if table in tables:
            tables[table].constraints[name] = ConstraintInfo(name, _KINDS.get(kind, kind), definition, validated)

    rows = conn.execute(
        text(
            f"SELECT {key_sql(name='t.typname')}, CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'composite' END "
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "LEFT JOIN pg_class c ON c.oid = t.typrelid "
            f"WHERE {in_app_schemas_sql()} AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))"
        ),
        {"schemas": schemas},
    )
    types = {name: kind for name, kind in rows}
    return SchemaSnapshot(tables, types)


def differences(expected: SchemaSnapshot, actual: SchemaSnapshot) -> list[str]:
    """Each difference between two snapshots, in words ("expected" is the reference)."""
    out: list[str] = []
    for name in sorted(expected.tables.keys() - actual.tables.keys()):
        out.append(f"table {name} is missing")
    for name in sorted(actual.tables.keys() - expected.tables.keys()):
        out.append(f"table {name} is extra")
    for name in sorted(expected.tables.keys() & actual.tables.keys()):
        out.extend(_table_differences(expected.tables[name], actual.tables[name]))
    for name in sorted(expected.types.keys() - actual.types.keys()):
        out.append(f"type {name} is missing")
    for name in sorted(actual.types.keys() - expected.types.keys()):
        out.append(f"type {name} ({actual.types[name]}) is extra")
    return out


def _table_differences(a: TableInfo, b: TableInfo) -> list[str]:
    out: list[str] = []
    t = a.name
    for kind, left, right in (
        ("column", a.columns, b.columns),
        ("index", a.indexes, b.indexes),
        ("constraint", a.constraints, b.constraints),
    ):
        for name in sorted(left.keys() - right.keys()):
            out.append(f"{t}: {kind} {name} is missing")
        for name in sorted(right.keys() - left.keys()):
            out.append(f"{t}: {kind} {name} is extra")
        for name in sorted(left.keys() & right.keys()):
            if left[name] != right[name]:
                out.append(f"{t}: {kind} {name} differs: {describe(left[name])} -> {describe(right[name])}")
    return out


def describe(obj) -> str:
    if isinstance(obj, ColumnInfo):
        parts = [obj.type, "NULL" if obj.nullable else "NOT NULL"]
        if obj.default:
            parts.append(f"DEFAULT {obj.default}")
        if obj.generated:
            parts.append(f"GENERATED AS {obj.generated}")
        return " ".join(parts)
    if isinstance(obj, IndexInfo):
        return obj.definition + ("" if obj.valid else " (INVALID)")
    return obj.definition + ("" if obj.validated or "NOT VALID" in obj.definition else " NOT VALID")

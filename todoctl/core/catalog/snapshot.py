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
    return name in IGNORED_TABLES or name.startswith(IGNORED_PREFIX)


def snapshot(conn: "Connection", schema: str = "public") -> SchemaSnapshot:
    tables: dict[str, TableInfo] = {}
    rows = conn.execute(
        text(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, "
            "CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') ORDER BY c.relname, a.attnum"
        ),
        {"schema": schema},
    )
    for table, column, type_, nullable, default, generated in rows:
        if _ignored(table):
            continue
        info = tables.setdefault(table, TableInfo(table))
        info.columns[column] = ColumnInfo(column, type_, nullable, default, generated)

    rows = conn.execute(
        text(
            "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = :schema"
        ),
        {"schema": schema},
    )
    for table, index, definition, valid in rows:
        if table in tables:
            tables[table].indexes[index] = IndexInfo(index, definition, valid)

    rows = conn.execute(
        text(
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid), c.convalidated "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = :schema AND c.contype <> 'n'"
        ),
        {"schema": schema},
    )
    for table, name, kind, definition, validated in rows:
        if table in tables:
            tables[table].constraints[name] = ConstraintInfo(name, _KINDS.get(kind, kind), definition, validated)

    rows = conn.execute(
        text(
            "SELECT t.typname, CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'composite' END "
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "LEFT JOIN pg_class c ON c.oid = t.typrelid "
            "WHERE n.nspname = :schema AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))"
        ),
        {"schema": schema},
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

"""`schema show`: what is really in a database, read from the live catalog."""

from __future__ import annotations

from dataclasses import dataclass

import todoctl.core.catalog.snapshot as catalog
from todoctl.core.catalog.snapshot import (
    ColumnInfo as Column,  # one description of a column for both
)
from todoctl.core.catalog.snapshot import ConstraintInfo as Constraint
from todoctl.core.catalog.details import (
    SCHEMA,
    ForeignKey,
    IndexDetail,
    TableStats,
    foreign_keys,
    index_details,
    table_oid,
    table_stats,
)
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error
from todoctl.results import human_only


@dataclass
class SchemaOverview:
    database: str = human_only()
    schema: str  # the schemas read, comma-separated: the default one and every one the app's tables name
    tables: list[TableStats]


@dataclass
class TableDetail:
    database: str = human_only()
    schema: str
    name: str  # schema.name outside the default schema, as MetaData keys it
    estimated_rows: int | None
    total_bytes: int
    total_size: str = human_only()
    columns: list[Column]
    indexes: list[IndexDetail]
    constraints: list[Constraint]
    foreign_keys_out: list[ForeignKey]  # this table's columns -> another table
    foreign_keys_in: list[ForeignKey]  # another table's columns -> this table


def overview(url: DatabaseURL, *, schema: str | None = SCHEMA) -> SchemaOverview:
    """Every table of the app's schemas (or of ``schema``) with its estimated rows and total size."""
    with connection(url) as conn:
        schemas = catalog.schemas_param(conn, schema)
        return SchemaOverview(url.display, ", ".join(schemas), table_stats(conn, schema))


def table_detail(url: DatabaseURL, table: str, *, schema: str | None = SCHEMA) -> TableDetail:
    """One table (``schema.name`` outside the default schema): columns, indexes (size, scans),
    constraints and foreign keys both ways."""
    with connection(url) as conn:
        schemas = catalog.schemas_param(conn, schema)
        if table_oid(conn, table, schema) is None:
            names = [t.name for t in table_stats(conn, schema)]
            raise usage_error(
                f"no table {table!r} in schema {', '.join(schemas)} of {url.display}",
                f"tables: {', '.join(names)}" if names else "the schema has no tables: run `todoctl migrate up`",
            )
        snap = catalog.snapshot(conn, schema)
        stats = table_stats(conn, schema, table)[0]
        info = snap.tables.get(table)
        if info is None:  # alembic_version and todoctl_* are left out of snapshots; read them anyway
            info = _single_table(conn, table, schemas)
        keys = foreign_keys(conn, schema, table)
        return TableDetail(
            database=url.display,
            schema=table.rpartition(".")[0] if "." in table and table.rpartition(".")[0] in schemas[1:] else schemas[0],
            name=table,
            estimated_rows=stats.estimated_rows,
            total_bytes=stats.total_bytes,
            total_size=stats.total_size,
            columns=[Column(c.name, c.type, c.nullable, c.default, c.generated) for c in info.columns.values()],
            indexes=index_details(conn, schema, table),
            constraints=sorted(
                (Constraint(c.name, c.kind, c.definition, c.validated) for c in info.constraints.values()),
                key=lambda c: (_KIND_ORDER.get(c.kind, 9), c.name),
            ),
            foreign_keys_out=[k for k in keys if k.table == table],
            foreign_keys_in=[k for k in keys if k.references_table == table],
        )


_KIND_ORDER = {"primary key": 0, "unique": 1, "foreign key": 2, "check": 3, "exclusion": 4}


def _single_table(conn, table: str, schemas: list[str]) -> catalog.TableInfo:
    # catalog.snapshot leaves out alembic_version and todoctl_* (not the app's schema);
    # `schema show alembic_version` still answers, from these two plain reads.
    from sqlalchemy import text

    info = catalog.TableInfo(table)
    rows = conn.execute(
        text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
            f"WHERE {catalog.in_app_schemas_sql()} AND {catalog.key_sql()} = :table "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
        {"schemas": schemas, "table": table},
    )
    for name, type_, nullable, default in rows:
        info.columns[name] = catalog.ColumnInfo(name, type_, nullable, default, None)
    rows = conn.execute(
        text(
            "SELECT c.conname, c.contype, pg_get_constraintdef(c.oid), c.convalidated "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            f"WHERE {catalog.in_app_schemas_sql()} AND {catalog.key_sql(name='t.relname')} = :table "
            "AND c.contype <> 'n'"
        ),
        {"schemas": schemas, "table": table},
    )
    kinds = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}
    for name, kind, definition, validated in rows:
        info.constraints[name] = catalog.ConstraintInfo(name, kinds.get(kind, kind), definition, validated)
    return info

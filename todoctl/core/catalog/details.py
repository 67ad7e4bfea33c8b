"""Catalog reads the schema commands share beyond `catalog.snapshot`: table sizes and row
estimates, index details with sizes and scans, and foreign keys with their column lists.

`todoctl.core.catalog.snapshot` answers "what is the shape of the schema" for comparisons; this module
answers the questions people and lint rules ask about a live database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from todoctl.core.catalog.snapshot import in_app_schemas_sql, key_sql, schemas_param
from todoctl.results import human_only

if TYPE_CHECKING:
    from sqlalchemy import Connection

# None: the schemas the app's tables live in, and the default one (catalog.schemas_param); a table
# is named as MetaData keys it (``schema.name`` outside the default schema).
SCHEMA: str | None = None

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class TableStats:
    name: str
    estimated_rows: int | None  # None: never analyzed and no statistics yet
    total_bytes: int
    total_size: str = human_only()


@dataclass(frozen=True)
class IndexDetail:
    table: str
    name: str
    definition: str
    method: str
    primary: bool
    unique: bool
    valid: bool
    columns: tuple[str | None, ...]  # key columns in order; None where the key is an expression
    include: tuple[str, ...]  # INCLUDE (...) columns
    predicate: str | None  # WHERE of a partial index
    expressions: str | None
    # Per key column: operator class, collation, DESC / NULLS FIRST ("text_ops COLLATE \"C\" DESC").
    # Two indexes on the same columns answer the same queries only when these agree too.
    key_options: tuple[str, ...]
    constraint: str | None  # the constraint this index backs (primary key, unique, exclusion)
    size_bytes: int
    size: str = human_only()
    scans: int | None  # idx_scan since the statistics were last reset


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    references_table: str
    references_columns: tuple[str, ...]
    on_delete: str
    on_update: str
    validated: bool

    @property
    def description(self) -> str:
        return (
            f"{self.table}({', '.join(self.columns)}) -> "
            f"{self.references_table}({', '.join(self.references_columns)})"
        )


def table_oid(conn: "Connection", table: str, schema: str | None = SCHEMA) -> int | None:
    row = conn.execute(
        text(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE {in_app_schemas_sql()} AND {key_sql()} = :table AND c.relkind IN ('r', 'p')"
        ),
        {"schemas": schemas_param(conn, schema), "table": table},
    ).first()
    return int(row[0]) if row else None


def table_stats(conn: "Connection", schema: str | None = SCHEMA, table: str | None = None) -> list[TableStats]:
    """Every table (or one) with its estimated row count and total size (table, indexes, TOAST)."""
    # reltuples is -1 until the first VACUUM/ANALYZE (PostgreSQL 14+); the statistics
    # collector's live-tuple count is the better estimate until then.
    rows = conn.execute(
        text(
            f"SELECT {key_sql()}, "
            "CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END, "
            "pg_total_relation_size(c.oid), pg_size_pretty(pg_total_relation_size(c.oid)) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            f"WHERE {in_app_schemas_sql()} AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            f"AND (CAST(:table AS text) IS NULL OR {key_sql()} = :table) "
            "ORDER BY 1"
        ),
        {"schemas": schemas_param(conn, schema), "table": table},
    )
    return [TableStats(name, None if est is None else int(est), int(size), pretty) for name, est, size, pretty in rows]


def index_details(conn: "Connection", schema: str | None = SCHEMA, table: str | None = None) -> list[IndexDetail]:
    """Every index of the schema's tables (or of one table), with its size and scans."""
    rows = conn.execute(
        text(
            f"SELECT {key_sql(name='t.relname')}, i.relname, pg_get_indexdef(x.indexrelid), am.amname, x.indisprimary, "
            "x.indisunique, x.indisvalid, "
            "ARRAY(SELECT a.attname::text FROM generate_subscripts(x.indkey, 1) AS k(pos) "
            "      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.pos] "
            "      WHERE k.pos < x.indnkeyatts ORDER BY k.pos), "
            "ARRAY(SELECT a.attname::text FROM generate_subscripts(x.indkey, 1) AS k(pos) "
            "      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.pos] "
            "      WHERE k.pos >= x.indnkeyatts ORDER BY k.pos), "
            "pg_get_expr(x.indpred, x.indrelid), pg_get_expr(x.indexprs, x.indrelid), "
            "ARRAY(SELECT concat_ws(' ', oc.opcname, 'COLLATE ' || quote_ident(co.collname), "
            "      CASE WHEN x.indoption[k.pos] & 1 = 1 THEN 'DESC' END, "
            "      CASE WHEN x.indoption[k.pos] & 2 = 2 THEN 'NULLS FIRST' END) "
            "      FROM generate_subscripts(x.indclass, 1) AS k(pos) "
            "      LEFT JOIN pg_opclass oc ON oc.oid = x.indclass[k.pos] "
            "      LEFT JOIN pg_collation co ON co.oid = x.indcollation[k.pos] ORDER BY k.pos), "
            "con.conname, pg_relation_size(x.indexrelid), pg_size_pretty(pg_relation_size(x.indexrelid)), "
            "s.idx_scan "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam "
            "LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid "
            "     AND con.contype IN ('p', 'u', 'x') "
            "LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid "
            f"WHERE {in_app_schemas_sql()} AND t.relkind IN ('r', 'p') "
            f"AND (CAST(:table AS text) IS NULL OR {key_sql(name='t.relname')} = :table) "
            "ORDER BY 1, i.relname"
        ),
        {"schemas": schemas_param(conn, schema), "table": table},
    )
    return [
        IndexDetail(
            table=r[0],
            name=r[1],
            definition=r[2],
            method=r[3],
            primary=r[4],
            unique=r[5],
            valid=r[6],
            columns=tuple(r[7]),
            include=tuple(r[8]),
            predicate=r[9],
            expressions=r[10],
            key_options=tuple(r[11]),
            constraint=r[12],
            size_bytes=int(r[13]),
            size=r[14],
            scans=None if r[15] is None else int(r[15]),
        )
        for r in rows
    ]


def foreign_keys(conn: "Connection", schema: str | None = SCHEMA, table: str | None = None) -> list[ForeignKey]:
    """Foreign keys of the schema's tables; with ``table``, those that leave it or point at it."""
    rows = conn.execute(
        text(
            f"SELECT c.conname, {key_sql(name='src.relname')}, "
            "ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(num, pos) "
            "      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.pos), "
            f"{key_sql('dn.nspname', 'dst.relname')}, "
            "ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(num, pos) "
            "      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.pos), "
            "c.confdeltype, c.confupdtype, c.convalidated "
            "FROM pg_constraint c JOIN pg_class src ON src.oid = c.conrelid "
            "JOIN pg_class dst ON dst.oid = c.confrelid JOIN pg_namespace n ON n.oid = src.relnamespace "
            "JOIN pg_namespace dn ON dn.oid = dst.relnamespace "
            f"WHERE c.contype = 'f' AND {in_app_schemas_sql()} AND c.conparentid = 0 "
            f"AND (CAST(:table AS text) IS NULL OR {key_sql(name='src.relname')} = :table "
            f"OR {key_sql('dn.nspname', 'dst.relname')} = :table) "
            "ORDER BY 2, c.conname"
        ),
        {"schemas": schemas_param(conn, schema), "table": table},
    )
    return [
        ForeignKey(
            name=name,
            table=src,
            columns=tuple(columns),
            references_table=dst,
            references_columns=tuple(ref_columns),
            on_delete=_ACTIONS.get(on_delete, on_delete),
            on_update=_ACTIONS.get(on_update, on_update),
            validated=validated,
        )
        for name, src, columns, dst, ref_columns, on_delete, on_update, validated in rows
    ]

"""`schema lint`: design mistakes a live schema shows, each with a hint on fixing it.

Rules (ids are stable: CI may `--skip` them):

- fk-without-index: a foreign key whose columns lead no index. Deleting or updating a parent
  row then scans the child table, and joins from parent to children cannot use an index.
- no-primary-key: a table without a primary key: no row identity for updates, logical
  replication or the ORM.
- timestamp-without-time-zone: `timestamp` stores wall-clock time with no zone; the app
  works in UTC instants (`timestamptz`).
- duplicate-index: two indexes with the same definition (every write maintains both).
- redundant-index: an index whose keys lead another index of the same kind (the other answers
  its queries), unless it enforces uniqueness.
- missing-timestamps: a table without created_at/updated_at. A synonym counts (inserted_at,
  modified_at, ...), and so does a NOT NULL time whose name says the row's story started
  (an order's placed_at, a loan's borrowed_at): core/time_names.py, the seed's vocabulary. Pure
  link tables (every column in the primary key, every key column a foreign key) are exempt: a
  link is its two ends.

alembic_version and todoctl_* tables are not the app's schema and are not linted.

The rules run through the review engine (todoctl/core/review/rules/schema.py registers each as a
warning of `todoctl review`); this module holds their one implementation, and core/schema/lint_report.py runs
them as `schema lint`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import todoctl.core.catalog.snapshot as catalog

import todoctl.core.catalog.index_overlap as index_overlap
from todoctl.core.sql_names import ident, idents, in_table_schema, table_name, table_ref
from todoctl.core.time_names import CREATED, UPDATED, says_started
from todoctl.core.catalog.details import (
    SCHEMA,
    IndexDetail,
    foreign_keys,
    index_details,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

RULES = {
    "fk-without-index": "foreign-key columns without a covering index",
    "no-primary-key": "tables without a primary key",
    "timestamp-without-time-zone": "timestamp columns without time zone",
    "duplicate-index": "indexes with the same definition",
    "redundant-index": "indexes whose keys lead another index",
    "missing-timestamps": "tables without created_at/updated_at",
}
TIMESTAMP_COLUMNS = ("created_at", "updated_at")


@dataclass(frozen=True)
class LintFinding:
    rule: str
    table: str
    subject: str  # the column(s), index or constraint concerned; the table itself when none
    message: str
    hint: str
    sql: str = ""  # the statement(s) the hint gives, exactly as to run (identifiers quoted as needed)


@dataclass(frozen=True)
class LiveSchema:
    """What the lint rules read from the catalog, read once per review (``live_schema``)."""

    snap: catalog.SchemaSnapshot
    indexes: list[IndexDetail]
    keys: list  # catalog_details.ForeignKey


def live_schema(conn: "Connection", schema: str | None = SCHEMA) -> LiveSchema:
    snap = catalog.snapshot(conn, schema)  # already leaves out bookkeeping tables
    indexes = [i for i in index_details(conn, schema) if i.table in snap.tables]
    keys = [k for k in foreign_keys(conn, schema) if k.table in snap.tables]
    return LiveSchema(snap, indexes, keys)


def findings_of(rule: str, facts: LiveSchema) -> list[LintFinding]:
    """The findings of one lint rule on a live schema (the review rules call this)."""
    if rule == "fk-without-index":
        return _fk_without_index(facts.keys, facts.indexes)
    if rule == "no-primary-key":
        return _no_primary_key(facts.snap)
    if rule == "timestamp-without-time-zone":
        return _timestamp_without_time_zone(facts.snap)
    if rule in ("duplicate-index", "redundant-index"):
        return [f for f in _duplicate_and_redundant(facts.indexes) if f.rule == rule]
    if rule == "missing-timestamps":
        return _missing_timestamps(facts.snap, facts.keys)
    raise ValueError(f"unknown lint rule {rule!r}")


# ---------------------------------------------------------------- rules


def _covers(index: IndexDetail, columns: tuple[str, ...]) -> bool:
    """Does ``index`` serve lookups on ``columns`` (in any order) as its leading keys?"""
    if index.method != "btree" or not index.valid or index.predicate is not None:
        return False
    leading = index.columns[: len(columns)]
    return len(leading) == len(columns) and None not in leading and set(leading) == set(columns)


def _fk_without_index(keys, indexes: list[IndexDetail]) -> list[LintFinding]:
    out = []
    for key in keys:
        if any(_covers(i, key.columns) for i in indexes if i.table == key.table):
            continue
        columns = ", ".join(key.columns)
        name = f"ix_{table_name(key.table)}_{'_'.join(key.columns)}"[:63]
        sql = f"CREATE INDEX CONCURRENTLY {ident(name)} ON {table_ref(key.table)} ({idents(key.columns)});"
        out.append(
            LintFinding(
                "fk-without-index",
                key.table,
                columns,
                f"foreign key {key.name} ({key.description}) has no index on {key.table}({columns}): "
                f"deleting from {key.references_table} scans {key.table}",
                sql,
                sql,
            )
        )
    return out


def _no_primary_key(snap: catalog.SchemaSnapshot) -> list[LintFinding]:
    out = []
    for table in snap.tables.values():
        if any(c.kind == "primary key" for c in table.constraints.values()):
            continue
        if "id" in table.columns:
            sql = f"ALTER TABLE {table_ref(table.name)} ADD PRIMARY KEY (id);"
            hint = f"{sql}  (or make another unique, NOT NULL column the key)"
        else:
            sql = f"ALTER TABLE {table_ref(table.name)} ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY;"
            hint = f"{sql}  or make an existing unique, NOT NULL column the key"
        out.append(LintFinding("no-primary-key", table.name, table.name, f"table {table.name} has no primary key", hint, sql))
    return out


def _timestamp_without_time_zone(snap: catalog.SchemaSnapshot) -> list[LintFinding]:
    out = []
    for table in snap.tables.values():
        for column in table.columns.values():
            if not column.type.startswith("timestamp without time zone"):
                continue
            sql = (
                f"ALTER TABLE {table_ref(table.name)} ALTER COLUMN {ident(column.name)} TYPE timestamptz "
                f"USING {ident(column.name)} AT TIME ZONE 'UTC';"
            )
            out.append(
                LintFinding(
                    "timestamp-without-time-zone",
                    table.name,
                    column.name,
                    f"column {table.name}.{column.name} is {column.type}: it stores a wall-clock time with no zone",
                    f"{sql}  (if the stored values are UTC)",
                    sql,
                )
            )
    return out


def _duplicate_and_redundant(indexes: list[IndexDetail]) -> list[LintFinding]:
    out: list[LintFinding] = []
    for overlap in index_overlap.overlaps(indexes):
        index, other, table = overlap.index, overlap.covered_by, overlap.index.table
        if overlap.kind == index_overlap.DUPLICATE:
            message = (
                f"index {index.name} on {table} duplicates {other.name}: every write maintains both "
                f"({index.size} for nothing)"
            )
        else:
            message = (
                f"index {index.name} on {table}({', '.join(c or '?' for c in index.columns)}) is redundant: "
                f"its keys lead {other.name}, which answers the same lookups"
            )
        sql = drop_index_sql(index)
        hint = f"{sql}  (check nothing refers to it)" if index.constraint else sql
        out.append(LintFinding(overlap.kind, table, index.name, message, hint, sql))
    return out


def drop_index_sql(index: IndexDetail) -> str:
    """The statement that drops an index: its constraint when it backs one, else the index itself."""
    if index.constraint:
        return f"ALTER TABLE {table_ref(index.table)} DROP CONSTRAINT {ident(index.constraint)};"
    return f"DROP INDEX CONCURRENTLY {in_table_schema(index.table, index.name)};"


def _link_table(table: catalog.TableInfo, keys) -> bool:
    primary = [c for c in table.constraints.values() if c.kind == "primary key"]
    if not primary:
        return False
    pk_columns = _columns_of(primary[0].definition)
    fk_columns = {c for k in keys if k.table == table.name for c in k.columns}
    return set(table.columns) == pk_columns and pk_columns <= fk_columns


def _columns_of(definition: str) -> set[str]:
    # "PRIMARY KEY (task_id, tag_id)" -> {"task_id", "tag_id"}
    inside = definition[definition.find("(") + 1 : definition.rfind(")")]
    return {c.strip().strip('"') for c in inside.split(",") if c.strip()}


def _has_creation_time(table: catalog.TableInfo) -> bool:
    return any(name in table.columns for name in CREATED) or any(
        c.type.startswith(("timestamp", "date")) and not c.nullable and says_started(c.name) for c in table.columns.values()
    )


def _missing_timestamps(snap: catalog.SchemaSnapshot, keys) -> list[LintFinding]:
    out = []
    for table in snap.tables.values():
        has = {"created_at": _has_creation_time(table), "updated_at": any(n in table.columns for n in UPDATED)}
        missing = [c for c in TIMESTAMP_COLUMNS if not has[c]]
        if not missing or _link_table(table, keys):
            continue
        additions = ", ".join(f"ADD COLUMN {ident(c)} timestamptz NOT NULL DEFAULT now()" for c in missing)
        sql = f"ALTER TABLE {table_ref(table.name)} {additions};"
        out.append(
            LintFinding("missing-timestamps", table.name, ", ".join(missing), f"table {table.name} has no {' or '.join(missing)}", sql, sql)
        )
    return out


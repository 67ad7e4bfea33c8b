"""Models vs a live database: Alembic's autogenerate comparison plus CHECK constraints by name, each difference explained in words."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, text

from todoctl.project import app_metadata
from todoctl.core.catalog.snapshot import IGNORED_PREFIX, IGNORED_TABLES, key_sql, named_sql

if TYPE_CHECKING:
    from sqlalchemy import Connection



@dataclass(frozen=True)
class Difference:
    kind: str  # e.g. missing_table, extra_column, type_mismatch
    table: str
    name: str
    message: str


def _include(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and (name in IGNORED_TABLES or name.startswith(IGNORED_PREFIX)):
        return False
    return True


@contextmanager
def quiet_reflection() -> Iterator[None]:
    """Reflecting a column of a type SQLAlchemy does not know (a range or a domain of the app's own)
    warns "Did not recognize type" with SQLAlchemy's file and line; the column is compared all the
    same (as a type nothing equals), so the warning says nothing the comparison does not."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Did not recognize type", category=SAWarning)
        yield


def model_drift(conn: "Connection") -> list[Difference]:
    """How the database differs from the models (empty when they match): in the default schema
    and every schema the models name."""
    from todoctl.alembic import schema_options

    metadata = app_metadata()
    opts = {"compare_type": True, "include_object": _include, **schema_options(metadata)}
    context = MigrationContext.configure(conn, opts=opts)
    found: list[Difference] = []
    with quiet_reflection():
        diffs = compare_metadata(context, metadata)
    for diff in diffs:
        for item in diff if isinstance(diff, list) else [diff]:
            found.append(_explain(item))
    found.extend(_check_constraint_drift(conn))
    conn.rollback()
    return found


def _table_of(obj) -> str:
    table = getattr(obj, "table", None)
    return getattr(table, "key", "") or ""


def _key(schema: str | None, name: str) -> str:
    """A table as MetaData keys it (Alembic says schema None for the default schema)."""
    return f"{schema}.{name}" if schema else name


def _explain(item: tuple) -> Difference:
    op = item[0]
    if op == "add_table":
        t = item[1].key
        return Difference("missing_table", t, t, f"table {t} is in the models but not in the database")
    if op == "remove_table":
        t = item[1].key
        return Difference("extra_table", t, t, f"table {t} is in the database but not in the models")
    if op in ("add_column", "remove_column"):
        _, schema, t, column = item
        t = _key(schema, t)
        where = ("in the models but not in the database", "missing_column") if op == "add_column" else (
            "in the database but not in the models",
            "extra_column",
        )
        return Difference(where[1], t, column.name, f"column {t}.{column.name} ({column.type}) is {where[0]}")
    if op in ("add_index", "remove_index"):
        index = item[1]
        t = _table_of(index)
        columns = ", ".join(str(e) for e in index.expressions) if hasattr(index, "expressions") else ""
        if op == "add_index":
            return Difference(
                "missing_index", t, index.name, f"index {index.name} on {t} ({columns}) is in the models but not in the database"
            )
        return Difference(
            "extra_index", t, index.name, f"index {index.name} on {t} ({columns}) is in the database but not in the models"
        )
    if op in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = item[1]
        t = _table_of(constraint)
        kind = "foreign key" if op.endswith("fk") else type(constraint).__name__.replace("Constraint", " constraint").lower()
        adding = op.startswith("add")
        side = "in the models but not in the database" if adding else "in the database but not in the models"
        name = constraint.name or "(unnamed)"
        return Difference(
            ("missing_" if adding else "extra_") + kind.replace(" ", "_"), t, str(name), f"{kind} {name} on {t} is {side}"
        )
    if op == "modify_type":
        _, schema, t, c, _, db_type, model_type = item
        t = _key(schema, t)
        return Difference(
            "type_mismatch", t, c, f"column {t}.{c} is {db_type} in the database but {model_type} in the models"
        )
    if op == "modify_nullable":
        _, schema, t, c, _, db_nullable, model_nullable = item
        t = _key(schema, t)
        words = {True: "nullable", False: "NOT NULL"}
        return Difference(
            "nullability_mismatch",
            t,
            c,
            f"column {t}.{c} is {words[bool(db_nullable)]} in the database but {words[bool(model_nullable)]} in the models",
        )
    if op == "modify_default":
        _, schema, t, c, _, db_default, model_default = item
        t = _key(schema, t)
        return Difference(
            "default_mismatch", t, c, f"column {t}.{c} defaults to {db_default} in the database but {model_default} in the models"
        )
    return Difference(op, "", "", f"{op}: {item[1:]}")


def _check_constraint_drift(conn: "Connection") -> list[Difference]:
    expected: dict[tuple[str, str], str] = {}
    for table in app_metadata().sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and constraint.name:
                expected[(table.key, str(constraint.name))] = str(constraint.sqltext)
    rows = conn.execute(
        text(
            f"SELECT {key_sql(name='t.relname')}, c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            f"WHERE c.contype = 'c' AND {named_sql(':tables', name='t.relname')}"
        ),
        {"tables": [t.key for t in app_metadata().sorted_tables]},
    )
    actual = {(t, c) for t, c in rows}
    present_tables = {t for t, _ in actual} | _existing_tables(conn)
    out = []
    for table, name in sorted(expected.keys() - actual):
        if table in present_tables:
            out.append(
                Difference(
                    "missing_check_constraint",
                    table,
                    name,
                    f"check constraint {name} on {table} ({expected[(table, name)]}) is in the models but not in the database",
                )
            )
    for table, name in sorted(actual - expected.keys()):
        out.append(
            Difference("extra_check_constraint", table, name, f"check constraint {name} on {table} is in the database but not in the models")
        )
    return out


def _existing_tables(conn: "Connection") -> set[str]:
    rows = conn.execute(
        text(f"SELECT {key_sql('schemaname', 'tablename')} FROM pg_tables WHERE {named_sql(':tables', 'schemaname', 'tablename')}"),
        {"tables": [t.key for t in app_metadata().sorted_tables]},
    )
    return {r[0] for r in rows}

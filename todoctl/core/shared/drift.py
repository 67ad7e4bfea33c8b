"""Drift: where a database stands against the models and the migration history, in one
vocabulary that `migrate status`, `migrate check` and `schema diff` all use.

Each difference has a category (JSON ``differences[].category``), a label, and one hint per
category (JSON ``hints``); every category is exit 1:

- behind_history: revisions not applied yet (a database that is only behind is never
  reported as model drift: nothing else is compared until it is at head, unless the history
  is replayed up to its own revision);
- unknown_revision: the database is at a revision these scripts do not know;
- model_without_migration: the models changed and no revision records it (models vs history);
- changed_by_hand: the live database differs from what its own revision should look like;
- models_vs_live: the models and a database at head differ, and the history was not
  replayed to say which side is off (plain `schema diff`, or a pooled URL).

Alembic's autogenerate comparison finds tables, columns, types, nullability, indexes,
unique constraints and foreign keys; it does not look at CHECK constraints, so those are
compared here by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, text
from sqlmodel import SQLModel

import todoctl.models  # noqa: F401  (registers the tables)
from todoctl.core.shared import catalog
from todoctl.core.shared.catalog import IGNORED_PREFIX, IGNORED_TABLES

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from todoctl.core.migrate.state import MigrationStatus
    from todoctl.db.url import DatabaseURL

# ---------------------------------------------------------------- the vocabulary

BEHIND_HISTORY = "behind_history"
UNKNOWN_REVISION = "unknown_revision"
MODEL_WITHOUT_MIGRATION = "model_without_migration"
CHANGED_BY_HAND = "changed_by_hand"
MODELS_VS_LIVE = "models_vs_live"

LABELS = {
    BEHIND_HISTORY: "database behind its history",
    UNKNOWN_REVISION: "database at a revision these scripts do not know",
    MODEL_WITHOUT_MIGRATION: "model change with no migration",
    CHANGED_BY_HAND: "live database changed by hand",
    MODELS_VS_LIVE: "models and live database differ",
}

# The same words as core/revision_gate.require_head, which every other command uses.
HINTS = {
    BEHIND_HISTORY: "run `todoctl migrate up`",
    UNKNOWN_REVISION: "the database was migrated by a newer or different checkout: update this one",
    MODEL_WITHOUT_MIGRATION: "write the migration: `todoctl migrate new -m '...'` against a database at head",
    CHANGED_BY_HAND: "undo the change, or record it in a migration so every database gets it",
    MODELS_VS_LIVE: "`todoctl schema diff --against history` tells a missing migration from a hand change",
}


@dataclass(frozen=True)
class SchemaDifference:
    category: str  # one of the constants above
    kind: str  # missing_table, extra_column, type_mismatch, pending_revision, unknown_revision, ...
    table: str
    name: str
    message: str

    __json_properties__ = ("label",)

    @property
    def label(self) -> str:
        return LABELS.get(self.category, self.category)


def hints_for(differences: list[SchemaDifference]) -> dict[str, str]:
    """One hint per category present, in order of first appearance."""
    return {c: HINTS[c] for c in dict.fromkeys(d.category for d in differences) if c in HINTS}


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def revision_differences(status: "MigrationStatus") -> list[SchemaDifference]:
    """Unknown revisions, else one ``behind_history`` difference per pending revision."""
    if status.unknown:
        return [
            SchemaDifference(
                UNKNOWN_REVISION,
                "unknown_revision",
                "",
                revision,
                f"the database is at revision {revision}, which these migration scripts do not know",
            )
            for revision in status.unknown
        ]
    return [
        SchemaDifference(
            BEHIND_HISTORY,
            "pending_revision",
            "",
            rev.id,
            f"revision {rev.id} is not applied" + (f": {_first_line(rev.message)}" if rev.message else ""),
        )
        for rev in status.pending
    ]


def revision_notes(status: "MigrationStatus") -> list[str]:
    if status.untracked_tables:
        return [
            f"app tables exist ({', '.join(status.untracked_tables)}) but no revision is recorded: "
            "if they match a revision, `todoctl migrate stamp REVISION`"
        ]
    return []


# ---------------------------------------------------------------- the one classification

NEVER = "never"  # plain `schema diff`: models vs live only
ALWAYS = "always"  # `schema diff --against history`
TO_BLAME = "to_blame"  # `migrate check`: only when a database at head differs from the models


@dataclass
class Classification:
    status: "MigrationStatus"
    differences: list[SchemaDifference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def classify(url: "DatabaseURL", *, migrations: Path | str | None = None, replay: str = NEVER) -> Classification:
    """Where ``url``'s database stands, each difference in the shared vocabulary.

    ``replay`` says when the history is replayed on a throwaway database to blame a
    difference on the models or on the live database: never, always, or to blame only
    (when a database at head differs from the models; never through a pooled URL).
    """
    from todoctl.core import migrate
    from todoctl.db.engine import connection

    status = migrate.status(url, migrations=migrations)
    result = Classification(status, revision_differences(status), revision_notes(status))
    if replay == ALWAYS:
        _blame(url, status, result, migrations)
        return result
    if status.unknown:
        result.notes.append("the live database was not compared with the models: its revision is not in this history")
        return result
    if status.pending:
        where = ", ".join(status.current) or "base"
        result.notes.append(
            f"the database is behind (at {where}, head {', '.join(status.heads) or 'base'}), so it was not compared "
            "with the models: run `todoctl migrate up` first "
            "(`todoctl schema diff --against history` compares it with its own revision now)"
        )
        return result
    with connection(url) as conn:
        drift = model_drift(conn)
    if not drift:
        return result
    if replay == TO_BLAME and not url.is_pooled:
        _blame(url, status, result, migrations)
        return result
    result.differences += [SchemaDifference(MODELS_VS_LIVE, d.kind, d.table, d.name, d.message) for d in drift]
    if replay == TO_BLAME:
        result.notes.append(
            "the history was not replayed through a pooled URL: set DATABASE_URL_UNPOOLED to tell "
            "a missing migration from a hand change"
        )
    return result


def _blame(url: "DatabaseURL", status: "MigrationStatus", result: Classification, migrations) -> None:
    """Replay the history on a throwaway database: models vs history, history vs live."""
    from todoctl.core import migrate
    from todoctl.db.engine import connection
    from todoctl.db.scratch import scratch_database

    with connection(url) as conn:
        live = catalog.snapshot(conn)
    with scratch_database(url, "history") as scratch:
        at_live_revision: catalog.SchemaSnapshot | None = None
        if not status.unknown and not status.at_head:
            for revision in status.current:
                migrate.upgrade(scratch, revision, migrations=migrations)
            with connection(scratch) as conn:
                at_live_revision = catalog.snapshot(conn)
        migrate.upgrade(scratch, "head", migrations=migrations)
        with connection(scratch) as conn:
            at_head = catalog.snapshot(conn)
            drift = model_drift(conn)

    revisions = result.differences
    result.differences = [SchemaDifference(MODEL_WITHOUT_MIGRATION, d.kind, d.table, d.name, d.message) for d in drift]
    if status.unknown:
        result.differences += revisions
        result.notes.append("the live database was not compared with the history: its revision is not in it")
        return
    reference = at_head if at_live_revision is None else at_live_revision
    for line in catalog.differences(reference, live):
        result.differences += _explain_line(line, reference, live)
    result.differences += revisions
    if at_live_revision is not None:
        where = ", ".join(status.current) or "base"
        result.notes.append(f"the live database was compared with the history replayed up to its own revision ({where})")


# ---------------------------------------------------------------- models vs a live database


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


def model_drift(conn: "Connection") -> list[Difference]:
    """How the database differs from the models (empty when they match)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
    found: list[Difference] = []
    for diff in compare_metadata(context, SQLModel.metadata):
        for item in diff if isinstance(diff, list) else [diff]:
            found.append(_explain(item))
    found.extend(_check_constraint_drift(conn))
    conn.rollback()
    return found


def _table_of(obj) -> str:
    table = getattr(obj, "table", None)
    return getattr(table, "name", "") or ""


def _explain(item: tuple) -> Difference:
    op = item[0]
    if op == "add_table":
        t = item[1].name
        return Difference("missing_table", t, t, f"table {t} is in the models but not in the database")
    if op == "remove_table":
        t = item[1].name
        return Difference("extra_table", t, t, f"table {t} is in the database but not in the models")
    if op in ("add_column", "remove_column"):
        _, _, t, column = item
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
        _, _, t, c, _, db_type, model_type = item
        return Difference(
            "type_mismatch", t, c, f"column {t}.{c} is {db_type} in the database but {model_type} in the models"
        )
    if op == "modify_nullable":
        _, _, t, c, _, db_nullable, model_nullable = item
        words = {True: "nullable", False: "NOT NULL"}
        return Difference(
            "nullability_mismatch",
            t,
            c,
            f"column {t}.{c} is {words[bool(db_nullable)]} in the database but {words[bool(model_nullable)]} in the models",
        )
    if op == "modify_default":
        _, _, t, c, _, db_default, model_default = item
        return Difference(
            "default_mismatch", t, c, f"column {t}.{c} defaults to {db_default} in the database but {model_default} in the models"
        )
    return Difference(op, "", "", f"{op}: {item[1:]}")


def _check_constraint_drift(conn: "Connection") -> list[Difference]:
    expected: dict[tuple[str, str], str] = {}
    for table in SQLModel.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and constraint.name:
                expected[(table.name, str(constraint.name))] = str(constraint.sqltext)
    rows = conn.execute(
        text(
            "SELECT t.relname, c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE c.contype = 'c' AND n.nspname = current_schema() AND t.relname = ANY(:tables)"
        ),
        {"tables": [t.name for t in SQLModel.metadata.sorted_tables]},
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
    rows = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    return {r[0] for r in rows}


# ---------------------------------------------------------------- history vs a live database

# catalog.differences speaks of "expected" (here: the history) and "actual" (the live database).
_LINE = re.compile(
    r"^(?:(?P<table>[^:]+): )?(?P<what>table|column|index|constraint|type) (?P<name>\S+)"
    r"(?: \([^)]*\))? (?P<verb>is missing|is extra|differs)"
)


_CONSTRAINT_NOUNS = {
    "primary key": "primary_key",
    "unique": "unique_constraint",
    "foreign key": "foreign_key",
    "check": "check_constraint",
    "exclusion": "exclusion_constraint",
}


def _explain_line(line: str, history: catalog.SchemaSnapshot, live: catalog.SchemaSnapshot) -> list[SchemaDifference]:
    """One line of catalog.differences, reworded to say which side has what."""
    match = _LINE.match(line)
    if not match:
        return [SchemaDifference(CHANGED_BY_HAND, "difference", "", "", line)]
    what, name, verb = match["what"], match["name"], match["verb"]
    table = match["table"] or (name if what == "table" else "")
    subject = f"{what} {name}" if what in ("table", "type") else f"{what} {name} on {table}"
    noun = what
    if what == "column":
        subject = f"column {table}.{name}"
    elif what == "constraint":
        side = history.tables.get(table) if verb == "is missing" else live.tables.get(table)
        found = side.constraints.get(name) if side else None
        if found is not None:
            noun = _CONSTRAINT_NOUNS.get(found.kind, "constraint")
            subject = f"{noun.replace('_', ' ')} {name} on {table}"
    if verb in ("is missing", "is extra"):
        where = (
            "in the migration history but not in the live database"
            if verb == "is missing"
            else "in the live database but not in the migration history"
        )
        prefix = "missing" if verb == "is missing" else "extra"
        return [SchemaDifference(CHANGED_BY_HAND, f"{prefix}_{noun}", table, name, f"{subject} is {where}")]
    plural = "indexes" if what == "index" else what + "s"
    expected = getattr(history.tables[table], plural)[name]
    actual = getattr(live.tables[table], plural)[name]
    if what == "column":
        return _column_mismatches(table, expected, actual)
    return [
        SchemaDifference(
            CHANGED_BY_HAND,
            f"{noun}_mismatch",
            table,
            name,
            f"{subject} is `{catalog.describe(actual)}` in the live database "
            f"but `{catalog.describe(expected)}` in the migration history",
        )
    ]


def _column_mismatches(table: str, expected: catalog.ColumnInfo, actual: catalog.ColumnInfo) -> list[SchemaDifference]:
    where = f"column {table}.{actual.name}"
    words = {True: "nullable", False: "NOT NULL"}
    found = []
    if expected.type != actual.type:
        found.append(
            ("type_mismatch", f"{where} is {actual.type} in the live database but {expected.type} in the migration history")
        )
    if expected.nullable != actual.nullable:
        found.append(
            (
                "nullability_mismatch",
                f"{where} is {words[actual.nullable]} in the live database "
                f"but {words[expected.nullable]} in the migration history",
            )
        )
    if expected.default != actual.default:
        found.append(
            (
                "default_mismatch",
                f"{where} defaults to {actual.default or 'nothing'} in the live database "
                f"but to {expected.default or 'nothing'} in the migration history",
            )
        )
    if expected.generated != actual.generated:
        found.append(
            (
                "generated_mismatch",
                f"{where} is generated as {actual.generated or 'nothing'} in the live database "
                f"but as {expected.generated or 'nothing'} in the migration history",
            )
        )
    return [SchemaDifference(CHANGED_BY_HAND, kind, table, actual.name, message) for kind, message in found]

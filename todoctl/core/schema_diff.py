"""`schema diff`: the models, the migration history and the live database, compared.

Against the models (the default) a difference only says that the live database and the
models disagree. Against the history, the migration scripts are replayed on a throwaway
database, so each difference can be blamed on one side:

- model_without_migration: the models changed and no revision records it (models vs history);
- changed_by_hand: the live database differs from what its own revision should look like;
- behind_history: the live database has not had every revision applied.

A database that is merely behind is compared with the history replayed only up to its own
revision, so it is not also reported as changed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from todoctl.core import catalog, migrate
from todoctl.core.drift import model_drift
from todoctl.db.engine import connection
from todoctl.db.scratch import scratch_database
from todoctl.db.url import DatabaseURL

MODELS_VS_LIVE = "models_vs_live"
MODEL_WITHOUT_MIGRATION = "model_without_migration"
CHANGED_BY_HAND = "changed_by_hand"
BEHIND_HISTORY = "behind_history"
UNKNOWN_REVISION = "unknown_revision"

LABELS = {
    MODELS_VS_LIVE: "models and live database differ",
    MODEL_WITHOUT_MIGRATION: "model change with no migration",
    CHANGED_BY_HAND: "live database changed by hand",
    BEHIND_HISTORY: "database behind its history",
    UNKNOWN_REVISION: "database at a revision these scripts do not know",
}

HINTS = {
    MODELS_VS_LIVE: "`todoctl schema diff --against history` tells a missing migration from a hand change",
    MODEL_WITHOUT_MIGRATION: "write the migration: `todoctl migrate new -m '...'` against a database at head",
    CHANGED_BY_HAND: "undo the change, or record it in a migration so every database gets it",
    BEHIND_HISTORY: "apply the pending revisions: `todoctl migrate up`",
    UNKNOWN_REVISION: "update this checkout: a newer or different one migrated the database",
}


@dataclass(frozen=True)
class SchemaDifference:
    category: str  # one of the constants above
    kind: str  # missing_table, extra_column, type_mismatch, pending_revision, ...
    table: str
    name: str
    message: str

    __json_properties__ = ("label",)

    @property
    def label(self) -> str:
        return LABELS.get(self.category, self.category)


@dataclass
class SchemaDiff:
    database: str
    against: str  # "models" | "history"
    current: list[str]
    head: str
    differences: list[SchemaDifference]
    notes: list[str] = field(default_factory=list)

    __json_properties__ = ("in_sync", "hints")

    @property
    def in_sync(self) -> bool:
        return not self.differences

    @property
    def hints(self) -> dict[str, str]:
        return {c: HINTS[c] for c in dict.fromkeys(d.category for d in self.differences) if c in HINTS}


def against_models(url: DatabaseURL, *, migrations: Path | str | None = None) -> SchemaDiff:
    """The models compared with the live database, each difference in words."""
    head = _head(migrations)
    with connection(url) as conn:
        current = migrate.current_revisions(conn)
        drift = model_drift(conn)
    differences = [SchemaDifference(MODELS_VS_LIVE, d.kind, d.table, d.name, d.message) for d in drift]
    notes = []
    if current != [head]:
        where = ", ".join(current) or "base (no revision recorded)"
        notes.append(
            f"the database is at {where} and the history's head is {head}: "
            "some of these differences may be migrations not applied yet (`--against history` tells)"
        )
    return SchemaDiff(url.display, "models", current, head, differences, notes)


def against_history(url: DatabaseURL, *, migrations: Path | str | None = None) -> SchemaDiff:
    """Models, migration history and live database compared three ways, each difference blamed."""
    head = _head(migrations)
    status = migrate.status(url, migrations=migrations)
    with connection(url) as conn:
        live = catalog.snapshot(conn)
    differences: list[SchemaDifference] = []
    notes: list[str] = []
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

    differences += [SchemaDifference(MODEL_WITHOUT_MIGRATION, d.kind, d.table, d.name, d.message) for d in drift]

    if status.unknown:
        for revision in status.unknown:
            differences.append(
                SchemaDifference(
                    UNKNOWN_REVISION,
                    "unknown_revision",
                    "",
                    revision,
                    f"the database is at revision {revision}, which these migration scripts do not know",
                )
            )
        notes.append("the live database was not compared with the history: its revision is not in it")
    else:
        reference = at_head if at_live_revision is None else at_live_revision
        for line in catalog.differences(reference, live):
            differences += _explain(line, reference, live)
        differences += [
            SchemaDifference(
                BEHIND_HISTORY,
                "pending_revision",
                "",
                rev.id,
                f"revision {rev.id} is not applied" + (f": {_first_line(rev.message)}" if rev.message else ""),
            )
            for rev in status.pending
        ]
        if status.untracked_tables:
            notes.append(
                f"app tables exist ({', '.join(status.untracked_tables)}) but no revision is recorded: "
                "if they match a revision, `todoctl migrate stamp REVISION`"
            )
        if at_live_revision is not None:
            where = ", ".join(status.current) or "base"
            notes.append(f"the live database was compared with the history replayed up to its own revision ({where})")
    return SchemaDiff(url.display, "history", status.current, head, differences, notes)


def _head(migrations: Path | str | None) -> str:
    heads = migrate.script_directory(migrations).get_heads()
    return heads[0] if heads else "base"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


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


def _explain(line: str, history: catalog.SchemaSnapshot, live: catalog.SchemaSnapshot) -> list[SchemaDifference]:
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

"""History vs a live database: catalog differences reworded as drift, saying which side has what."""

from __future__ import annotations

import re

import todoctl.core.catalog.snapshot as catalog
from todoctl.core.drift.vocabulary import CHANGED_BY_HAND, SchemaDifference

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


def explain_line(line: str, history: catalog.SchemaSnapshot, live: catalog.SchemaSnapshot) -> list[SchemaDifference]:
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

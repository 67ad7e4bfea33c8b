"""Review rules: the schema, from the models and (unless offline) the live database.

Critical: fk-missing, fk-orphans. Warnings: fk-delete-rule, timestamp-mixed-tz, enum-default, and the
`schema lint` rules (fk-without-index, no-primary-key, timestamp-without-time-zone,
duplicate-index, redundant-index, missing-timestamps), whose one implementation is in
todoctl/core/review/lint_rules.py. They are warnings: each costs speed, space or operability, none
loses or leaks data, so they fail the review only with --strict (and `schema lint`, as before).
"""

from __future__ import annotations

from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule
from todoctl.core.review.facts import (
    column_location,
    column_tests,
    in_the_models,
    live_schema,
    merge_sources,
    model_checks,
    sources_text,
)
import todoctl.core.review.lint_rules as lint_rules
from todoctl.core.sql_names import ident, idents, literal, split_table, table_name, table_ref

MODELS = "the models"
DATABASE = "the database"

# ---------------------------------------------------------------- fk-missing


@rule(
    "fk-missing",
    "critical",
    "a *_id column without a foreign key",
    why="without the constraint nothing stops a row pointing at a parent that never existed or was deleted",
    live_part="*_id columns of the live tables",
)
def fk_missing(ctx: ReviewContext) -> Iterator[Finding]:
    found: dict[str, list[str]] = {}
    for table in ctx.metadata.tables.values():
        for column in table.columns:
            if column.name.endswith("_id") and not column.foreign_keys:
                merge_sources(found, f"{table.key}.{column.name}", in_the_models(ctx, table.name, column.name))
    if not ctx.offline:
        facts = live_schema(ctx)
        keyed = {(k.table, c) for k in facts.keys for c in k.columns}
        for table in facts.snap.tables.values():
            for column in table.columns:
                if column.endswith("_id") and (table.name, column) not in keyed:
                    merge_sources(found, f"{table.name}.{column}", DATABASE)
    tables = _known_tables(ctx)
    for location, sources in sorted(found.items()):
        table, column = location.rsplit(".", 1)
        parent = _parent_of(table, column, tables)
        if parent is None:
            sql = ""
            hint = (
                f"ForeignKey(\"<parent>.id\", ondelete=...) in the model, and a revision adding the foreign key "
                f"NOT VALID, then VALIDATE CONSTRAINT; or waive it if {column} holds an outside system's id"
            )
        else:
            parent_table, parent_key = parent
            name = f"{table_name(table)}_{column}_fkey"[:63]
            sql = (
                f"ALTER TABLE {table_ref(table)} ADD CONSTRAINT {ident(name)} FOREIGN KEY ({ident(column)}) "
                f"REFERENCES {table_ref(parent_table)} ({ident(parent_key)}) ON DELETE RESTRICT NOT VALID; "
                f"ALTER TABLE {table_ref(table)} VALIDATE CONSTRAINT {ident(name)};"
            )
            hint = (
                f"ForeignKey(\"{parent_table}.{parent_key}\", ondelete=...) in the model, and a revision: {sql}  "
                f"(RESTRICT, or CASCADE / SET NULL as a delete of {parent_table} should behave; "
                f"or waive it if {column} holds an outside system's id)"
            )
        yield Finding(
            "fk-missing",
            location,
            f"{location} looks like a reference but has no foreign key (in {sources_text(sources)})",
            hint,
            table=table,
            subject=column,
            sql=sql,
        )


def _known_tables(ctx: ReviewContext) -> dict[str, list[str]]:
    """table -> its primary key's columns, from the models and (live) the database."""
    known = {t.key: [c.name for c in t.primary_key.columns] for t in ctx.metadata.tables.values()}
    if not ctx.offline:
        from todoctl.core.review.facts import primary_key_columns

        for table in live_schema(ctx).snap.tables.values():
            known.setdefault(table.name, primary_key_columns(table))
    return known


def _parent_of(table: str, column: str, tables: dict[str, list[str]]) -> tuple[str, str] | None:
    """The table a ``<name>_id`` column refers to, when the schema says so unambiguously: a table
    named ``<name>`` (or its plural) with a one-column primary key, in the child's schema first."""
    schema = split_table(table)[0]
    stem = column[: -len("_id")]
    for name in (stem, stem + "s", stem + "es"):
        for candidate in ([f"{schema}.{name}"] if schema else []) + [name]:
            key = tables.get(candidate)
            if key is not None and len(key) == 1:
                return candidate, key[0]
    return None


# ---------------------------------------------------------------- fk-delete-rule


# A warning: NO ACTION refuses to delete a parent that has children, which keeps the data whole
# and is often what the app means (RESTRICT but checked at commit); what it costs is a delete that
# fails where the app meant CASCADE or SET NULL. It loses and leaks nothing, so it no longer fails a
# plain review, which every app declaring Field(foreign_key=...) did (issue: the clinic report's
# F17). Rows whose parent is gone are data lost: fk-orphans, critical.
@rule(
    "fk-delete-rule",
    "warning",
    "a foreign key without an ON DELETE rule",
    why="an implicit NO ACTION makes deleting a parent with children fail at commit, where the app may "
    "mean CASCADE, SET NULL or (saying so) RESTRICT",
    live_part="NO ACTION foreign keys of the live tables",
)
def fk_delete_rule(ctx: ReviewContext) -> Iterator[Finding]:
    found: dict[str, list[str]] = {}
    # location -> (table, constraint name, columns, parent, parent's columns, validated: None if unknown)
    described: dict[str, tuple] = {}
    for table in ctx.metadata.tables.values():
        for key in table.foreign_key_constraints:
            if key.ondelete is None:
                columns = tuple(c.name for c in key.columns)
                # Keyed as the catalog names the table (schema.table outside the default schema),
                # so the model's key and the live one are one finding.
                location = column_location(table.key, columns)
                merge_sources(found, location, in_the_models(ctx, table.name, columns[0]))
                described[location] = (
                    table.key, str(key.name or ""), columns, key.referred_table.key,
                    tuple(e.column.name for e in key.elements), None,
                )
    facts = None if ctx.offline else live_schema(ctx)
    if facts is not None:
        for key in facts.keys:
            if key.on_delete == "NO ACTION":  # RESTRICT is only ever written on purpose
                location = column_location(key.table, key.columns)
                merge_sources(found, location, DATABASE)
                described[location] = (
                    key.table, key.name, key.columns, key.references_table, key.references_columns, key.validated
                )
    for location, sources in sorted(found.items()):
        table, name, columns, parent, parent_columns, validated = described[location]
        sql = ""
        if name:
            sql = (
                f"ALTER TABLE {table_ref(table)} DROP CONSTRAINT {ident(name)}, ADD CONSTRAINT {ident(name)} "
                f"FOREIGN KEY ({idents(columns)}) REFERENCES {table_ref(parent)} ({idents(parent_columns)}) "
                "ON DELETE RESTRICT NOT VALID;"
            )
            if validated:  # its rows were checked before: check them again (a NOT VALID key's orphans come first)
                sql += f" ALTER TABLE {table_ref(table)} VALIDATE CONSTRAINT {ident(name)};"
        yield Finding(
            "fk-delete-rule",
            location,
            f"the foreign key {location} -> {parent} has no ON DELETE rule (in {sources_text(sources)}; "
            f"NO ACTION by default): deleting a row of {parent} that has children fails at commit",
            f"say what a delete means: ForeignKey(..., ondelete=\"CASCADE\" | \"SET NULL\" | \"RESTRICT\") and a "
            + (f"revision: {sql}  (with the rule chosen)" if sql else "revision that drops the constraint and adds it "
               "back with the rule, NOT VALID, then VALIDATE"),
            table=table,
            subject=", ".join(columns),
            sql=sql,
        )


@rule(
    "fk-orphans",
    "critical",
    "rows whose parent is gone, behind a NOT VALID foreign key",
    why="a child row pointing at a parent that does not exist is data already lost: joins drop it, "
    "and the key cannot be validated until it is repaired",
    live=True,
)
def fk_orphans(ctx: ReviewContext) -> Iterator[Finding]:
    """Children whose parent is gone. Only NOT VALID keys are counted: a validated key has had
    every row checked by the server and every write since, so counting would scan for nothing."""
    from sqlalchemy import text

    facts = live_schema(ctx)
    conn = ctx.connection()
    quote = conn.dialect.identifier_preparer.quote_identifier
    from todoctl.core.sql_names import table_ref

    for key in facts.keys:
        if key.validated:
            continue
        child, parent = table_ref(key.table, ctx.schema), table_ref(key.references_table, ctx.schema)
        present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in key.columns)
        match = " AND ".join(f"p.{quote(p)} = c.{quote(c)}" for c, p in zip(key.columns, key.references_columns))
        count = conn.execute(
            text(f"SELECT count(*) FROM {child} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})")
        ).scalar_one()
        if not count:
            continue
        location = column_location(key.table, key.columns)
        columns = ", ".join(key.columns)
        table_info = facts.snap.tables.get(key.table)
        nullable = table_info is not None and all(
            table_info.columns[c].nullable for c in key.columns if c in table_info.columns
        )
        orphans = (
            f"{table_ref(key.table)} AS c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {table_ref(key.references_table)} AS p WHERE {match})"
        )
        if nullable:
            nulls = ", ".join(f"{ident(c)} = NULL" for c in key.columns)
            repair = f"UPDATE {orphans.replace(' WHERE ', f' SET {nulls} WHERE ', 1)};"
            how = f"set {columns} to NULL"
        else:
            repair = f"DELETE FROM {orphans};"
            how = "delete them"
        sql = f"{repair} ALTER TABLE {table_ref(key.table)} VALIDATE CONSTRAINT {ident(key.name)};"
        yield Finding(
            "fk-orphans",
            location,
            f"{count:,} row(s) of {key.table} refer to a row of {key.references_table} that does not exist "
            f"(the foreign key {key.name} is NOT VALID, so the server never checked the old rows)",
            f"{how} (or restore the missing rows of {key.references_table}), then validate the key: {sql}",
            table=key.table,
            subject=columns,
            sql=sql,
        )


# ---------------------------------------------------------------- timestamp-mixed-tz


@rule(
    "timestamp-mixed-tz",
    "warning",
    "timestamp columns mixing with and without time zone",
    why="comparing a timestamp with a timestamptz converts through the session's TimeZone, so the same "
    "query gives other answers on a server or client in another zone",
    live_part="timestamp columns of the live tables",
)
def timestamp_mixed_tz(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy.types import DateTime

    found: dict[str, list[str]] = {}
    aware: dict[str, str] = {}  # source -> an example column with time zone
    model_lines: dict[str, str] = {}
    naive: dict[str, list[str]] = {}
    for table in ctx.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, DateTime):
                where = f"{table.key}.{column.name}"
                if column.type.timezone:
                    aware.setdefault(MODELS, where)
                else:
                    naive.setdefault(MODELS, []).append(where)
                    model_lines[where] = in_the_models(ctx, table.name, column.name)
    if not ctx.offline:
        for table in live_schema(ctx).snap.tables.values():
            for column in table.columns.values():
                where = f"{table.name}.{column.name}"
                if column.type.startswith("timestamp with time zone"):
                    aware.setdefault(DATABASE, where)
                elif column.type.startswith("timestamp without time zone"):
                    naive.setdefault(DATABASE, []).append(where)
    examples: dict[str, str] = {}
    for source, columns in naive.items():
        if source in aware:  # all-naive is timestamp-without-time-zone's finding, not a mix
            for where in columns:
                merge_sources(found, where, model_lines[where] if source == MODELS else source)
                examples.setdefault(where, aware[source])
    for location, sources in sorted(found.items()):
        table, column = location.rsplit(".", 1)
        sql = (
            f"ALTER TABLE {table_ref(table)} ALTER COLUMN {ident(column)} TYPE timestamptz "
            f"USING {ident(column)} AT TIME ZONE 'UTC';"
        )
        yield Finding(
            "timestamp-mixed-tz",
            location,
            f"{location} is timestamp without time zone while {examples[location]} is with time zone "
            f"(in {sources_text(sources)})",
            f"DateTime(timezone=True) in the model, and {sql}  (if the stored values are UTC)",
            table=table,
            subject=column,
            sql=sql,
        )


# ---------------------------------------------------------------- enum-default


@rule(
    "enum-default",
    "warning",
    "enum-like columns without a default",
    why="an INSERT that leaves the column out (psql, another service, a bulk load) fails or stores NULL "
    "instead of the state a new row starts in",
    live_part="enum-typed and CHECK (col IN (...)) columns of the live tables",
)
def enum_default(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy.types import Enum

    found: dict[str, list[str]] = {}
    first: dict[str, str] = {}  # location -> the first of its values (a default that certainly fits)
    for table in ctx.metadata.tables.values():
        listed = {t.column: t.values for check in model_checks(table) for t in column_tests(check) if t.kind == "in"}
        for column in table.columns:
            enum_like = isinstance(column.type, Enum) or column.name in listed
            if enum_like and column.server_default is None and not column.primary_key:
                location = f"{table.key}.{column.name}"
                merge_sources(found, location, in_the_models(ctx, table.name, column.name))
                values = listed.get(column.name) or list(getattr(column.type, "enums", ()) or ())
                if values:
                    first.setdefault(location, str(values[0]))
    if not ctx.offline:
        snap = live_schema(ctx).snap
        enums = {name for name, kind in snap.types.items() if kind == "enum"}
        for table in snap.tables.values():
            listed = {
                t.column: t.values
                for c in table.constraints.values()
                if c.kind == "check"
                for t in column_tests(c.definition)
                if t.kind == "in"
            }
            for column in table.columns.values():
                type_name = column.type.replace('"', "")  # format_type: schema-qualified outside the search path
                if (type_name in enums or column.name in listed) and column.default is None:
                    location = f"{table.name}.{column.name}"
                    merge_sources(found, location, DATABASE)
                    values = listed.get(column.name) or _enum_labels(ctx, type_name)
                    if values:
                        first[location] = str(values[0])
    for location, sources in sorted(found.items()):
        table, column = location.rsplit(".", 1)
        value = first.get(location)
        sql = f"ALTER TABLE {table_ref(table)} ALTER COLUMN {ident(column)} SET DEFAULT {literal(value)};" if value else ""
        yield Finding(
            "enum-default",
            location,
            f"{location} takes one of a fixed set of values but has no default (in {sources_text(sources)})",
            f"server_default=\"<initial value>\" in the model, and a revision: "
            + (f"{sql}  (with the state a new row starts in; {value!r} is the first of its values)" if sql
               else "ALTER TABLE ... ALTER COLUMN ... SET DEFAULT with the state a new row starts in"),
            table=table,
            subject=column,
            sql=sql,
        )


def _enum_labels(ctx: ReviewContext, type_name: str) -> list[str]:
    """The labels of an enum type of the reviewed schema, in their order."""
    from sqlalchemy import text

    return list(
        ctx.connection().execute(
            text(
                "SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = to_regtype(:name) ORDER BY e.enumsortorder"
            ),
            {"name": type_name},
        ).scalars()
    )


# ---------------------------------------------------------------- the schema lint rules


def _lint_rule(rule_id: str) -> None:
    def check(ctx: ReviewContext) -> Iterator[Finding]:
        for found in lint_rules.findings_of(rule_id, live_schema(ctx)):
            whole_table = found.subject == found.table or rule_id == "missing-timestamps"
            location = found.table if whole_table else f"{found.table}.{found.subject}"
            yield Finding(rule_id, location, found.message, found.hint, table=found.table, subject=found.subject, sql=found.sql)

    rule(rule_id, "warning", lint_rules.RULES[rule_id], why=LINT_WHY[rule_id], live=True)(check)


LINT_WHY = {
    "fk-without-index": "deleting or updating a parent row scans the child table, and joins from parent to "
    "children cannot use an index",
    "no-primary-key": "a table without a key has no row identity for updates, logical replication or the ORM",
    "timestamp-without-time-zone": "a timestamp stores wall-clock time with no zone; the app works in UTC instants",
    "duplicate-index": "every write maintains both copies, and both take space and cache",
    "redundant-index": "the wider index answers the same lookups; the narrower one only costs writes and space",
    "missing-timestamps": "without created_at/updated_at nobody can tell when a row appeared or last changed",
}

for _id in lint_rules.RULES:
    _lint_rule(_id)

"""Rich views of the schema commands' results (DDL and Mermaid go out as plain text)."""

from __future__ import annotations

import sys

from rich.markup import escape
from todoctl.render.tables import Table
from rich.text import Text

from todoctl.core.schema.diff import SchemaDiff
from todoctl.core.schema.lint_report import LintReport
from todoctl.core.schema.mermaid import ErDiagram
from todoctl.core.schema.pgdump import SchemaDump
from todoctl.core.schema.show import SchemaOverview, TableDetail
from todoctl.render import console
from todoctl.render import drift as drift_view
from todoctl.render.layout import sql_text


def _rows(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def overview(result: SchemaOverview) -> None:
    out = console()
    if not result.tables:
        out.print(f"No tables in schema {escape(result.schema)} of {escape(result.database)}.")
        return
    table = Table(title=f"Tables of {escape(result.database)} (schema {escape(result.schema)})", title_justify="left")
    table.add_column("table")
    table.add_column("rows (est.)", justify="right")
    table.add_column("total size", justify="right")
    for t in result.tables:
        table.add_row(Text(t.name), _rows(t.estimated_rows), t.total_size)
    out.print(table)


def table_detail(result: TableDetail) -> None:
    out = console()
    out.print(
        Text.assemble(
            ("Table ", ""), (result.name, "bold"), f" of {result.database}: ",
            f"{_rows(result.estimated_rows)} rows (estimated), {result.total_size} in all",
        )
    )

    columns = Table(title="Columns", title_justify="left")
    for name in ("column", "type", "nullable", "default"):
        columns.add_column(name)
    for c in result.columns:
        default = c.default or ""
        if c.generated:
            default = f"GENERATED ALWAYS AS ({c.generated}) STORED"
        columns.add_row(Text(c.name), sql_text(c.type), "yes" if c.nullable else "no", sql_text(default))
    out.print(columns)

    if result.indexes:
        indexes = Table(title="Indexes", title_justify="left")
        for name, justify in (("index", "left"), ("definition", "left"), ("size", "right"), ("scans", "right")):
            indexes.add_column(name, justify=justify)
        for i in result.indexes:
            label = i.name + ("" if i.valid else " (INVALID)")
            definition = i.definition.split(" USING ", 1)[-1]
            indexes.add_row(Text(label), sql_text(definition), i.size, "?" if i.scans is None else f"{i.scans:,}")
        out.print(indexes)

    if result.constraints:
        constraints = Table(title="Constraints", title_justify="left")
        for name in ("constraint", "kind", "definition"):
            constraints.add_column(name)
        for c in result.constraints:
            constraints.add_row(Text(c.name), c.kind, sql_text(c.definition + ("" if c.validated else " NOT VALID")))
        out.print(constraints)

    for title, keys in (
        ("Foreign keys out (this table refers to)", result.foreign_keys_out),
        ("Foreign keys in (refer to this table)", result.foreign_keys_in),
    ):
        if not keys:
            continue
        fks = Table(title=title, title_justify="left")
        for name in ("constraint", "from", "to", "on delete"):
            fks.add_column(name)
        for k in keys:
            fks.add_row(
                Text(k.name),
                Text(f"{k.table}({', '.join(k.columns)})"),
                Text(f"{k.references_table}({', '.join(k.references_columns)})"),
                k.on_delete,
            )
        out.print(fks)


def diff(result: SchemaDiff) -> None:
    out = console()
    sides = "the models" if result.against == "models" else "the models and the migration history"
    if result.in_sync:
        current = ", ".join(result.current) or "base"
        out.print(f"[green]In sync[/]: {escape(result.database)} (at {escape(current)}) matches {sides}.")
    else:
        out.print(drift_view.headline(result.database, result.current, ", ".join(result.heads) or "base", result.differences, sides))
    drift_view.differences(out, result.differences, result.hints, result.notes)


def lint(result: LintReport) -> None:
    out = console()
    if result.clean:
        out.print(f"[green]No findings[/] in {escape(result.database)} ({len(result.rules)} rules).")
        return
    table = Table(title=f"{len(result.findings)} lint finding(s) in {escape(result.database)}", title_justify="left")
    table.add_column("rule", no_wrap=True)
    table.add_column("table")
    table.add_column("finding")
    table.add_column("hint")
    for f in result.findings:
        table.add_row(f.rule, Text(f.table), Text(f.message), Text(f.hint))
    out.print(table)


def dump(result: SchemaDump) -> None:
    sys.stdout.write(result.ddl)
    sys.stdout.flush()
    # Which pg_dump made it, on stderr so that `schema dump > schema.sql` keeps only the DDL.
    note = f"-- pg_dump {result.pg_dump_version} ({result.pg_dump}) of PostgreSQL {result.server_version}"
    if result.dropped_settings:
        note += f"; left out for this server: {' '.join(result.dropped_settings)}"
    sys.stderr.write(note + "\n")


def erd(result: ErDiagram, *, markdown: bool = False, svg: bool = False) -> None:
    if svg:
        from todoctl.render import erd_svg

        text = erd_svg.svg(result)
    else:
        text = result.mermaid
    if markdown:
        text = f"```mermaid\n{text}```\n"
    sys.stdout.write(text)
    sys.stdout.flush()

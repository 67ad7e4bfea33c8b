"""The schema commands' work, one module per job; this module names them in one place.

    show      schema_show.overview / table_detail   what is in the live database
    diff      schema_diff.against_models / against_history
    dump      schema_dump.dump                      DDL via pg_dump --schema-only
    erd       schema_erd.erd                        Mermaid erDiagram
    lint      schema_lint.lint                      design mistakes, with hints
"""

from __future__ import annotations

from todoctl.core.schema_diff import SchemaDiff, SchemaDifference, against_history, against_models
from todoctl.core.schema_dump import SchemaDump, dump
from todoctl.core.schema_erd import ErDiagram, erd
from todoctl.core.schema_lint import RULES, LintFinding, LintReport, lint
from todoctl.core.schema_show import SchemaOverview, TableDetail, overview, table_detail

__all__ = [
    "RULES",
    "ErDiagram",
    "LintFinding",
    "LintReport",
    "SchemaDiff",
    "SchemaDifference",
    "SchemaDump",
    "SchemaOverview",
    "TableDetail",
    "against_history",
    "against_models",
    "dump",
    "erd",
    "lint",
    "overview",
    "table_detail",
]

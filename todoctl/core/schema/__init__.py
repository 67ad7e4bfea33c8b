"""The schema commands' work, one module per job; this module names them in one place.

    show         overview / table_detail        what is in the live database
    diff         against_models / against_history (the drift vocabulary is in core/drift/)
    pgdump       dump                           DDL via pg_dump --schema-only
    mermaid      erd                            Mermaid erDiagram
    lint_report  lint                           `schema lint`: review/lint_rules.py through the review engine
"""

from __future__ import annotations

from todoctl.core.review.lint_rules import RULES, LintFinding
from todoctl.core.schema.diff import (
    SchemaDiff,
    SchemaDifference,
    against_history,
    against_models,
)
from todoctl.core.schema.lint_report import LintReport, check_rules, lint
from todoctl.core.schema.mermaid import ErDiagram, erd
from todoctl.core.schema.pgdump import SchemaDump, dump
from todoctl.core.schema.show import SchemaOverview, TableDetail, overview, table_detail

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
    "check_rules",
    "dump",
    "erd",
    "lint",
    "overview",
    "table_detail",
]

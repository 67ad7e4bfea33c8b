"""`schema lint`: the lint rules (core/review/lint_rules.py) run on the live schema through the review engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import MetaData

from todoctl.core.catalog.details import SCHEMA
from todoctl.core.safety.revision_gate import require_head
from todoctl.core.review.lint_rules import RULES, LintFinding
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error
from todoctl.results import human_only


@dataclass
class LintReport:
    database: str = human_only()
    rules: list[str]  # the rules that ran
    findings: list[LintFinding]

    __json_properties__ = ("clean",)

    @property
    def clean(self) -> bool:
        return not self.findings


def check_rules(skip: Iterable[str]) -> list[str]:
    """The rules to run once ``skip`` is removed; an unknown rule id is a usage error."""
    skip = list(skip)
    unknown = [r for r in skip if r not in RULES]
    if unknown:
        raise usage_error(f"unknown lint rule {', '.join(unknown)}", f"rules: {', '.join(RULES)}")
    return [r for r in RULES if r not in skip]


def lint(url: DatabaseURL, *, skip: Iterable[str] = (), schema: str | None = SCHEMA) -> LintReport:
    """Run the lint rules on the live schema; findings are sorted by table, then rule.

    The rules are review rules (``todoctl review`` runs them too, as warnings): this is the
    schema-only subset of the review, through the same engine, without waivers.
    """
    from todoctl.core.review.engine import run
    from todoctl.core.review.registry import ReviewContext

    rules = check_rules(skip)
    ctx = ReviewContext(root=Path.cwd(), metadata=MetaData(), queries={}, environ={}, url=url, schema=schema)
    try:
        # Findings on a half-migrated schema are often what the pending revisions fix.
        require_head(ctx.connection(), url.display, "schema lint")
    except BaseException:
        ctx.close()
        raise
    report = run(ctx, only=rules)
    findings = [
        LintFinding(f.finding.rule, f.finding.table, f.finding.subject, f.finding.message, f.finding.hint, f.finding.sql)
        for f in report.findings
    ]
    order = list(RULES)
    findings.sort(key=lambda f: (f.table, order.index(f.rule), f.subject))
    return LintReport(url.display, rules, findings)

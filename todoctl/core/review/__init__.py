"""`todoctl review`: the database review checklist as one gate (rules in ``rules/``)."""

from __future__ import annotations

from todoctl.core.review.engine import (
    RULES,
    TIERS,
    Finding,
    ReviewContext,
    ReviewReport,
    Rule,
    Waiver,
    app_context,
    load_waivers,
    review,
    rule,
    run,
    select_rules,
)

__all__ = [
    "RULES",
    "TIERS",
    "Finding",
    "ReviewContext",
    "ReviewReport",
    "Rule",
    "Waiver",
    "app_context",
    "load_waivers",
    "review",
    "rule",
    "run",
    "select_rules",
]

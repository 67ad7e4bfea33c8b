"""`todoctl review`: the database review checklist as one gate (rules in ``rules/``)."""

from __future__ import annotations

from todoctl.core.review.engine import ReviewReport, Waiver, load_waivers, review, run, select_rules
from todoctl.core.review.registry import RULES, TIERS, Finding, ReviewContext, Rule, app_context, rule

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

"""Review rules: config."""

from __future__ import annotations

from todoctl.core.review.engine import Finding, ReviewContext, rule  # noqa: F401


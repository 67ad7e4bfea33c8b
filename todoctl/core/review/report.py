"""What a review found, typed as its ``--json`` document: findings, waived findings, skipped rules,
the counts and the verdict (render/document.py serialises a ``ReviewReport``; its JSON Schema is
generated from these types).

A ``RuledFinding`` is a rule's ``Finding`` with the rule's tier, title and why; its document form
(``ReviewFinding``) is flat, as reviewers and CI read it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from todoctl.results import human_only

TIERS = ("critical", "warning", "suggestion")


@dataclass(frozen=True)
class Finding:
    """One thing a rule found.

    ``location`` says where, in the words a reviewer uses: ``todoctl/models.py:152`` (a file and
    line, relative to the project root), ``tasks.list_id`` (a column), ``query tag-tasks`` (a named
    query), ``alembic.ini:58``, ``database`` (the live server as a whole).
    """

    rule: str
    location: str
    message: str  # what is wrong here, one sentence
    hint: str  # how to fix it, one sentence or one statement
    # For schema findings, the table and the column(s), index or constraint concerned: what
    # `schema lint` reports (its JSON has "table" and "subject"). Empty for other findings.
    table: str = ""
    subject: str = ""
    # The statement(s) the hint gives, exactly as to run (identifiers quoted where PostgreSQL needs
    # it: core/sql_names.py); empty when the fix is not a statement or needs a decision.
    sql: str = ""


@dataclass(frozen=True)
class Waiver:
    """``[[tool.todoctl.review.waive]]`` in pyproject.toml: a rule, optionally a location pattern
    (fnmatch: ``tasks.*``, ``query overdue-tasks``), and the reason, which is required."""

    rule: str
    reason: str
    location: str | None = None

    def covers(self, finding: Finding) -> bool:
        return finding.rule == self.rule and (self.location is None or fnmatch.fnmatchcase(finding.location, self.location))


@dataclass(frozen=True)
class ReviewFinding:
    """A finding as the document shows it."""

    rule: str
    tier: str  # critical | warning | suggestion
    title: str  # what the rule checks, as in the checklist
    location: str
    message: str
    why: str
    hint: str
    sql: str  # the statement(s) the hint gives, exactly as to run; empty when the fix is not a statement


@dataclass(frozen=True)
class WaiverPattern:
    """The waiver that covered a finding: its rule and location pattern (None: every location)."""

    rule: str
    location: str | None


@dataclass(frozen=True)
class WaivedDocument(ReviewFinding):
    """A waived finding as the document shows it: the finding, the waiver's reason, the waiver."""

    reason: str
    waiver: WaiverPattern


@dataclass(frozen=True)
class RuledFinding:
    """A finding with its rule's tier, title and why (what the report prints)."""

    tier: str
    finding: Finding
    why: str
    title: str = ""

    def __json__(self) -> ReviewFinding:
        f = self.finding
        return ReviewFinding(f.rule, self.tier, self.title, f.location, f.message, self.why, f.hint, f.sql)


@dataclass(frozen=True)
class WaivedFinding:
    """A finding a waiver covers: not counted, listed with the waiver's reason."""

    finding: RuledFinding
    waiver: Waiver

    def __json__(self) -> WaivedDocument:
        f = self.finding.__json__()
        pattern = WaiverPattern(self.waiver.rule, self.waiver.location)
        return WaivedDocument(**vars(f), reason=self.waiver.reason, waiver=pattern)


@dataclass(frozen=True)
class SkippedRule:
    """A rule (or a part of one) that did not run, and why: live rules offline, no engine configured."""

    rule: str
    reason: str


@dataclass(frozen=True)
class ReviewCounts:
    critical: int
    warning: int
    suggestion: int
    waived: int
    skipped: int


@dataclass
class ReviewReport:
    findings: list[RuledFinding]
    waived: list[WaivedFinding]
    rules: list[str]  # the rules that ran
    skipped: list[SkippedRule]
    strict: bool
    offline: bool
    database: str | None = human_only(default=None)  # host:port/database of the live review; None offline

    __json_properties__ = ("ok", "failed", "counts")

    @property
    def counts(self) -> ReviewCounts:
        tiers = {tier: sum(1 for f in self.findings if f.tier == tier) for tier in TIERS}
        return ReviewCounts(**tiers, waived=len(self.waived), skipped=len(self.skipped))

    @property
    def failed(self) -> bool:
        counts = self.counts
        return counts.critical > 0 or (self.strict and counts.warning > 0)

    @property
    def ok(self) -> bool:
        return not self.failed

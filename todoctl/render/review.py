"""`todoctl review` for people (the checklist's three tiers, then the summary) and for CI (one JSON document)."""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text

from todoctl.core.review.engine import RULES, TIERS, ReviewReport, RuledFinding, Waiver
from todoctl.render import console

HEADINGS = {
    "critical": "Critical — must fix",
    "warning": "Warnings — should fix",
    "suggestion": "Suggestions — consider",
}
MARKS = {"critical": ("✗", "bold red"), "warning": ("!", "yellow"), "suggestion": ("·", "cyan")}
# How many locations of one waiver the summary names before "and N more".
SHOWN_LOCATIONS = 3


def _finding(f: RuledFinding) -> dict:
    r = RULES.get(f.finding.rule)
    return {
        "rule": f.finding.rule,
        "tier": f.tier,
        "title": r.title if r else "",
        "location": f.finding.location,
        "message": f.finding.message,
        "why": f.why,
        "hint": f.finding.hint,
        "sql": f.finding.sql,
    }


def document(report: ReviewReport) -> dict:
    """The JSON document: stable keys, every finding with its why and hint, every waiver with its reason."""
    counts = dict(report.counts)
    counts["waived"] = len(report.waived)
    counts["skipped"] = len(report.skipped)
    return {
        "ok": not report.failed,
        "failed": report.failed,
        "strict": report.strict,
        "offline": report.offline,
        "counts": counts,
        "findings": [_finding(f) for f in report.findings],
        "waived": [
            {**_finding(f), "reason": w.reason, "waiver": {"rule": w.rule, "location": w.location}}
            for f, w in report.waived
        ],
        "rules": report.rules,
        "skipped": [{"rule": rule, "reason": reason} for rule, reason in report.skipped],
    }


def report(result: ReviewReport) -> None:
    out = console()
    where = "offline (models, queries, settings, files)" if result.offline else result.database
    out.print(Text(f"Review of {where}: {len(result.rules)} rules ran", style="bold"))
    by_tier: dict[str, list[RuledFinding]] = defaultdict(list)
    for f in result.findings:
        by_tier[f.tier].append(f)
    for tier in TIERS:
        out.print()
        out.print(Text(f"{HEADINGS[tier]} ({len(by_tier[tier])})", style="bold"))
        if not by_tier[tier]:
            out.print(Text("  none", style="dim"))
        for f in by_tier[tier]:
            mark, style = MARKS[tier]
            out.print(Text.assemble(f"  {mark} ", (f.finding.rule, style), "  ", (f.finding.location, "bold")))
            out.print(Text(f"      {f.finding.message}"))
            out.print(Text(f"      why: {f.why}", style="dim"))
            out.print(Text(f"      fix: {f.finding.hint}"))
    if result.waived:
        out.print()
        out.print(Text(f"Waived ({len(result.waived)}, pyproject.toml [tool.todoctl.review])", style="bold"))
        for waiver, findings in _by_waiver(result.waived):
            locations = [f.finding.location for f in findings]
            shown = ", ".join(locations[:SHOWN_LOCATIONS])
            if len(locations) > SHOWN_LOCATIONS:
                shown += f" and {len(locations) - SHOWN_LOCATIONS} more"
            out.print(Text.assemble("  ", (waiver.rule, "dim"), f"  {shown}"))
            out.print(Text(f"      reason: {waiver.reason}"))
    if result.skipped:
        out.print()
        out.print(Text(f"Skipped ({len(result.skipped)})", style="bold"))
        for rule, reason in result.skipped:
            out.print(Text.assemble("  ", (rule, "dim"), f"  {reason}"))
    out.print()
    out.print(_summary(result))


def _by_waiver(waived: list[tuple[RuledFinding, Waiver]]) -> list[tuple[Waiver, list[RuledFinding]]]:
    groups: dict[Waiver, list[RuledFinding]] = {}
    for f, w in waived:
        groups.setdefault(w, []).append(f)
    return list(groups.items())


def _summary(result: ReviewReport) -> Text:
    counts = result.counts
    parts = [
        f"{counts['critical']} critical",
        f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}",
        f"{counts['suggestion']} suggestion{'s' if counts['suggestion'] != 1 else ''}",
        f"{len(result.waived)} waived",
        f"{len(result.skipped)} skipped",
    ]
    if result.failed:
        why = "critical findings" if counts["critical"] else "warnings (--strict)"
        verdict = (f"FAILED: {why}", "bold red")
    elif counts["warning"] and not result.strict:
        verdict = ("passed (warnings fail only with --strict)", "green")
    else:
        verdict = ("passed", "bold green")
    return Text.assemble("Summary: ", ", ".join(parts), " — ", verdict)

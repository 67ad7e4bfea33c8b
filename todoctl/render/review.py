"""`todoctl review` for people: the checklist's three tiers, then the summary (--json is the ReviewReport itself)."""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text

from todoctl.core.review.report import TIERS, ReviewReport, RuledFinding, WaivedFinding, Waiver
from todoctl.render import console
from todoctl.render.layout import hanging, sql_statements, sql_text

HEADINGS = {
    "critical": "Critical — must fix",
    "warning": "Warnings — should fix",
    "suggestion": "Suggestions — consider",
}
MARKS = {"critical": ("✗", "bold red"), "warning": ("!", "yellow"), "suggestion": ("·", "cyan")}
# How many locations of one waiver the summary names before "and N more".
SHOWN_LOCATIONS = 3


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
            out.print(hanging(Text(f.why, style="dim"), prefix=Text("      why: ", style="dim")))
            _fix(out, f.finding.hint, f.finding.sql)
    if result.waived:
        out.print()
        out.print(Text(f"Waived ({len(result.waived)}, pyproject.toml [tool.todoctl.review])", style="bold"))
        for waiver, findings in _by_waiver(result.waived):
            locations = [f.finding.location for f in findings]
            shown = ", ".join(locations[:SHOWN_LOCATIONS])
            if len(locations) > SHOWN_LOCATIONS:
                shown += f" and {len(locations) - SHOWN_LOCATIONS} more"
            out.print(Text.assemble("  ", (waiver.rule, "dim"), f"  {shown}"))
            out.print(hanging(Text(waiver.reason), prefix="      reason: "))
    if result.skipped:
        out.print()
        out.print(Text(f"Skipped ({len(result.skipped)})", style="bold"))
        for skipped in result.skipped:
            out.print(Text.assemble("  ", (skipped.rule, "dim"), f"  {skipped.reason}"))
    out.print()
    out.print(_summary(result))


def _fix(out, hint: str, sql: str) -> None:
    """The hint's prose, then its SQL on lines of its own, one statement after another, folded only
    between tokens: a literal (a hash-format regex) is never cut, so what is copied runs."""
    if not sql or sql not in hint:
        out.print(hanging(Text(hint), prefix="      fix: "))
        return
    before, after = hint.split(sql, 1)
    prose = " ".join(part.strip() for part in (before, after) if part.strip())
    out.print(hanging(Text(prose), prefix="      fix: ") if prose else Text("      fix:"))
    for statement in sql_statements(sql):
        # crop=False: a literal wider than the terminal runs past its edge (the terminal shows the
        # rest on the next row) instead of being cut off.
        out.print(hanging(sql_text(statement, whole_tokens=True), prefix="        "), crop=False)


def _by_waiver(waived: list[WaivedFinding]) -> list[tuple[Waiver, list[RuledFinding]]]:
    groups: dict[Waiver, list[RuledFinding]] = {}
    for w in waived:
        groups.setdefault(w.waiver, []).append(w.finding)
    return list(groups.items())


def _summary(result: ReviewReport) -> Text:
    counts = result.counts
    parts = [
        f"{counts.critical} critical",
        f"{counts.warning} warning{'s' if counts.warning != 1 else ''}",
        f"{counts.suggestion} suggestion{'s' if counts.suggestion != 1 else ''}",
        f"{len(result.waived)} waived",
        f"{len(result.skipped)} skipped",
    ]
    if result.failed:
        why = "critical findings" if counts.critical else "warnings (--strict)"
        verdict = (f"FAILED: {why}", "bold red")
    elif counts.warning and not result.strict:
        verdict = ("passed (warnings fail only with --strict)", "green")
    else:
        verdict = ("passed", "bold green")
    return Text.assemble("Summary: ", ", ".join(parts), " — ", verdict)

"""The review engine: rules with ids and tiers, run against the app's models, named queries,
settings, repository files and (unless offline) the live database.

A rule is a function registered with ``@rule``; it yields ``Finding``s and never prints. The engine
runs the selected rules, applies the waivers from ``pyproject.toml`` and decides the outcome:

    critical    must fix: a finding fails the review (exit 1)
    warning     should fix: fails only with --strict
    suggestion  consider: never fails

A rule marked ``live=True`` needs the database; with ``--offline`` it is skipped and listed as such.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from todoctl.core.review.registry import RULES, ReviewContext, Rule, app_context  # noqa: F401
from todoctl.core.review.report import (  # noqa: F401 - rules import Finding from here
    TIERS,
    Finding,
    ReviewReport,
    RuledFinding,
    SkippedRule,
    WaivedFinding,
    Waiver,
)
from todoctl.errors import usage_error

if TYPE_CHECKING:
    from todoctl.db.url import DatabaseURL

# ---------------------------------------------------------------- waivers


def load_waivers(root: Path) -> list[Waiver]:
    """Waivers from ``root/pyproject.toml``; a waiver without a reason or for an unknown rule is a usage error."""
    import tomllib

    path = root / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise usage_error(f"pyproject.toml cannot be read: {exc}", "fix the file, or move it aside to review without waivers") from None
    entries = data.get("tool", {}).get("todoctl", {}).get("review", {}).get("waive", [])
    if not isinstance(entries, list):
        raise usage_error("[tool.todoctl.review] waive must be a list of tables", 'write [[tool.todoctl.review.waive]] with rule = "..." and reason = "..."')
    waivers = []
    for n, entry in enumerate(entries, 1):
        where = f"pyproject.toml waiver {n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
            raise usage_error(f"{where} has no rule", 'each waiver needs rule = "<id>" and reason = "<why>"')
        if entry["rule"] not in RULES:
            raise usage_error(f"{where} names unknown rule {entry['rule']!r}", f"rules: {', '.join(RULES)}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise usage_error(f"{where} ({entry['rule']}) has no reason", 'a waiver must say why: reason = "..."')
        location = entry.get("location")
        if location is not None and not isinstance(location, str):
            raise usage_error(f"{where} ({entry['rule']}) has a location that is not a string", 'location = "tasks.list_id" (fnmatch patterns allowed)')
        waivers.append(Waiver(entry["rule"], reason.strip(), location))
    return waivers


# ---------------------------------------------------------------- running


def select_rules(only: Iterable[str] = ()) -> list[Rule]:
    """The rules to run: all, or those named by ``--only`` (an unknown id is a usage error)."""
    load_rules()
    only = list(only)
    unknown = [r for r in only if r not in RULES]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], RULES, n=1)
        hint = f"did you mean {close[0]}?" if close else f"rules: {', '.join(RULES)}"
        raise usage_error(f"unknown review rule {', '.join(unknown)}", hint)
    return [r for r in RULES.values() if not only or r.id in only]


def run(ctx: ReviewContext, *, only: Iterable[str] = (), strict: bool = False, waivers: Iterable[Waiver] = ()) -> ReviewReport:
    """Run the selected rules over ``ctx``; findings are ordered by tier, rule, location."""
    rules = select_rules(only)
    waivers = list(waivers)
    found: list[RuledFinding] = []
    waived: list[WaivedFinding] = []
    ran: list[str] = []
    skipped: list[SkippedRule] = []
    try:
        for r in rules:
            if r.live and ctx.offline:
                skipped.append(SkippedRule(r.id, "needs the database (--offline)"))
                continue
            if r.live_part and ctx.offline:
                skipped.append(SkippedRule(r.id, f"live part skipped (--offline): {r.live_part}"))
            ran.append(r.id)
            ctx._skips.clear()
            for finding in r.check(ctx):
                ruled = RuledFinding(r.tier, finding, r.why, r.title)
                waiver = next((w for w in waivers if w.covers(finding)), None)
                (waived.append(WaivedFinding(ruled, waiver)) if waiver else found.append(ruled))
            skipped += [SkippedRule(r.id, why) for why in dict.fromkeys(ctx._skips)]
    finally:
        ctx.close()
    order = {r.id: n for n, r in enumerate(RULES.values())}
    key = lambda f: (TIERS.index(f.tier), order[f.finding.rule], f.finding.location)  # noqa: E731
    found.sort(key=key)
    waived.sort(key=lambda w: key(w.finding))
    database = None if ctx.url is None else ctx.url.display
    return ReviewReport(found, waived, ran, skipped, strict, ctx.offline, database=database)


def load_rules() -> None:
    """Import the rule modules (registration happens on import)."""
    import todoctl.core.review.rules  # noqa: F401


# ---------------------------------------------------------------- the command's one call


def review(root: Path | None, url: "DatabaseURL | None", *, only: Iterable[str] = (), strict: bool = False) -> ReviewReport:
    """`todoctl review`: the whole checklist over the app in ``root`` (None: the project's directory)
    and, unless ``url`` is None (--offline), its live database.

    Usage errors (an unknown --only rule, a waiver without a reason) come before any connection
    (exit 2); an unreachable database is exit 3; a database behind head is exit 1 with the
    revisions to apply (its live findings would be about a schema the app does not run on).
    """
    from todoctl.core.safety.revision_gate import require_head

    from todoctl.project import current

    only = list(only)
    select_rules(only)
    root = Path(root or current().root)
    waivers = load_waivers(root)
    ctx = app_context(root, url)
    if url is not None:
        try:
            require_head(ctx.connection(), url.display, "review")
        except BaseException:
            ctx.close()
            raise
    return run(ctx, only=only, strict=strict, waivers=waivers)

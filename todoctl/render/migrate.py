"""Rich views of migration results."""

from __future__ import annotations

from todoctl.render.tables import Table
from rich.text import Text

from todoctl.core.migrate.authoring import NewRevision
from todoctl.core.migrate.runner import MigrationRun
from todoctl.core.history import Revision
from todoctl.core.migrate.state import MigrationStatus
from todoctl.render import console
from todoctl.render import drift as drift_view
from todoctl.render.layout import hanging


def _revs(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "base"


def status(result: MigrationStatus) -> None:
    out = console()
    state = "[green]at head[/]" if result.at_head else "[yellow]behind head[/]"
    if result.unknown:
        state = "[red]at an unknown revision[/]"
    out.print(f"Database [bold]{result.database}[/]: {state}")
    out.print(f"  current: {_revs(result.current)}    head: {_revs(result.heads)}")
    if result.unknown:
        out.print(f"  [red]unknown revision(s) {', '.join(result.unknown)}[/]: not in these migration scripts")
    # One line per revision, oldest first, as Django's showmigrations and dbmate's status draw it.
    marks = {True: "[X]", False: "[ ]", None: "[?]"}
    for rev in result.revisions:
        note = "  (current)" if rev.current else ""
        message = rev.message.splitlines()[0] if rev.message else ""
        mark = f"  {marks[rev.applied]} {rev.revision}  "
        out.print(hanging(Text(f"{mark}{message}{note}"), indent=len(mark)), soft_wrap=True)
    applied = sum(1 for r in result.revisions if r.applied)
    out.print(f"  applied: {applied}    pending: {len(result.pending)}")
    if result.untracked_tables:
        out.print(
            f"  [yellow]app tables exist ({', '.join(result.untracked_tables)}) but no revision is recorded[/]: "
            "if they match a revision, `todoctl migrate stamp REVISION`"
        )
    drift_view.differences(out, [], result.hints)
    head = _revs(result.heads)
    for broken in result.invalid_indexes:
        if broken.building_pid is not None:
            out.print(
                f"  [yellow]index {broken.index} on {broken.table} is being built by pid {broken.building_pid}[/] "
                "(INVALID until its build finishes; `todoctl migrate up` leaves it alone)",
                soft_wrap=True,
            )
            continue
        will = {
            "rebuild": f"`todoctl migrate up` will REINDEX INDEX CONCURRENTLY it (head {head} defines it)",
            "drop": f"`todoctl migrate up` will DROP INDEX CONCURRENTLY it (head {head} does not define it)",
        }.get(broken.repair, "`todoctl migrate up` repairs it")
        out.print(
            f"  [red]invalid index {broken.index} on {broken.table}[/] (a failed or interrupted concurrent build): "
            + will,
            soft_wrap=True,  # one line per index: scripts grep it
        )


def run(result: MigrationRun) -> None:
    out = console()
    if result.direction == "stamp":
        out.print(f"Stamped {result.database}: {_revs(result.before)} -> {_revs(result.after)} (no migration ran).")
        return
    if not result.steps and not result.repairs:
        out.print(f"Nothing to do: {result.database} is at {_revs(result.before)}.")
        return
    if result.steps:
        _steps(result)
    for repair in result.repairs:
        out.print(f"Repaired: {repair.describe()}.", soft_wrap=True)
    if result.losses:
        from todoctl.core.migrate.losses import summary

        out.print(f"Dropped (as confirmed): {summary(result.losses)}.", soft_wrap=True, markup=False)
    out.print(f"Now at {_revs(result.after)}.")


def _steps(result: MigrationRun) -> None:
    table = Table(title=f"Migrated {result.database} {result.direction}", title_justify="left")
    table.add_column("revision")
    table.add_column("message")
    table.add_column("seconds", justify="right")
    for step in result.steps:
        arrow = "↑" if step.direction == "up" else "↓"
        table.add_row(f"{arrow} {step.revision}", (step.message.splitlines() or [""])[0],
                      "–" if step.duration_ms is None else f"{step.duration_ms / 1000:.3f}")
    console().print(table)


def history(revisions: list[Revision]) -> None:
    table = Table(title="Migration history (oldest first)", title_justify="left")
    table.add_column("revision")
    table.add_column("down")
    table.add_column("message")
    table.add_column("file")
    for rev in revisions:
        label = f"{rev.revision} (head)" if rev.is_head else rev.revision
        table.add_row(label, ", ".join(rev.down_revisions) or "base", rev.message.splitlines()[0], rev.filename)
    console().print(table)


def new(result: NewRevision) -> None:
    out = console()
    if result.revision is None:  # a merge with one head
        out.print(f"Nothing to merge: the history has one head ({_revs(result.down_revisions)}). Nothing written.")
        return
    if result.dry_run:
        _would_write(result)
        return
    out.print(f"Created revision [bold]{result.revision}[/]: {result.path}")
    for line in result.operations:
        out.print(f"  - {line}")
    out.print("Review it before committing: autogenerate cannot see renames or data moves.")


def _would_write(result: NewRevision) -> None:
    """`migrate new|merge --dry-run`: the file that would be written and what it would hold."""
    out = console()
    follows = f"after {_revs(result.down_revisions)}"
    if len(result.down_revisions) > 1:
        follows = f"joining {_revs(result.down_revisions)}"
    out.print(f"Dry run: would write revision {result.revision} ({follows}): {result.path}", soft_wrap=True, markup=False)
    for name, body in (("upgrade", result.upgrade), ("downgrade", result.downgrade)):
        out.print(f"  {name}():", markup=False)
        for line in body or ["pass"]:
            out.print(f"    {line}", soft_wrap=True, markup=False, highlight=False)
    out.print("Nothing written.")


def check(result) -> None:
    out = console()
    if result.ok:
        out.print(f"[green]OK[/]: {result.database} is at head ({_revs(result.heads)}) and matches the models.")
        return
    out.print(f"[red]FAILED[/]: {drift_view.headline(result.database, result.current, _revs(result.heads), result.differences, 'the models')}")
    drift_view.differences(out, result.differences, result.hints, result.notes)


def lint(result) -> None:
    # One line per finding, `file:line: rule: message` as squawk and compilers print it; the file is
    # `todoctl migrate sql REV`'s output (REV.sql), whose line numbers these are.
    from collections import Counter

    out = console()
    allowed: Counter = Counter()
    for rev in result.revisions:
        for finding in rev.findings:
            if finding.allowed:
                allowed[finding.rule] += 1
                continue
            hint = f" (hint: {finding.hint})" if finding.hint else ""
            where = f"{rev.revision}.sql:{finding.line}: "
            out.print(hanging(Text(f"{where}{finding.rule}: {finding.message}{hint}"), indent=len(where)), soft_wrap=True)
    if allowed:
        rules = ", ".join(f"{rule} ×{count}" for rule, count in sorted(allowed.items()))
        out.print(f"allowed with a reason: {sum(allowed.values())} ({rules}); reasons: --json",
                  soft_wrap=True, markup=False, highlight=False)
    failing = sum(r.failing for r in result.revisions)
    verdict = "[green]OK[/]" if result.ok else f"[red]{failing} finding(s)[/]"
    out.print(f"{verdict}: {len(result.revisions)} revision(s) linted.")
    if not result.ok:
        failing_rules: Counter = Counter(f.rule for r in result.revisions for f in r.findings if not f.allowed)
        if len(failing_rules) > 1 or sum(failing_rules.values()) > 3:
            out.print("by rule: " + ", ".join(f"{rule} ×{n}" for rule, n in failing_rules.most_common()),
                      soft_wrap=True, markup=False, highlight=False)
        first = failing_rules.most_common(1)[0][0] if failing_rules else "rule"
        out.print(
            "Fix the revision, or allow a rule on purpose: lint_allow = {'rule': 'reason'} in the revision, "
            f"or for every revision in lint.toml beside env.py: [allow] {first} = \"reason\"",
            soft_wrap=True, markup=False, highlight=False,
        )


def verify(result) -> None:
    out = console()
    if len(result.heads) != 1:
        out.print(f"[red]FAILED[/]: the history has {len(result.heads)} heads: {', '.join(result.heads)} "
                  "— `todoctl migrate merge`")
        return
    table = Table(title="migrate verify (throwaway database)", title_justify="left")
    for column in ("revision", "up", "down restores", "up again restores", "seconds", "detail"):
        table.add_column(column, overflow="fold")
    mark = {True: "[green]yes[/]", False: "[red]no[/]"}
    for step in result.steps:
        detail = step.error or "; ".join(step.differences)
        if step.error and step.hint:
            detail += f" (hint: {step.hint})"
        table.add_row(step.revision, mark[step.up], mark[step.down_restores], mark[step.up_again_restores],
                      f"{step.duration_ms / 1000:.2f}", detail)
    out.print(table)
    out.print("models match the database at head: " + (mark[True] if not result.model_drift else mark[False]))
    for diff in result.model_drift:
        out.print(f"  - {diff}")
    trip = result.data_round_trip
    out.print("with rows at head, down to base and up again: "
              + (mark[bool(trip)] + (f" ({result.data_error})" if result.data_error else "")))
    out.print("[green]OK[/]" if result.ok else "[red]FAILED[/]")


def current(result) -> None:
    # One line, like `alembic current`: scripts read it (`todoctl migrate current | cut -d' ' -f1`).
    revisions = ", ".join(result.current) or "base"
    where = "(head)" if result.at_head else f"(not at head; head is {_revs(result.heads)})"
    console().print(f"{revisions} {where}", soft_wrap=True)


def heads(revisions: list[Revision]) -> None:
    out = console()
    for rev in revisions:
        message = rev.message.splitlines()[0] if rev.message else ""
        out.print(hanging(Text(f"{rev.revision} (head) {message}"), indent=len(rev.revision) + 1), soft_wrap=True)


def plan(result) -> None:
    """A --dry-run: what the move would do (todoctl.core.migrate.plan), and that nothing changed."""
    out = console()
    if result.direction == "stamp":
        out.print(f"Dry run: would stamp {result.database}: {_revs(result.before)} -> {_revs(result.after)} "
                  "(no migration runs). Nothing changed.", soft_wrap=True)
        return
    if not result.steps and not result.repairs:
        out.print(f"Dry run: nothing to do: {result.database} is at {_revs(result.before)}.", soft_wrap=True)
        return
    out.print(f"Dry run: would migrate {result.database} {result.direction} "
              f"from {_revs(result.before)} to {_revs(result.after)}:", soft_wrap=True)
    for step in result.steps:
        arrow = "↑" if step.direction == "up" else "↓"
        message = step.message.splitlines()[0] if step.message else ""
        mark = f"  {arrow} {step.revision}  "
        out.print(hanging(Text(f"{mark}{message}"), indent=len(mark)), soft_wrap=True)
    if result.losses:
        from todoctl.core.migrate.losses import summary, total

        out.print(f"  would drop {total(result.losses):,} rows and values: {summary(result.losses)}", soft_wrap=True,
                  markup=False)
    for broken in result.repairs:
        out.print(f"  repair INVALID index {broken.index} on {broken.table} ({broken.repair or 'rebuild or drop'})",
                  soft_wrap=True, markup=False)
    out.print("Nothing changed (`todoctl migrate sql` shows the SQL).")

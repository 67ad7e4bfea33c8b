"""Rich views of migration results."""

from __future__ import annotations

from rich.table import Table

from todoctl.core.migrate import MigrationRun, MigrationStatus, NewRevision, Revision
from todoctl.render import console


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
    if result.pending:
        table = Table(title=f"{len(result.pending)} pending", title_justify="left")
        table.add_column("revision")
        table.add_column("message")
        for rev in result.pending:
            table.add_row(rev.id, rev.message.splitlines()[0] if rev.message else "")
        out.print(table)
    if result.untracked_tables:
        out.print(
            f"  [yellow]app tables exist ({', '.join(result.untracked_tables)}) but no revision is recorded[/]: "
            "if they match a revision, `todoctl migrate stamp REVISION`"
        )
    for broken in result.invalid_indexes:
        out.print(
            f"  [red]invalid index {broken.index} on {broken.table}[/] (a failed CREATE INDEX CONCURRENTLY): "
            "re-run `todoctl migrate up` to rebuild it"
        )


def run(result: MigrationRun) -> None:
    out = console()
    if not result.steps:
        out.print(f"Nothing to do: {result.database} is at {_revs(result.before)}.")
        return
    table = Table(title=f"Migrated {result.database} {result.direction}", title_justify="left")
    table.add_column("revision")
    table.add_column("message")
    table.add_column("seconds", justify="right")
    for step in result.steps:
        arrow = "↑" if step.direction == "up" else "↓"
        table.add_row(f"{arrow} {step.revision}", step.message.splitlines()[0], f"{step.seconds:.3f}")
    out.print(table)
    out.print(f"Now at {_revs(result.after)}.")


def history(revisions: list[Revision]) -> None:
    table = Table(title="Migration history (oldest first)", title_justify="left")
    table.add_column("revision")
    table.add_column("down")
    table.add_column("message")
    table.add_column("file")
    for rev in revisions:
        label = f"{rev.id} (head)" if rev.is_head else rev.id
        table.add_row(label, ", ".join(rev.down_revisions) or "base", rev.message.splitlines()[0], rev.filename)
    console().print(table)


def new(result: NewRevision) -> None:
    out = console()
    out.print(f"Created revision [bold]{result.revision}[/]: {result.path}")
    for line in result.operations:
        out.print(f"  - {line}")
    out.print("Review it before committing: autogenerate cannot see renames or data moves.")

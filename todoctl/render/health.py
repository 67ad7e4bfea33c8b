"""Rich views of a health report: the checks table, the app's pool, the probe, and a live view."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

from rich.console import Group
from todoctl.render.tables import Table
from rich.text import Text

from todoctl.core.health.report import HealthReport, PoolReport, Status
from todoctl.errors import ExitCode, TodoctlError
from todoctl.render import console, jsonable

STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def checks_table(result: HealthReport) -> Table:
    table = Table(
        title=f"Health of {result.database} ({result.endpoint} endpoint)",
        title_justify="left",
        expand=True,
        caption="thresholds read warn / fail",
        caption_justify="left",
    )
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("value", ratio=4)
    table.add_column("threshold", ratio=2)
    table.add_column("hint", ratio=3)
    for check in result.checks:
        style = STYLES[check.status]
        table.add_row(check.name, Text(check.status.value, style=style), check.value, check.threshold, check.hint or "")
    return table


def pool_table(pool: PoolReport) -> Group:
    """The app's pool: its engine's settings and connect arguments, and what a session through it gets here."""
    if pool.settings is None:
        return Group(Text(f"App pool: skipped ({pool.skipped})", style="dim"))
    s = pool.settings
    table = Table(title=f"App pool ({s.engine})", title_justify="left")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", justify="right")
    capacity = "unbounded" if s.pool_max is None else str(s.pool_max)
    rows = [
        ("pool", s.pool_class),
        ("pool_size", _maybe(s.pool_size)),
        ("max_overflow", "unbounded" if s.max_overflow is None and s.pool_size is not None else _maybe(s.max_overflow)),
        ("at most open", capacity),
        ("pool_timeout", _seconds(s.pool_timeout)),
        ("pool_recycle", _seconds(s.pool_recycle) if s.pool_recycle is not None else "never"),
        ("pre-ping", "on" if s.pre_ping else "off"),
        ("connect_timeout", _seconds(s.connect_timeout) if s.connect_timeout is not None else "none"),
        ("sslmode", s.sslmode or "libpq default (prefer)"),
    ]
    for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
        set_by_engine = s.timeout(name)
        here = getattr(pool.session, name, None) if pool.session is not None else None
        value = (f"{set_by_engine} ms" if set_by_engine and set_by_engine.isdigit() else set_by_engine) or "not set"
        if here is not None:
            value += f" (a session here: {here if here != '0' else 'none'})"
        rows.append((name, value))
    for label, value in rows:
        table.add_row(label, value)
    notes = [Text(f"note: {note}", style="yellow") for note in s.notes]
    if pool.session_error:
        notes.append(Text(f"note: no session through the app's pool: {pool.session_error}", style="yellow"))
    return Group(table, *notes)


def _maybe(value) -> str:
    return "-" if value is None else str(value)


def _seconds(value) -> str:
    return "-" if value is None else f"{value:g} s"


def probe_table(pool: PoolReport) -> Table | None:
    p = pool.probe
    if p is None:
        return None
    table = Table(title=f"Probe: {p.sessions} sessions, {p.hold_ms / 1000:g} s each", title_justify="left")
    table.add_column("measure", no_wrap=True)
    table.add_column("value", justify="right")
    capacity = "unbounded" if p.capacity is None else str(p.capacity)
    overflow = pool.settings.max_overflow if pool.settings is not None else None
    rows = [
        ("checked-out peak", f"{p.peak_checked_out} of {capacity}"),
        ("overflow used", f"{p.overflow_used} of {'unbounded' if overflow is None else overflow}"),
        ("connections opened", str(p.connections_opened)),
        ("acquisition wait p50", f"{p.wait_p50_ms:,.1f} ms"),
        ("acquisition wait p95", f"{p.wait_p95_ms:,.1f} ms"),
        ("acquisition wait max", f"{p.wait_max_ms:,.1f} ms"),
        ("timeouts", Text(str(p.timeouts), style="bold red" if p.timeouts else "")),
        ("errors", Text(str(p.errors), style="bold red" if p.errors else "")),
        ("took", f"{p.duration_ms / 1000:.2f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def verdict(result: HealthReport) -> Text:
    counts = result.summary
    parts = ", ".join(
        f"{counts[s.value]} {s.value}" for s in (Status.OK, Status.WARN, Status.FAIL, Status.SKIP) if counts[s.value]
    )
    if result.ok:
        return Text.assemble(("healthy", "bold green"), f": {parts} ({result.duration_ms / 1000:.2f} s)")
    why = " (--strict: warnings fail)" if result.strict and not counts[Status.FAIL.value] else ""
    return Text.assemble(("unhealthy", "bold red"), f": {parts}{why}; exit 1")


def _session_label(node: dict) -> Text:
    waited = node.get("waiting_ms")
    how = f"waiting {waited / 1000:g} s" if waited is not None else "holding"
    held = node.get("transaction_ms")
    if waited is None and held is not None:
        how += f" (transaction open {held / 1000:g} s)"
    app = node.get("application") or "-"
    return Text.assemble(
        (f"pid {node['pid']}", "bold"),
        f" {node.get('user') or '?'} [{app}] {node.get('state') or '?'}, {how}: ",
        (node.get("query") or "", "dim"),
    )


def blocking_trees(result: HealthReport) -> list:
    """Each chain of lock waits as a tree, root blocker first (from a check whose details hold ``chains``)."""
    from rich.tree import Tree

    def grow(tree, node: dict) -> None:
        for child in node.get("blocking", []):
            grow(tree.add(_session_label(child)), child)

    trees = []
    for check in result.checks:
        for chain in check.details.get("chains") or []:
            root = Tree(Text.assemble((f"{check.name}: root blocker ", "yellow"), _session_label(chain)))
            grow(root, chain)
            trees.append(root)
    return trees


def renderable(result: HealthReport) -> Group:
    parts = [checks_table(result), *blocking_trees(result), verdict(result), Text(""), pool_table(result.pool)]
    probe = probe_table(result.pool)
    if probe is not None:
        parts.append(probe)
    return Group(*parts)


def report(result: HealthReport) -> None:
    console().print(renderable(result))


def _error(exc: TodoctlError) -> Group:
    from todoctl.db.url import mask

    lines = [Text.assemble(("cannot connect", "bold red"), f": {mask(exc.message)}")]
    if exc.hint:
        lines.append(Text(f"hint: {mask(exc.hint)}", style="dim"))
    return Group(*lines)


# The watch view's order: what needs attention first, so a short terminal still shows it.
_ATTENTION = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2, Status.SKIP: 3}


def attention_first(result: HealthReport) -> HealthReport:
    """The same report with failing, then warning checks first (each group in registry order)."""
    from dataclasses import replace

    ordered = sorted(result.checks, key=lambda check: _ATTENTION.get(check.status, 9))
    return replace(result, checks=ordered)


def _frame(run: Callable[[], HealthReport], interval: float):
    stamp = datetime.now().strftime("%H:%M:%S")
    header = Text(f"{stamp}, refreshing every {interval:g} s; Ctrl-C to stop", style="dim")
    try:
        body = renderable(attention_first(run()))
    except TodoctlError as exc:
        if exc.exit_code is not ExitCode.CONNECTION:
            raise
        body = _error(exc)  # keep watching: the server may come back
    return Group(header, body)


def ticks(interval: float, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
    """Sleep to each next tick of a steady clock (start + n * interval), then yield.

    ``sleep(interval)`` after the work would drift by the work's duration every round; a round
    that overran its tick skips to the next one instead of firing twice.
    """
    start = clock()
    tick = 0
    while True:
        tick += 1
        now = clock()
        if start + tick * interval <= now:  # overran: the next tick still ahead
            tick = int((now - start) // interval) + 1
        sleep(start + tick * interval - now)
        yield tick


def watch(run: Callable[[], HealthReport], interval: float) -> None:
    """Re-run and redraw on a steady ``interval`` until Ctrl-C (KeyboardInterrupt propagates: exit 130).

    On a terminal the view refreshes in place (Rich Live), failing and warning checks first so
    they stay on screen; in a pipe each report is printed in turn.
    """
    from rich.live import Live

    from todoctl.render.layout import fit

    out = console()
    if not out.is_terminal:
        out.print(_frame(run, interval))
        out.file.flush()
        for _ in ticks(interval):
            out.print(_frame(run, interval))
            out.file.flush()
    with Live(fit(_frame(run, interval), width=out.width), console=out, auto_refresh=False, screen=False) as live:
        for _ in ticks(interval):
            live.update(fit(_frame(run, interval), width=out.width), refresh=True)


def thresholds(rows: list) -> None:
    """`todoctl health thresholds`: one row per threshold, and how to set one."""
    table = Table(title="Health thresholds", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("check")
    for row in rows:
        table.add_row(row.name, f"{row.default:g}" if isinstance(row.default, float) else str(row.default), row.unit, row.check)
    out = console()
    out.print(table)
    out.print(
        "Set one with --threshold NAME=VALUE or the variable TODOCTL_HEALTH_ and its NAME in capitals "
        "(TODOCTL_HEALTH_LONG_QUERY_WARN_MS=30000); the option wins. The older names in seconds, percent "
        "and MB still work in their own units (long_query_warn_s=60 is long_query_warn_ms=60000)."
    )

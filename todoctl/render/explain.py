"""Rich views of plans (tree, table, PostgreSQL-style text), of the query registry and of plan checks."""

from __future__ import annotations

import sys

from rich.console import Group
from rich.markup import escape
from todoctl.render.tables import Table
from rich.text import Text
from rich.tree import Tree

from todoctl import named_queries
from todoctl.core.explain.baseline import BaselineSaved
from todoctl.core.explain.budget import CheckReport
from todoctl.core.explain.execute import ExplainResult
from todoctl.core.explain.plan import PlanNode
from todoctl.render import console, layout

BAR_WIDTH = 10


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.3f}" if value < 100 else f"{value:,.1f}"


def _rows(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _bar(share: float | None) -> str:
    if share is None:
        return ""
    filled = round(share * BAR_WIDTH)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _estimate(node: PlanNode) -> str:
    factor = node.misestimate
    text = f"rows {_rows(node.actual_rows)} of est. {_rows(node.plan_rows)}"
    if node.stopped_by_limit:
        text += " [dim](a Limit stopped it early)[/]"
    elif factor is not None and factor >= 2:
        colour = "red" if factor >= 10 else "yellow"
        direction = "under" if node.under_estimated else "over"
        text += f" [{colour}](×{factor:g} {direction})[/]"
    return text


def _memory(node: PlanNode) -> str | None:
    if node.sort_method:
        where = node.sort_space_type or "Memory"
        colour = "red" if where == "Disk" else "dim"
        return f"[{colour}]sort {node.sort_method}, {where.lower()} {(node.sort_space_bytes or 0) // 1024:,} kB[/]"
    if node.peak_memory_bytes is not None or node.hash_batches is not None or node.disk_bytes:
        parts = []
        if node.peak_memory_bytes is not None:
            parts.append(f"memory {node.peak_memory_bytes // 1024:,} kB")
        if node.hash_batches is not None:
            parts.append(f"batches {node.hash_batches}")
        if node.disk_bytes:
            parts.append(f"disk {node.disk_bytes // 1024:,} kB")
        colour = "red" if node.spilled else "dim"
        return f"[{colour}]hash {', '.join(parts)}[/]"
    return None


def _name(node: PlanNode) -> str:
    name = f"[bold]{escape(node.label.split(' using ')[0].split(' on ')[0])}[/]"
    if node.index:
        name += f" using [cyan]{escape(node.index)}[/]"
    if node.relation:
        name += f" on [green]{escape(node.relation)}[/]"
        if node.alias and node.alias != node.relation:
            name += f" {escape(node.alias)}"
    return name


def node_label(node: PlanNode, analyzed: bool) -> Text:
    lines = [_name(node)]
    if analyzed and node.executed:
        timing = (
            f"{_ms(node.actual_ms)} ms  self {_ms(node.exclusive_ms)} ms "
            f"[magenta]{_bar(node.share)}[/] {round((node.share or 0) * 100):>3}%"
        )
        metrics = [timing, _estimate(node), f"loops {node.loops}"]
        if node.shared_hit is not None:
            metrics.append(f"buffers hit {node.shared_hit:,} read {node.shared_read or 0:,}")
        lines.append("  ".join(metrics))
    elif analyzed:
        lines.append("[dim]never executed[/]")
    else:
        lines.append(f"[dim]est. rows {_rows(node.plan_rows)}  cost {node.startup_cost:.2f}..{node.total_cost:.2f}[/]")
    memory = _memory(node)
    if memory:
        lines.append(memory)
    if node.sort_key:
        lines.append(f"[dim]Sort Key: {escape(', '.join(node.sort_key))}[/]")
    for key, value in node.conditions.items():
        lines.append(f"[dim]{key}: {escape(value)}[/]")
    if node.rows_removed_by_filter:
        lines.append(f"[dim]Rows Removed by Filter: {_rows(node.rows_removed_by_filter)}[/]")
    return Text.from_markup("\n".join(lines))


def plan_tree(result: ExplainResult) -> Tree:
    title = "EXPLAIN ANALYZE" if result.analyzed else "EXPLAIN (planned, not executed)"
    tree = Tree(Text.from_markup(f"[bold]{title}[/]"), guide_style="dim")

    def add(parent: Tree, node: PlanNode) -> None:
        branch = parent.add(node_label(node, result.analyzed))
        for child in node.children:
            add(branch, child)

    add(tree, result.root)
    return tree


def plan_table(result: ExplainResult) -> Table:
    table = Table(title="Plan nodes", title_justify="left")
    table.add_column("node", overflow="fold", ratio=3)
    for column in ("ms", "self ms", "share", "rows / est.", "×", "loops", "hit/read"):
        table.add_column(column, justify="right")
    table.add_column("memory", overflow="fold")

    def add(node: PlanNode, depth: int) -> None:
        factor = node.misestimate
        buffers = f"{node.shared_hit:,}/{node.shared_read or 0:,}" if node.shared_hit is not None else ""
        table.add_row(
            "  " * depth + node.label,
            _ms(node.actual_ms),
            _ms(node.exclusive_ms),
            f"{round(node.share * 100)}%" if node.share is not None else "",
            f"{_rows(node.actual_rows)} / {_rows(node.plan_rows)}",
            f"{factor:g}" if factor is not None else "",
            str(node.loops) if node.loops is not None else "",
            buffers,
            Text.from_markup(_memory(node) or ""),
        )
        for child in node.children:
            add(child, depth + 1)

    add(result.root, 0)
    return table


def _header(result: ExplainResult) -> Text:
    what = f"[bold]{result.query}[/]: {escape(result.description or '')}" if result.query else "[bold]ad-hoc SQL[/]"
    how = "rolled back" + ("" if result.query else ", read only")
    note = f"  [yellow](an {'UPDATE' if result.modifies else 'statement'} that writes: run and rolled back)[/]" if result.modifies else ""
    return Text.from_markup(f"{what}\n[dim]{escape(result.database)}; {how}; statement_timeout {result.timeout_ms / 1000:g}s[/]{note}")


def _sql(result: ExplainResult):
    parts = [layout.sql(result.sql)]
    if result.params:
        params = "  ".join(f"{k}={_value(v)}" for k, v in result.params.items())
        parts.append(Text.from_markup(f"[dim]parameters:[/] {escape(params)}"))
    return Group(*parts)


def _value(value) -> str:
    from todoctl.render import jsonable

    return "NULL" if value is None else str(jsonable(value))


def _timings(result: ExplainResult) -> str:
    parts = [f"Planning {_ms(result.planning_ms)} ms"]
    if result.analyzed:
        parts.append(f"Execution {_ms(result.execution_ms)} ms")
        if len(result.run_ms) > 1:
            parts.append(f"{len(result.run_ms)} runs: min {_ms(result.min_ms)} ms, median {_ms(result.median_ms)} ms")
    return " · ".join(parts)


def _findings(result: ExplainResult) -> list:
    over = list(getattr(result, "over_budget", []))
    if not result.findings and not over:
        return [Text.from_markup("[green]No findings.[/]")]
    lines = []
    if result.findings:
        lines.append(Text.from_markup(f"[bold]Findings ({len(result.findings)})[/]"))
    for finding in result.findings:
        lines.append(
            Text.from_markup(
                f"[yellow]![/] [bold]{finding.kind}[/] {escape(finding.node)}: {escape(finding.message)}\n"
                f"  [dim]hint:[/] {escape(finding.hint)}"
            )
        )
    if over:
        lines.append(Text.from_markup(f"[bold]Over budget ({len(over)}): `explain check` fails on this[/]"))
    for finding in over:
        lines.append(
            Text.from_markup(
                f"[red]✗[/] [bold]{finding.kind}[/]: {escape(finding.message)}\n  [dim]hint:[/] {escape(finding.hint)}"
            )
        )
    return lines


def plan(result: ExplainResult, fmt: str = "tree") -> None:
    """Print one explained query as a tree or a table, with its SQL, timings and findings; or as text."""
    if fmt == "text":
        sys.stdout.write(text_plan(result) + "\n")
        return
    out = console()
    out.print(_header(result))
    out.print(plan_tree(result) if fmt == "tree" else plan_table(result))
    out.print(_sql(result))
    out.print(_timings(result))
    for line in _findings(result):
        out.print(line)


def text_plan(result: ExplainResult) -> str:
    """PostgreSQL's own text layout (paste it into explain.depesz.com), then the timings."""
    lines: list[str] = []

    def add(node: PlanNode, depth: int) -> None:
        indent = "" if depth == 0 else " " * (6 * depth - 4) + "->  "
        detail_indent = " " * (6 * depth + (2 if depth == 0 else 2))
        line = f"{indent}{node.label}  (cost={node.startup_cost:.2f}..{node.total_cost:.2f} rows={node.plan_rows:.0f} width={node.plan_width})"
        if result.analyzed:
            if node.executed:
                line += (
                    f" (actual time={node.actual_startup_ms or 0:.3f}..{node.actual_total_ms or 0:.3f}"
                    f" rows={_rows(node.actual_rows).replace(',', '')} loops={node.loops})"
                )
            else:
                line += " (never executed)"
        lines.append(line)
        for key, value in node.conditions.items():
            lines.append(f"{detail_indent}{key}: {value}")
        if node.sort_key:
            lines.append(f"{detail_indent}Sort Key: {', '.join(node.sort_key)}")
        if node.rows_removed_by_filter:
            lines.append(f"{detail_indent}Rows Removed by Filter: {node.rows_removed_by_filter / (node.loops or 1):.0f}")
        if node.sort_method:
            lines.append(
                f"{detail_indent}Sort Method: {node.sort_method}  {node.sort_space_type or 'Memory'}: {(node.sort_space_bytes or 0) // 1024}kB"
            )
        if node.shared_hit is not None:
            lines.append(f"{detail_indent}Buffers: shared hit={node.shared_hit} read={node.shared_read or 0}")
        for child in node.children:
            add(child, depth + 1)

    add(result.root, 0)
    lines.append(f"Planning Time: {result.planning_ms or 0:.3f} ms")
    if result.analyzed:
        lines.append(f"Execution Time: {result.execution_ms or 0:.3f} ms")
    return "\n".join(lines)


def registry(queries: dict) -> None:
    """``explain list``: one line per named query: its name, its budget in brief (time, buffers)
    and what it does (cut to the line); ``explain show NAME`` has the rest."""
    out = console()
    if not queries:
        out.print("The app declares no named queries: list the modules that register them in queries of "
                  "[tool.todoctl] (docs/queries.md).")
        return
    out.print(Text.assemble(("Named queries", "bold"), " (budget: time, buffers; todoctl explain show NAME has the rest)"))
    names = max(len(name) for name in queries)
    budgets = {name: brief_budget(named.budget) for name, named in queries.items()}
    widths = [max(len(part) for part in column) for column in zip(*budgets.values())]
    used = 2 + names + sum(2 + width for width in widths) + 2
    room = None if layout.is_wide() else out.width - used
    for name, named in queries.items():
        budget = "  ".join(part.rjust(width) for part, width in zip(budgets[name], widths))
        description = " ".join(named.description.split())
        shown = description if room is None else layout.shorten(description, room)
        out.print(Text.assemble("  ", (name.ljust(names), "bold"), "  ", budget, "  ", shown))


def brief_budget(budget) -> tuple[str, str]:
    """A budget's two terms that differ most between queries, short: ``("20 ms", "500 buf")``."""
    return f"{budget.max_ms:g} ms", f"{budget.max_buffers:,} buf"


# What each budget term means, under `explain show`'s budget.
BUDGET_LEGEND = (
    f"read: rows scanned (kept or filtered out) per row returned; reading ≤ {named_queries.FREE_ROWS_READ:,} rows "
    "is always ok. sort: rows fed into one Sort. buffers: shared hit + read. selective: keeps ≤ 10% of what it reads."
)


def query_card(detail) -> None:
    """``explain show NAME`` (a QueryDetail): description, parameters, SQL, budget and indexes."""
    out = console()
    out.print(layout.hanging(Text(detail.description), prefix=Text(f"{detail.name}: ", style="bold")))
    if detail.where:
        out.print(layout.hanging(Text(detail.where, style="dim"), prefix=Text("  registered at ", style="dim")))
    if detail.modifies:
        out.print(Text("  writes: explained only inside a transaction that is rolled back", style="yellow"))
    out.print()
    params = Table(title="Parameters (missing values are picked from the data)", title_justify="left")
    for column in ("name", "type", "description", "default"):
        params.add_column(column)
    for param in detail.params:
        kind = param.type + (" or null" if param.optional else "")
        params.add_row(Text(param.name, style="bold"), Text(kind), Text(param.description or ""), Text(param.default or ""))
    out.print(params if detail.params else Text("Parameters: none", style="bold"))
    out.print()
    out.print(Text("SQL", style="bold"))
    if detail.sql:
        out.print(layout.sql(detail.sql))
    else:
        out.print(Text(f"  built from the values: todoctl explain {detail.name} --format text shows it", style="dim"))
    out.print()
    out.print(Text("Budget (what todoctl explain check holds it to)", style="bold"))
    for term in detail.budget["terms"]:
        out.print(Text(f"  {term}"))
    out.print(Text(BUDGET_LEGEND, style="dim"))
    out.print()
    if detail.indexes:
        out.print(Text("Indexes it relies on (check fails if one is missing or invalid, with the statement that "
                       "re-creates it)", style="bold"))
        for index in detail.indexes:
            out.print(Text(f"  {index}"))
    else:
        out.print(Text("Indexes it relies on: none named", style="bold"))


def check(report: CheckReport) -> None:
    out = console()
    title = f"explain check on {report.database} (median of {report.runs} runs"
    title += f", baseline {report.baseline}, limit {report.factor:g}x)" if report.baseline else ")"
    table = Table(title=title, title_justify="left")
    table.add_column("query", style="bold")
    table.add_column("", justify="center")
    table.add_column("median ms", justify="right")
    table.add_column("budget", justify="right")
    if report.baseline:
        table.add_column("baseline", justify="right")
    for column in ("read", "returned", "sorted", "buffers"):
        table.add_column(column, justify="right")
    table.add_column("plan")
    for q in report.queries:
        row = [q.name, "[green]ok[/]" if q.ok else "[red]FAIL[/]", _ms(q.median_ms), f"{q.budget_ms:g}"]
        if report.baseline:
            row.append(_ms(q.baseline_ms))
        row += [_rows(q.rows_read), _rows(q.rows_returned), _rows(q.rows_sorted), f"{q.buffers:,}"]
        row.append(escape(q.shape))
        table.add_row(*row)
    out.print(table)
    for q in report.queries:
        shown: set[str] = set()  # one fix often answers several terms (a missing index: rows, buffers)
        for violation in q.violations:
            out.print(f"[red]✗[/] [bold]{q.name}[/]: {escape(violation.message)}")
            if violation.hint and violation.hint not in shown:
                shown.add(violation.hint)
                out.print(f"  [dim]hint:[/] {escape(violation.hint)}")
    if report.ok:
        out.print(f"[green]All {len(report.queries)} queries within budget.[/]")
    else:
        out.print(f"[red]{len(report.failed)} of {len(report.queries)} queries failed: {', '.join(report.failed)}[/]")


def baseline_saved(saved: BaselineSaved) -> None:
    out = console()
    out.print(f"Saved the plans of {len(saved.queries)} queries from {saved.database} to [bold]{saved.path}[/]")
    for name, entry in saved.queries.items():
        out.print(f"  {name:15} {_ms(entry['execution_ms']):>9} ms  {escape(entry['shape'])}")

"""A named query's budget against one EXPLAIN result: what it costs beyond its budget, each with
its fix. `explain NAME` shows it; `explain check` (budget.py) gates on it."""

from __future__ import annotations

from dataclasses import dataclass
from todoctl import named_queries
import todoctl.core.explain.findings as plan_findings
import todoctl.core.explain.plan as plan_nodes
from todoctl.core.sql_names import idents

# ``result`` below is an execute.ExplainResult (not imported: execute imports this module).


@dataclass(frozen=True)
class Violation:
    # budget-time | rows-read | rows-sorted | buffers | seq-scan | misestimate | spill | missing-index
    # | regression-seq-scan | regression-sort | regression-buffers | regression-time
    kind: str
    message: str
    hint: str = ""  # what fixes it, when todoctl knows
    sql: str = ""  # the statement in the hint, to run as printed



def budget_violations(result, budget: named_queries.Budget) -> list[Violation]:
    """What this plan costs beyond its budget: time, rows read per row returned, rows sorted, buffers,
    a selective sequential scan of a large table, a misestimate on stale statistics, a spill, and
    every missing index the query relies on. The plan's shape alone never fails."""
    found: list[Violation] = [
        Violation("missing-index", f.message, f.hint, f.sql) for f in result.findings if f.kind == "missing-index"
    ]
    root = result.root
    median = result.median_ms
    if median is not None and median > budget.max_ms:
        found.append(Violation("budget-time", f"execution {median:.3f} ms exceeds the budget of {budget.max_ms:g} ms"))
    read, returned = plan_nodes.rows_read(root), plan_nodes.rows_returned(root)
    if budget.max_read_per_row is not None and read > max(named_queries.FREE_ROWS_READ, budget.max_read_per_row * max(returned, 1)):
        heaviest = plan_nodes.heaviest_read(root)
        most = f"; {heaviest[0].label} read {heaviest[1]:,.0f} of them" if heaviest else ""
        found.append(
            Violation(
                "rows-read",
                f"read {read:,.0f} rows to return {returned:,.0f} ({read / max(returned, 1):,.0f} per row; "
                f"budget {budget.max_read_per_row:g}){most}",
                *_hint_for(result, ("seq-scan", "filter-removed", "avoidable-sort")),
            )
        )
    rows_sorted = plan_nodes.rows_sorted(root)
    if rows_sorted > budget.max_rows_sorted:
        found.append(
            Violation(
                "rows-sorted",
                f"a Sort of {rows_sorted:,.0f} rows (budget {budget.max_rows_sorted:,})",
                *_hint_for(result, ("avoidable-sort", "seq-scan")),
            )
        )
    touched = plan_nodes.buffers(root)
    if touched > budget.max_buffers:
        found.append(
            Violation(
                "buffers",
                f"touched {touched:,} buffers ({touched * 8 // 1024:,} MB; budget {budget.max_buffers:,})",
                *_hint_for(result, ("seq-scan", "filter-removed", "avoidable-sort")),
            )
        )
    for node in plan_nodes.selective_seq_scans(root, result.table_rows, budget.large_rows):
        rows = int(result.table_rows.get(node.relation, 0))
        found.append(
            Violation(
                "seq-scan",
                f"{node.label}: a sequential scan of a large table ({rows:,} rows) keeping few of its rows",
                *_hint_for(result, ("seq-scan",)),
            )
        )
    stale = set(result.stale_tables)
    parents = plan_nodes.parents_of(root)
    for node in plan_findings.misestimated(root, budget.max_misestimate):
        factor = node.misestimate
        relations = [r for r in plan_nodes.tables_of(node, parents) if r in stale]
        if relations:
            found.append(
                Violation(
                    "misestimate",
                    f"{node.label}: estimated {node.plan_rows:,.0f} rows, got {node.actual_rows or 0:,.0f} "
                    f"({factor:g}x) on stale statistics",
                    f"ANALYZE {idents(relations)}: the statistics are stale",
                    f"ANALYZE {idents(relations)}",
                )
            )
            break
    if not budget.allow_spill:
        for node in root.walk():
            if node.spilled:
                found.append(Violation("spill", f"{node.label} spilled to disk", *_hint_for(result, ("spill",))))
    return [_with_default_hint(v) for v in found]


# What to do when no finding names the fix (every violation prints one): where to look, and the
# budget term to raise if the cost is the expected one at this size.
_WHEN_NO_FINDING = {
    "rows-read": "an index that lets that scan read only the rows it keeps (a join reading all of a table "
    "for a few rows wants one on its join key), or raise max_read_per_row in the query's Budget if this "
    "is the expected cost",
    "rows-sorted": "sort fewer rows (an index in the ORDER BY order, or filter first), or raise max_rows_sorted "
    "in the query's Budget",
    "buffers": "read fewer pages (an index that serves the filter, or fewer columns), or raise max_buffers in "
    "the query's Budget",
    "seq-scan": "an index on the columns of the scan's filter, or raise large_rows in the query's Budget if the "
    "table is meant to be scanned",
    "spill": "raise work_mem for this query, or Budget(allow_spill=True) if spilling is acceptable",
}


def _hint_for(result, kinds: tuple[str, ...]) -> tuple[str, str]:
    """The hint and SQL of the first finding of these kinds (they carry the fix for the cost)."""
    for kind in ("missing-index", *kinds):
        for finding in result.findings:
            if finding.kind == kind:
                return finding.hint, finding.sql
    return "", ""


def _with_default_hint(violation: Violation) -> Violation:
    if violation.hint or violation.kind not in _WHEN_NO_FINDING:
        return violation
    return Violation(violation.kind, violation.message, _WHEN_NO_FINDING[violation.kind], violation.sql)


def verdict(result, budget: named_queries.Budget) -> list[Violation]:
    """The budget terms this run breaks, each with its fix: what `explain check` fails on, as
    `explain NAME` shows it (the missing indexes are findings already)."""
    return [v for v in budget_violations(result, budget) if v.kind != "missing-index"]

"""`explain check`: every named query against its budget (cost, not shape) and, if given, a baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from todoctl import named_queries
import todoctl.core.explain.findings as plan_findings
import todoctl.core.explain.plan as plan_nodes
from todoctl.core.explain.findings import Finding
from todoctl.core.sql_names import idents
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error

if TYPE_CHECKING:
    pass
from todoctl.core.explain.baseline import _cost, load_baseline
from todoctl.core.explain.execute import ExplainResult, _explain_all
from todoctl.core.explain.transaction import DEFAULT_TIMEOUT
from todoctl.results import human_only

DEFAULT_FACTOR = 3.0


DEFAULT_MIN_MS = 1.0


@dataclass(frozen=True)
class Violation:
    # budget-time | rows-read | rows-sorted | buffers | seq-scan | misestimate | spill | missing-index
    # | regression-seq-scan | regression-sort | regression-buffers | regression-time
    kind: str
    message: str
    hint: str = ""  # what fixes it, when todoctl knows
    sql: str = ""  # the statement in the hint, to run as printed


@dataclass
class QueryCheck:
    name: str
    median_ms: float | None
    budget_ms: float
    baseline_ms: float | None
    shape: str
    scans: list[dict]
    sorts: int
    rows_read: float = 0.0
    rows_returned: float = 0.0
    rows_sorted: float = 0.0
    buffers: int = 0
    violations: list[Violation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    budget: named_queries.Budget = field(default_factory=named_queries.Budget)  # what the query is held to
    sql: str = ""  # the statement as sent, with named placeholders
    params: dict = field(default_factory=dict)  # the parameters picked for this run
    plan: list = field(default_factory=list)  # PostgreSQL's EXPLAIN (FORMAT JSON) document of the last run

    __json_properties__ = ("ok", "status")

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def status(self) -> str:
        return "ok" if self.ok else "fail"


@dataclass
class CheckReport:
    database: str = human_only()
    runs: int
    baseline: str | None
    factor: float
    queries: list[QueryCheck]
    server_version: str = ""

    __json_properties__ = ("ok", "failed")

    @property
    def failed(self) -> list[str]:
        return [q.name for q in self.queries if not q.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


def budget_violations(result: ExplainResult, budget: named_queries.Budget) -> list[Violation]:
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


def _hint_for(result: ExplainResult, kinds: tuple[str, ...]) -> tuple[str, str]:
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


def verdict(result: ExplainResult, budget: named_queries.Budget) -> list[Violation]:
    """The budget terms this run breaks, each with its fix: what `explain check` fails on, as
    `explain NAME` shows it (the missing indexes are findings already)."""
    return [v for v in budget_violations(result, budget) if v.kind != "missing-index"]


def check(
    url: DatabaseURL,
    *,
    names: list[str] | None = None,
    runs: int = 3,
    timeout: str = DEFAULT_TIMEOUT,
    baseline: Path | str | None = None,
    factor: float = DEFAULT_FACTOR,
    min_ms: float = DEFAULT_MIN_MS,
) -> CheckReport:
    """Run every named query (EXPLAIN ANALYZE, rolled back) against its budget, and the baseline if given."""
    recorded = load_baseline(baseline)["queries"] if baseline else None
    if factor <= 1:
        raise usage_error("--factor must be greater than 1")
    results = _explain_all(url, names, runs=runs, timeout=timeout)
    registry = named_queries.app_queries()
    checked = []
    for result in results:
        budget = registry[result.query].budget
        violations = budget_violations(result, budget)
        before = recorded.get(result.query) if recorded is not None else None
        if before is not None:
            violations += regressions(result, before, factor=factor, min_ms=min_ms, budget=budget)
        checked.append(
            QueryCheck(
                name=result.query,
                median_ms=result.median_ms,
                budget_ms=budget.max_ms,
                baseline_ms=before.get("execution_ms") if before else None,
                violations=violations,
                findings=result.findings,
                budget=budget,
                sql=result.sql,
                params=result.params,
                plan=result.plan,
                **_cost(result.root),
            )
        )
    version = results[0].server_version if results else ""
    return CheckReport(url.display, runs, str(baseline) if baseline else None, factor, checked, version)


BUFFERS_NOISE = 100  # fewer extra buffers than this is not a regression, whatever the factor


def regressions(
    result: ExplainResult, before: dict, *, factor: float, min_ms: float, budget: named_queries.Budget | None = None
) -> list[Violation]:
    """How this plan got worse than the baseline's: a scan turned sequential, many more rows sorted,
    many more buffers, slower by ``factor``. A new Sort of a handful of rows is not a regression."""
    budget = budget or named_queries.Budget()
    found: list[Violation] = []
    was: dict[str, list[dict]] = {}
    for scan in before.get("scans", []):
        was.setdefault(scan["relation"], []).append(scan)
    for scan in plan_nodes.scans(result.root):
        previous = was.get(scan["relation"], [])
        if "Seq Scan" in scan["node_type"] and previous and not any("Seq Scan" in p["node_type"] for p in previous):
            how = ", ".join(f"{p['node_type']}" + (f" using {p['index']}" if p.get("index") else "") for p in previous)
            found.append(
                Violation(
                    "regression-seq-scan",
                    f"the scan of {scan['relation']} became sequential (was {how})",
                    *_hint_for(result, ("seq-scan",)),
                )
            )
    rows_sorted = plan_nodes.rows_sorted(result.root)
    sorted_before = before.get("rows_sorted")
    if sorted_before is None:  # a baseline from before rows were counted: only the number of Sorts
        sorted_before = 0 if plan_nodes.sort_count(result.root) > int(before.get("sorts", 0)) else rows_sorted
    if rows_sorted > budget.max_rows_sorted and rows_sorted > factor * max(sorted_before, 1):
        found.append(
            Violation(
                "regression-sort",
                f"a Sort of {rows_sorted:,.0f} rows (the baseline sorted {sorted_before:,.0f})",
                *_hint_for(result, ("avoidable-sort", "seq-scan")),
            )
        )
    touched, touched_before = plan_nodes.buffers(result.root), before.get("buffers")
    if touched_before is not None and touched > factor * max(touched_before, 1) and touched - touched_before >= BUFFERS_NOISE:
        found.append(
            Violation(
                "regression-buffers",
                f"touched {touched:,} buffers, {touched / max(touched_before, 1):.1f}x the baseline's {touched_before:,} "
                f"(limit {factor:g}x)",
                *_hint_for(result, ("seq-scan", "filter-removed", "avoidable-sort")),
            )
        )
    median, base = result.median_ms, before.get("execution_ms")
    if median is not None and base is not None and median > factor * base and median - base >= min_ms:
        found.append(
            Violation(
                "regression-time",
                f"execution {median:.3f} ms is {median / max(base, 1e-9):.1f}x the baseline's {base:.3f} ms "
                f"(limit {factor:g}x)",
            )
        )
    return found

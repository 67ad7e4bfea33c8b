"""`explain check`: every named query against its budget (cost, not shape) and, if given, a baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from todoctl import named_queries
import todoctl.core.explain.plan as plan_nodes
from todoctl.core.explain.findings import Finding
from todoctl.core.explain.verdict import Violation, _hint_for, budget_violations, verdict  # noqa: F401 (re-exported)
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

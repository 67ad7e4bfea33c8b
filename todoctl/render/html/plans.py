"""Plans as pages: one explained query (`explain NAME --html`), and the whole gate (`explain check --html`).

The plan is drawn by PEV2 (Dalibo's plan visualizer, vendored with Vue 3), fed PostgreSQL's own
``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` document as core returned it; around it the page shows
what todoctl knows: the query text, the parameters, the findings and their hints, the server.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from todoctl import queries
from todoctl.core.explain.budget import CheckReport, QueryCheck, Violation
from todoctl.core.explain.execute import ExplainResult
from todoctl.render.html.page import document, esc

STYLES = ("bootstrap.min.css", "pev2.css")
SCRIPTS = ("vue.runtime.global.prod.js", "pev2.umd.js")

PLAN_STYLE = """
<style>
.todoctl-plan { height: 82vh; min-height: 480px; display: flex; flex-direction: column; border-top: 1px solid #dee2e6; }
details.todoctl-query { border: 1px solid #dee2e6; border-radius: .25rem; margin: .5rem 1rem; }
details.todoctl-query > summary { padding: .4rem .75rem; cursor: pointer; list-style-position: inside; }
details.todoctl-query[open] > summary { border-bottom: 1px solid #dee2e6; background: #f8f9fa; }
.todoctl-query-body { padding: .5rem .75rem; }
</style>
"""

# PEV2 is a Vue component; Vue's runtime build (no template compiler, so no eval) mounts it.
# PEV2 keeps state at module level: two plans mounted at once mix their panels. So one plan is
# mounted at a time; opening another query moves the one view there, and leaves a button behind.
BOOT = """
var data = JSON.parse(document.getElementById("todoctl-data").textContent);
var shown = null;
function showPlan(element) {
  if (shown && shown.element === element) return;
  if (shown) {
    shown.app.unmount();
    shown.element.removeAttribute("data-mounted");
    placeholder(shown.element);
  }
  var plan = data.plans[Number(element.getAttribute("data-plan"))];
  element.textContent = "";
  var app = Vue.createApp({
    render: function () { return Vue.h(pev2.Plan, { planSource: plan.source, planQuery: plan.query }); }
  });
  app.config.errorHandler = function (error) { todoctlReport(error); };
  app.mount(element);
  element.setAttribute("data-mounted", "true");
  shown = { element: element, app: app };
}
function placeholder(element) {
  element.textContent = "";
  var button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-outline-primary btn-sm m-2 todoctl-show-plan";
  button.textContent = "Show this plan";
  button.addEventListener("click", function () { showPlan(element); });
  element.appendChild(button);
}
document.querySelectorAll("[data-plan]").forEach(function (element) {
  var details = element.closest("details.todoctl-query");
  if (!details) { showPlan(element); return; }
  placeholder(element);
  details.addEventListener("toggle", function () { if (details.open) showPlan(element); });
});
var first = document.querySelector("details.todoctl-query[open] [data-plan]");
if (first) showPlan(first);
window.todoctlShowPlan = function (index) {
  var element = document.querySelector('[data-plan="' + index + '"]');
  var details = element.closest("details");
  if (details) details.open = true;
  showPlan(element);
};
Vue.nextTick(todoctlDone);
"""


def _generated() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.3f}" if value < 100 else f"{value:,.1f}")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _plan_source(plan: list) -> str:
    # The document exactly as PostgreSQL's EXPLAIN (FORMAT JSON) returned it, which PEV2 parses.
    return json.dumps(plan, indent=2)


def _facts(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in pairs if v not in (None, ""))
    return f'<dl class="todoctl-facts">{items}</dl>'


def _findings(findings) -> str:
    if not findings:
        return '<p class="todoctl-ok">No findings.</p>'
    items = []
    for f in findings:
        sql = f' <code class="todoctl-fix">{esc(f.sql)}</code>' if f.sql and f.sql not in f.hint else ""
        items.append(
            f'<li><span class="badge text-bg-warning">{esc(f.kind)}</span> {esc(f.message)}'
            f'<div class="todoctl-hint">hint: {esc(f.hint)}{sql}</div></li>'
        )
    return f'<ul class="todoctl-findings">{"".join(items)}</ul>'


def _params(params: dict) -> str:
    if not params:
        return '<p class="todoctl-hint">No parameters.</p>'
    rows = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(_value(v))}</code></td></tr>" for k, v in params.items())
    return f'<table class="table table-sm todoctl-table todoctl-params"><tbody>{rows}</tbody></table>'


def _value(value) -> str:
    from todoctl import render

    plain = render.jsonable(value)
    return plain if isinstance(plain, str) else json.dumps(plain, default=str)


def explain_page(result: ExplainResult) -> str:
    """The page of one explained query: todoctl's facts and findings, then the plan in PEV2."""
    title = f"todoctl explain {result.query}" if result.query else "todoctl explain sql"
    runs = len(result.run_ms)
    facts = [
        ("database", result.database),
        ("PostgreSQL", result.server_version),
        ("mode", "EXPLAIN ANALYZE, BUFFERS (rolled back)" if result.analyzed else "EXPLAIN (planned, not run)"),
        ("planning", f"{_ms(result.planning_ms)} ms" if result.planning_ms is not None else ""),
        ("execution", f"{_ms(result.execution_ms)} ms" if result.execution_ms is not None else ""),
        ("runs", f"{runs} (min {_ms(result.min_ms)} ms, median {_ms(result.median_ms)} ms)" if runs > 1 else ""),
        ("statement_timeout", f"{result.timeout_ms / 1000:g}s"),
        ("stale statistics", ", ".join(result.stale_tables)),
        ("generated", _generated()),
    ]
    body = (
        '<header class="todoctl-header">'
        f"<h1>{esc(title)}</h1>"
        + (f"<p class=\"mb-1\">{esc(result.description)}</p>" if result.description else "")
        + _facts(facts)
        + "</header>"
        '<section class="todoctl-section"><h2>Findings</h2>'
        + _findings(result.findings)
        + "</section>"
        '<section class="todoctl-section"><details open><summary>Query text and parameters</summary>'
        + _params(result.params)
        + f'<pre class="todoctl-sql">{esc(result.sql)}</pre></details></section>'
        + PLAN_STYLE
        + '<main class="todoctl-plan" data-plan="0"></main>'
    )
    data = {"plans": [{"source": _plan_source(result.plan), "query": result.sql}]}
    return document(title=title, body=body, data=data, styles=STYLES, scripts=SCRIPTS, boot=BOOT)


# ------------------------------------------------------------------ explain check


def _terms(q: QueryCheck, report: CheckReport) -> list[tuple[str, str, str, list[Violation]]]:
    """Each budget term beside what was measured, and the violations that broke it."""
    b = q.budget
    by_kind: dict[str, list[Violation]] = {}
    for v in q.violations:
        by_kind.setdefault(v.kind, []).append(v)
    per_row = q.rows_read / max(q.rows_returned, 1)
    seq_scans = [s for s in q.scans if "Seq Scan" in s["node_type"]]
    terms = [
        ("execution time", f"≤ {b.max_ms:g} ms (median)", f"{_ms(q.median_ms)} ms", ["budget-time"]),
        (
            "rows read per row returned",
            f"≤ {b.max_read_per_row:g} per row (the first {queries.FREE_ROWS_READ:,} rows are free)"
            if b.max_read_per_row is not None
            else "any (an aggregate: judged by buffers)",
            f"{_number(q.rows_read)} read, {_number(q.rows_returned)} returned ({per_row:,.1f} per row)",
            ["rows-read"],
        ),
        ("rows sorted", f"≤ {b.max_rows_sorted:,} in one Sort", f"{_number(q.rows_sorted)} ({q.sorts} Sort nodes)", ["rows-sorted"]),
        ("buffers", f"≤ {b.max_buffers:,} (hit + read)", f"{q.buffers:,}", ["buffers"]),
        (
            "sequential scans",
            f"none keeping few rows of a table of ≥ {b.large_rows:,} rows",
            ", ".join(s["relation"] for s in seq_scans) or "none",
            ["seq-scan"],
        ),
        ("row estimates", f"off by < {b.max_misestimate:g}x where statistics are stale", "", ["misestimate"]),
        ("spills to disk", "allowed" if b.allow_spill else "none", "", ["spill"]),
        ("indexes the query relies on", "present and valid", "", ["missing-index"]),
    ]
    if report.baseline:
        terms.append(
            (
                "against the baseline",
                f"≤ {report.factor:g}x its time, buffers and rows sorted; no scan turned sequential",
                f"baseline {_ms(q.baseline_ms)} ms",
                ["regression-seq-scan", "regression-sort", "regression-buffers", "regression-time"],
            )
        )
    rows = [(name, budget, measured, [v for k in kinds for v in by_kind.pop(k, [])]) for name, budget, measured, kinds in terms]
    rest = [v for vs in by_kind.values() for v in vs]
    if rest:
        rows.append(("other", "", "", rest))
    return rows


def _violations(violations: list[Violation]) -> str:
    parts = []
    for v in violations:
        fix = f' <code class="todoctl-fix">{esc(v.sql)}</code>' if v.sql and v.sql not in v.hint else ""
        hint = f'<div class="todoctl-hint">hint: {esc(v.hint)}{fix}</div>' if v.hint else ""
        parts.append(f"<div>{esc(v.message)}{hint}</div>")
    return "".join(parts)


def _query_section(index: int, q: QueryCheck, report: CheckReport) -> str:
    verdict = '<span class="todoctl-ok">ok</span>' if q.ok else '<span class="todoctl-fail">FAIL</span>'
    rows = []
    for name, budget, measured, broken in _terms(q, report):
        mark = '<span class="todoctl-fail">✗</span>' if broken else '<span class="todoctl-ok">✓</span>'
        rows.append(
            f"<tr><td>{mark}</td><th>{esc(name)}</th><td>{esc(budget)}</td><td>{esc(measured)}</td>"
            f"<td>{_violations(broken)}</td></tr>"
        )
    table = (
        '<table class="table table-sm todoctl-table todoctl-terms"><thead><tr><th></th><th>term</th><th>budget</th>'
        f'<th>measured</th><th>what broke it</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    open_ = " open" if not q.ok else ""
    summary = (
        f"<summary>{verdict} <strong>{esc(q.name)}</strong> · {_ms(q.median_ms)} ms of {q.budget_ms:g} ms"
        f' · <span class="todoctl-hint">{esc(q.shape)}</span></summary>'
    )
    return (
        f'<details class="todoctl-query" id="query-{esc(q.name)}" data-query="{esc(q.name)}"'
        f' data-ok="{str(q.ok).lower()}"{open_}>{summary}<div class="todoctl-query-body">{table}'
        f"<details><summary>Query text and parameters</summary>{_params(q.params)}"
        f'<pre class="todoctl-sql">{esc(q.sql)}</pre></details>'
        f"<h2 class=\"h6 mt-2\">Findings</h2>{_findings(q.findings)}</div>"
        f'<div class="todoctl-plan" data-plan="{index}"></div></details>'
    )


def check_page(report: CheckReport) -> str:
    """The gate on one page: every query's verdict, its budget against what was measured, its plan."""
    failed = len(report.failed)
    verdict = (
        f'<span class="todoctl-ok">All {len(report.queries)} queries within budget.</span>'
        if report.ok
        else f'<span class="todoctl-fail">{failed} of {len(report.queries)} queries failed: {esc(", ".join(report.failed))}</span>'
    )
    facts = [
        ("database", report.database),
        ("PostgreSQL", report.server_version),
        ("timings", f"median of {report.runs} runs, EXPLAIN ANALYZE, BUFFERS (rolled back)"),
        ("baseline", f"{report.baseline} (limit {report.factor:g}x)" if report.baseline else ""),
        ("generated", _generated()),
    ]
    sections = "".join(_query_section(i, q, report) for i, q in enumerate(report.queries))
    body = (
        '<header class="todoctl-header"><h1>todoctl explain check</h1>'
        f'<p class="mb-1 todoctl-verdict">{verdict}</p>{_facts(facts)}</header>'
        + PLAN_STYLE
        + f"<main>{sections}</main>"
    )
    data = {"plans": [{"source": _plan_source(q.plan), "query": q.sql} for q in report.queries]}
    return document(title="todoctl explain check", body=body, data=data, styles=STYLES, scripts=SCRIPTS, boot=BOOT)

"""EXPLAIN the app's named queries and ad-hoc SQL; hold the plans to budgets and to a baseline.

Safety: every EXPLAIN runs inside a transaction that is always rolled back, under
``SET LOCAL statement_timeout``; ad-hoc SQL also runs READ ONLY. So explaining a query never
changes data, even ``EXPLAIN ANALYZE`` of the registry's UPDATE.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from todoctl import queries
from todoctl.core import plan_nodes
from todoctl.core.plan_nodes import Finding, PlanNode
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, connection_error, usage_error

if TYPE_CHECKING:
    from sqlalchemy import Connection

DEFAULT_TIMEOUT = "10s"
DEFAULT_FACTOR = 3.0
DEFAULT_MIN_MS = 1.0
BASELINE_FORMAT = 1

_TIMEOUT = re.compile(r"^\d+(\.\d+)?\s*(ms|s|min|h)?$")


@dataclass
class ExplainResult:
    query: str | None  # the registry name; None for ad-hoc SQL
    description: str | None
    database: str
    analyzed: bool
    sql: str  # the statement as sent, with named placeholders
    bindings: dict[str, Any]  # placeholder -> value
    params: dict[str, Any]  # the query's typed parameters
    planning_ms: float | None
    execution_ms: float | None  # of the run whose plan is shown (the last)
    run_ms: list[float]
    root: PlanNode
    findings: list[Finding]
    table_rows: dict[str, float]  # pg_class.reltuples of the tables in the plan
    modifies: bool
    timeout: str
    plan: list  # PostgreSQL's own EXPLAIN (FORMAT JSON) document: load it into PEV2 or explain.depesz.com

    __json_properties__ = ("min_ms", "median_ms")

    @property
    def min_ms(self) -> float | None:
        return min(self.run_ms) if self.run_ms else None

    @property
    def median_ms(self) -> float | None:
        return round(statistics.median(self.run_ms), 4) if self.run_ms else None


@dataclass(frozen=True)
class Violation:
    kind: str  # budget-time | forbidden-node | sort | regression-seq-scan | regression-sort | regression-time
    message: str


@dataclass
class QueryCheck:
    name: str
    median_ms: float | None
    budget_ms: float
    baseline_ms: float | None
    shape: str
    scans: list[dict]
    sorts: int
    violations: list[Violation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    __json_properties__ = ("ok",)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class CheckReport:
    database: str
    runs: int
    baseline: str | None
    factor: float
    queries: list[QueryCheck]

    __json_properties__ = ("ok", "failed")

    @property
    def failed(self) -> list[str]:
        return [q.name for q in self.queries if not q.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class BaselineSaved:
    path: str
    database: str
    runs: int
    queries: dict[str, dict]


# ---------------------------------------------------------------- running EXPLAIN


def check_timeout(timeout: str) -> str:
    if not _TIMEOUT.match(timeout.strip()):
        raise usage_error(f"--timeout {timeout!r} is not a duration", "for example 500ms, 10s or 2min")
    return timeout.strip().replace(" ", "")


def _explain_sql(sql: str, analyze: bool) -> str:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON, SUMMARY"
    return f"EXPLAIN ({options}) {sql}"


def execute_one(cur, sql: str, bindings: dict | None = None):
    """Send one statement with the extended query protocol and return the first column of its row.

    The extended protocol carries one statement: the server itself refuses a second ("cannot insert
    multiple commands into a prepared statement"). psycopg 3 uses the simple protocol, which runs
    any number of statements, whenever a query has no parameters, even with ``params=[]`` or with
    ``prepare=True`` when prepared statements are off (pooled URLs); a binary result always goes
    through PQsendQueryParams, so ``binary=True`` is what forces the extended protocol here.
    ``prepare=False``: nothing is left prepared on the server (PgBouncer in transaction mode).
    """
    cur.execute(sql, bindings or None, prepare=False, binary=True)
    return cur.fetchone()[0]


def _explain_once(raw, sql: str, bindings: dict | None, *, analyze: bool, timeout: str, read_only: bool, what: str):
    """One EXPLAIN in its own transaction, always rolled back."""
    import psycopg

    try:
        with raw.cursor() as cur:
            if read_only:
                cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
            # Plan with the actual values, as the app's first executions do (never a generic plan).
            cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            document = execute_one(cur, _explain_sql(sql, analyze), bindings)
    except psycopg.errors.QueryCanceled as exc:
        _rollback(raw)
        if "statement timeout" in str(exc) or "lock timeout" in str(exc):
            raise TodoctlError(
                f"{what} did not finish within the statement timeout ({timeout}); it was cancelled and rolled back",
                hint="raise --timeout, or plan it without running it: --no-analyze",
                exit_code=ExitCode.CHECK_FAILED,
            ) from None
        raise TodoctlError("interrupted; the statement was cancelled and rolled back", exit_code=ExitCode.INTERRUPTED) from None
    except psycopg.errors.LockNotAvailable:
        _rollback(raw)
        raise TodoctlError(
            f"{what} waited longer than {timeout} for a lock; rolled back",
            hint="another session holds the rows; try again, or use --no-analyze",
            exit_code=ExitCode.BUSY,
        ) from None
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        _rollback(raw)
        raise TodoctlError(
            f"{what} writes, and ad-hoc SQL is explained in a READ ONLY transaction: {_first_line(exc)}",
            hint="add --no-analyze to see its plan without running it",
            exit_code=ExitCode.REFUSED,
        ) from None
    except psycopg.OperationalError as exc:
        if raw.closed or raw.broken:
            raise connection_error(f"lost the connection while explaining {what}: {_first_line(exc)}") from None
        _rollback(raw)
        raise TodoctlError(f"EXPLAIN of {what} failed: {_first_line(exc)}") from None
    except psycopg.Error as exc:
        _rollback(raw)
        state = getattr(exc, "sqlstate", None) or ""
        if read_only and state[:2] in ("42", "22", "0A", "25"):
            raise usage_error(f"cannot explain that statement: {_first_line(exc)}", "check the SQL") from None
        raise TodoctlError(
            f"EXPLAIN of {what} failed: {_first_line(exc)}",
            hint="is the database at head? `todoctl migrate status`",
        ) from None
    except KeyboardInterrupt:
        # Stop the statement on the server too, then roll back; the CLI reports exit 130.
        try:
            raw.cancel_safe(timeout=5)
        except Exception:
            pass
        _rollback(raw)
        raise
    except BaseException:
        _rollback(raw)
        raise
    _rollback(raw)
    return document


def _rollback(raw) -> None:
    try:
        raw.rollback()
    except Exception:  # a broken connection rolls back on the server anyway
        pass


def _protected(raw, url: DatabaseURL) -> bool:
    """Whether the database carries the protection mark; a mark that cannot be read counts as set."""
    import psycopg

    from todoctl.core import protect

    try:
        return protect.read_with(raw.execute, url.display).protected
    except psycopg.Error:
        return True  # e.g. no SELECT on todoctl_meta: fail closed
    finally:
        _rollback(raw)


def _first_line(exc: BaseException) -> str:
    text = mask(str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_INDEX_COLUMNS = """
SELECT c.relname, i.relname,
       array(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k),
       x.indpred IS NOT NULL
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
WHERE x.indisvalid AND c.oid IN (SELECT to_regclass(quote_ident(r)) FROM unnest(%s::text[]) AS r)
ORDER BY 1, 2
"""


def _catalog(raw, root: PlanNode) -> tuple[dict[str, float], dict[str, list[plan_nodes.IndexInfo]]]:
    """pg_class.reltuples and the valid indexes of the tables in a plan (for findings and budgets)."""
    relations = sorted({n.relation for n in root.walk() if n.relation})
    if not relations:
        return {}, {}
    try:
        with raw.cursor() as cur:
            cur.execute(
                "SELECT r, (SELECT reltuples FROM pg_class WHERE oid = to_regclass(quote_ident(r))) "
                "FROM unnest(%s::text[]) AS r",
                [relations],
            )
            rows = {name: float(n) for name, n in cur.fetchall() if n is not None}
            cur.execute(_INDEX_COLUMNS, [relations])
            indexes: dict[str, list[plan_nodes.IndexInfo]] = {}
            for table, index, columns, partial in cur.fetchall():
                indexes.setdefault(table, []).append(plan_nodes.IndexInfo(index, list(columns), partial))
    finally:
        _rollback(raw)
    return rows, indexes


def _run(raw, sql, bindings, *, analyze, runs, timeout, read_only, what):
    documents = [
        _explain_once(raw, sql, bindings, analyze=analyze, timeout=timeout, read_only=read_only, what=what)
        for _ in range(max(1, runs) if analyze else 1)
    ]
    run_ms = []
    for document in documents:
        _, _, execution = plan_nodes.parse(document)
        if execution is not None:
            run_ms.append(round(execution, 4))
    document = documents[-1]
    root, planning, execution = plan_nodes.parse(document)
    return document, root, planning, execution, run_ms


def _compile(conn: "Connection", statement) -> tuple[str, dict, str]:
    """The statement as psycopg receives it, its bound values, and a readable ``:name`` version."""
    from sqlalchemy.dialects import postgresql

    compiled = statement.compile(dialect=conn.dialect)
    bindings = compiled.construct_params()
    processors = getattr(compiled, "_bind_processors", {}) or {}
    bindings = {k: (processors[k](v) if k in processors and v is not None else v) for k, v in bindings.items()}
    readable = str(statement.compile(dialect=postgresql.dialect(paramstyle="named")))
    return compiled.string, bindings, readable


def _explain_named(
    conn: "Connection",
    url: DatabaseURL,
    named: queries.NamedQuery,
    given: dict,
    *,
    analyze: bool,
    runs: int,
    timeout: str,
    picker: queries.Picker | None = None,
) -> ExplainResult:
    try:
        values = queries.resolve_params(conn, named, given, picker)
    finally:
        conn.rollback()
    sql, bindings, readable = _compile(conn, named.build(**values))
    raw = conn.connection.dbapi_connection
    document, root, planning, execution, run_ms = _run(
        raw, sql, bindings, analyze=analyze, runs=runs, timeout=timeout, read_only=False, what=f"query {named.name!r}"
    )
    table_rows, indexes = _catalog(raw, root)
    return ExplainResult(
        query=named.name,
        description=named.description,
        database=url.display,
        analyzed=analyze,
        sql=readable,
        bindings=bindings,
        params=values,
        planning_ms=planning,
        execution_ms=execution,
        run_ms=run_ms,
        root=root,
        findings=plan_nodes.findings(root, table_rows, indexes, large_rows=named.budget.large_rows),
        table_rows=table_rows,
        modifies=named.modifies,
        timeout=timeout,
        plan=document,
    )


def explain(
    url: DatabaseURL,
    name: str,
    *,
    params: list[str] | dict | None = None,
    analyze: bool = True,
    runs: int = 1,
    timeout: str = DEFAULT_TIMEOUT,
) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS) one named query, in a transaction that is rolled back.

    ``params`` are ``name=value`` strings (from ``--param``) or typed values; the rest are picked
    from the data.
    """
    named = queries.get(name)
    given = queries.parse_assignments(named, params) if isinstance(params, list) else dict(params or {})
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    with connection(url) as conn:
        return _explain_named(conn, url, named, given, analyze=analyze, runs=runs, timeout=timeout)


def explain_sql(
    url: DatabaseURL,
    sql: str,
    *,
    analyze: bool = True,
    runs: int = 1,
    timeout: str = DEFAULT_TIMEOUT,
    allow_side_effects: bool = False,
) -> ExplainResult:
    """EXPLAIN one ad-hoc statement in a READ ONLY transaction that is rolled back.

    PostgreSQL's grammar (pglast) decides that ``sql`` is exactly one statement EXPLAIN accepts;
    it is sent with the extended protocol, which cannot carry a second. Calls a rollback cannot
    undo (core/adhoc_sql.py: SIDE_EFFECT_FUNCTIONS) are refused unless ``allow_side_effects``,
    and always on a protected database.
    """
    from todoctl.core import adhoc_sql

    statement = adhoc_sql.parse_statement(sql)
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    # The second fence, on the very text _explain_once will send (_explain_sql is pure).
    adhoc_sql.check_explain_text(_explain_sql(statement.text, analyze), statement)
    # Refuse before connecting when not asked for; when asked, the database's mark still decides.
    adhoc_sql.refuse_side_effects(statement, allowed=allow_side_effects, protected=False, database=url.display)
    with connection(url) as conn:
        raw = conn.connection.dbapi_connection
        if statement.side_effects:
            adhoc_sql.refuse_side_effects(
                statement, allowed=allow_side_effects, protected=_protected(raw, url), database=url.display
            )
        document, root, planning, execution, run_ms = _run(
            raw, statement.text, None, analyze=analyze, runs=runs, timeout=timeout, read_only=True, what="the statement"
        )
        table_rows, indexes = _catalog(raw, root)
    return ExplainResult(
        query=None,
        description=None,
        database=url.display,
        analyzed=analyze,
        sql=statement.text,
        bindings={},
        params={},
        planning_ms=planning,
        execution_ms=execution,
        run_ms=run_ms,
        root=root,
        findings=plan_nodes.findings(root, table_rows, indexes),
        table_rows=table_rows,
        modifies=False,
        timeout=timeout,
        plan=document,
    )


# ---------------------------------------------------------------- budgets and baselines


def _explain_all(url: DatabaseURL, names: list[str] | None, *, runs: int, timeout: str) -> list[ExplainResult]:
    selected = [queries.get(n) for n in names] if names else list(queries.QUERIES.values())
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    with connection(url) as conn:
        picker = queries.Picker(conn)
        return [
            _explain_named(conn, url, named, {}, analyze=True, runs=runs, timeout=timeout, picker=picker)
            for named in selected
        ]


def _large(result: ExplainResult, budget: queries.Budget, relation: str | None) -> bool:
    return relation is not None and result.table_rows.get(relation, 0) >= budget.large_rows


def budget_violations(result: ExplainResult, budget: queries.Budget) -> list[Violation]:
    found: list[Violation] = []
    median = result.median_ms
    if median is not None and median > budget.max_ms:
        found.append(Violation("budget-time", f"execution {median:.3f} ms exceeds the budget of {budget.max_ms:g} ms"))
    for node in result.root.walk():
        if node.node_type in budget.forbid_on_large and _large(result, budget, node.relation):
            rows = int(result.table_rows[node.relation])
            found.append(
                Violation("forbidden-node", f"{node.label}: a {node.node_type} of a large table ({rows:,} rows)")
            )
    if budget.sort_free and plan_nodes.sort_count(result.root):
        if any(_large(result, budget, n.relation) for n in result.root.walk()):
            found.append(Violation("sort", "a Sort on a large table: an index should deliver the ORDER BY"))
    return found


def regressions(result: ExplainResult, before: dict, *, factor: float, min_ms: float) -> list[Violation]:
    """How this plan got worse than the baseline's: a scan turned sequential, a new Sort, slower by ``factor``."""
    found: list[Violation] = []
    was: dict[str, list[dict]] = {}
    for scan in before.get("scans", []):
        was.setdefault(scan["relation"], []).append(scan)
    for scan in plan_nodes.scans(result.root):
        previous = was.get(scan["relation"], [])
        if "Seq Scan" in scan["node_type"] and previous and not any("Seq Scan" in p["node_type"] for p in previous):
            how = ", ".join(f"{p['node_type']}" + (f" using {p['index']}" if p.get("index") else "") for p in previous)
            found.append(Violation("regression-seq-scan", f"the scan of {scan['relation']} became sequential (was {how})"))
    sorts, sorts_before = plan_nodes.sort_count(result.root), int(before.get("sorts", 0))
    if sorts > sorts_before:
        found.append(Violation("regression-sort", f"a new Sort ({sorts_before} in the baseline, {sorts} now)"))
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


def load_baseline(path: Path | str) -> dict:
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise usage_error(f"no baseline file {path}", "record one with `todoctl explain baseline save FILE`") from None
    except (OSError, ValueError) as exc:
        raise usage_error(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(document, dict) or document.get("todoctl_baseline") != BASELINE_FORMAT:
        raise usage_error(f"{path} is not a todoctl explain baseline", "record one with `todoctl explain baseline save FILE`")
    return document


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
    checked = []
    for result in results:
        budget = queries.QUERIES[result.query].budget
        violations = budget_violations(result, budget)
        before = recorded.get(result.query) if recorded is not None else None
        if before is not None:
            violations += regressions(result, before, factor=factor, min_ms=min_ms)
        checked.append(
            QueryCheck(
                name=result.query,
                median_ms=result.median_ms,
                budget_ms=budget.max_ms,
                baseline_ms=before.get("execution_ms") if before else None,
                shape=plan_nodes.shape(result.root),
                scans=plan_nodes.scans(result.root),
                sorts=plan_nodes.sort_count(result.root),
                violations=violations,
                findings=result.findings,
            )
        )
    return CheckReport(url.display, runs, str(baseline) if baseline else None, factor, checked)


def save_baseline(url: DatabaseURL, path: Path | str, *, runs: int = 3, timeout: str = DEFAULT_TIMEOUT) -> BaselineSaved:
    """Record every named query's plan shape and median execution time in a JSON file."""
    results = _explain_all(url, None, runs=runs, timeout=timeout)
    entries = {
        r.query: {
            "execution_ms": r.median_ms,
            "shape": plan_nodes.shape(r.root),
            "scans": plan_nodes.scans(r.root),
            "sorts": plan_nodes.sort_count(r.root),
        }
        for r in results
    }
    document = {
        "todoctl_baseline": BASELINE_FORMAT,
        "database": url.display,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
        "queries": entries,
    }
    path = Path(path)
    try:
        path.write_text(json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        raise usage_error(f"cannot write the baseline {path}: {exc.strerror or exc}") from None
    return BaselineSaved(str(path), url.display, runs, entries)

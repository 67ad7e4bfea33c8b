"""EXPLAIN the app's named queries and ad-hoc SQL; hold the plans to budgets and to a baseline.

Safety: every EXPLAIN runs inside a transaction that is always rolled back, under
``SET LOCAL statement_timeout``; ad-hoc SQL also runs READ ONLY. So explaining a query never
changes data, even ``EXPLAIN ANALYZE`` of the registry's UPDATE.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from todoctl import named_queries
import todoctl.core.explain.findings as plan_findings
from todoctl.core.explain.findings import Finding
from todoctl.core.explain.verdict import verdict
from todoctl.core.explain.plan import PlanNode
from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError, connection_error, usage_error
from todoctl.results import human_only
from todoctl.settings import duration_ms

if TYPE_CHECKING:
    from sqlalchemy import Connection
from todoctl.core.explain.catalog import _catalog, _missing_indexes, _stale_tables
from todoctl.core.explain.transaction import (
    DEFAULT_TIMEOUT,
    _explain_sql,
    _first_line,
    _rollback,
    _run,
    begin,
    check_timeout,
    lock_wait,
)


@dataclass
class ExplainResult:
    query: str | None  # the registry name; None for ad-hoc SQL
    description: str | None
    database: str = human_only()
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
    timeout_ms: float  # the statement_timeout it ran under
    plan: list  # PostgreSQL's own EXPLAIN (FORMAT JSON) document: load it into PEV2 or explain.depesz.com
    stale_tables: list[str] = field(default_factory=list)  # tables in the plan whose statistics are stale
    server_version: str = ""  # the server's server_version, e.g. "18.1"
    # A named query's budget terms this run breaks (what `explain check` fails on): kind is the
    # term (budget-time, rows-read, rows-sorted, buffers, seq-scan, misestimate, spill), node "budget".
    over_budget: list[Finding] = field(default_factory=list)

    __json_properties__ = ("min_ms", "median_ms")

    @property
    def min_ms(self) -> float | None:
        return min(self.run_ms) if self.run_ms else None

    @property
    def median_ms(self) -> float | None:
        return round(statistics.median(self.run_ms), 4) if self.run_ms else None


def _timeout_ms(timeout: str) -> float:
    """A statement_timeout such as ``10s`` in milliseconds (a whole number stays one)."""
    value = duration_ms(timeout)
    return int(value) if value.is_integer() else value


def _server_version(raw) -> str:
    """``server_version`` as the server reported it at connection start (no query)."""
    return raw.info.parameter_status("server_version") or ""


def _protected(raw, url: DatabaseURL) -> bool:
    """Whether the database carries the protection mark; one this role cannot read is exit 4."""
    import todoctl.core.safety.protect as protect

    try:
        return protect.read_with(raw.execute, url.display).protected
    finally:
        _rollback(raw)


def _judge(raw, statement, timeout: str) -> list:
    """What the statement can make the server run that is not proven harmless (core/explain/harmless.py),
    read from the catalog in a READ ONLY transaction under the statement's timeouts."""
    import psycopg

    import todoctl.core.explain.harmless as harmless

    try:
        with raw.cursor() as cur:
            begin(cur, timeout, read_only=True)
            return harmless.refusals(cur, statement.reach)
    except psycopg.errors.LockNotAvailable:
        raise lock_wait(raw, "reading the catalog", timeout) from None
    except psycopg.OperationalError as exc:
        if raw.closed or raw.broken:
            raise connection_error(f"lost the connection while checking the statement: {_first_line(exc)}") from None
        raise _cannot_judge(exc) from None
    except psycopg.Error as exc:
        raise _cannot_judge(exc) from None
    finally:
        _rollback(raw)


def _cannot_judge(exc) -> TodoctlError:
    return TodoctlError(
        f"cannot resolve the statement's functions against the catalog, so nothing proves them harmless: {_first_line(exc)}",
        hint="check the names in the statement (schemas, types, relations)",
        exit_code=ExitCode.REFUSED,
    )


def _pick(conn: "Connection", named: named_queries.NamedQuery, given: dict, picker, timeout: str) -> dict:
    """The query's parameters (given, or picked from the data) under the statement's own timeouts:
    a pick that waits for a lock is exit 5 naming who holds it, as the EXPLAIN itself is."""
    from sqlalchemy.exc import DBAPIError

    raw = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cur:
            begin(cur, timeout, read_only=False)
        return named_queries.resolve_params(conn, named, given, picker)
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None)
        if code == "55P03":  # lock_not_available
            raise lock_wait(raw, f"picking parameters for {named.name!r}", timeout) from None
        if code == "57014" and "statement timeout" in str(exc.orig):
            raise TodoctlError(
                f"picking parameters for {named.name!r} took longer than the statement timeout ({timeout}); rolled back",
                hint="give the parameters with --param, or raise --timeout",
                exit_code=ExitCode.CHECK_FAILED,
            ) from None
        raise
    finally:
        conn.rollback()
        _rollback(raw)  # the transaction begin() opened, when no pick needed SQLAlchemy's


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
    named: named_queries.NamedQuery,
    given: dict,
    *,
    analyze: bool,
    runs: int,
    timeout: str,
    picker: named_queries.Picker | None = None,
) -> ExplainResult:
    """One named query explained (the caller has checked the schema is at head)."""
    values = _pick(conn, named, given, picker, timeout)
    sql, bindings, readable = _compile(conn, named.build(**values))
    raw = conn.connection.dbapi_connection
    document, root, planning, execution, run_ms = _run(
        raw, sql, bindings, analyze=analyze, runs=runs, timeout=timeout, read_only=False, what=f"query {named.name!r}"
    )
    table_rows, indexes = _catalog(raw, root)
    stale = _stale_tables(raw, root)
    found = _missing_indexes(raw, named) + plan_findings.findings(
        root, table_rows, indexes, large_rows=named.budget.large_rows, stale=set(stale)
    )
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
        findings=found,
        table_rows=table_rows,
        modifies=named.modifies,
        timeout_ms=_timeout_ms(timeout),
        plan=document,
        stale_tables=stale,
        server_version=_server_version(raw),
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
    named = named_queries.get(name)
    given = named_queries.parse_assignments(named, params) if isinstance(params, list) else dict(params or {})
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    with connection(url) as conn:
        _require_head(conn, url, f"explain {named.name}")
        result = _explain_named(conn, url, named, given, analyze=analyze, runs=runs, timeout=timeout)
    if result.analyzed:
        result.over_budget = [Finding(v.kind, "budget", v.message, v.hint, v.sql) for v in verdict(result, named.budget)]
    return result


def _require_head(conn: "Connection", url: DatabaseURL, what: str) -> None:
    """Exit 1 with "run `todoctl migrate up`" unless the schema is at head (the queries need it)."""
    from todoctl.core.safety.revision_gate import require_head

    try:
        require_head(conn, url.display, what)
    finally:
        conn.rollback()


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
    it is sent with the extended protocol, which cannot carry a second. Before anything is
    planned, every function it can make the server run is resolved against the catalog, and
    unless all are proven harmless (core/explain/harmless.py) it is refused: unless
    ``allow_side_effects``, and always on a protected database.
    """
    import todoctl.core.explain.adhoc as adhoc_sql
    import todoctl.core.explain.harmless as harmless

    statement = adhoc_sql.parse_statement(sql)
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    # The second fence, on the very text _explain_once will send (_explain_sql is pure).
    adhoc_sql.check_explain_text(_explain_sql(statement.text, analyze), statement)
    with connection(url) as conn:
        raw = conn.connection.dbapi_connection
        # Judged before EXPLAIN plans it: planning alone runs IMMUTABLE functions on constants.
        found = _judge(raw, statement, timeout)
        if found:
            harmless.refuse(found, allowed=allow_side_effects, protected=False, database=url.display)
            harmless.refuse(found, allowed=True, protected=_protected(raw, url), database=url.display)
        document, root, planning, execution, run_ms = _run(
            raw, statement.text, None, analyze=analyze, runs=runs, timeout=timeout, read_only=True, what="the statement"
        )
        table_rows, indexes = _catalog(raw, root)
        stale = set(_stale_tables(raw, root))
        version = _server_version(raw)
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
        findings=plan_findings.findings(root, table_rows, indexes, stale=stale),
        table_rows=table_rows,
        modifies=False,
        timeout_ms=_timeout_ms(timeout),
        plan=document,
        server_version=version,
    )


def _explain_all(
    url: DatabaseURL, names: list[str] | None, *, runs: int, timeout: str, what: str = "explain check"
) -> list[ExplainResult]:
    registry = named_queries.app_queries()
    if not registry:
        raise usage_error(
            f"{what}: the app declares no named queries",
            "list the modules that register them in queries of [tool.todoctl] (docs/queries.md)",
        )
    selected = [named_queries.get(n, registry) for n in names] if names else list(registry.values())
    timeout = check_timeout(timeout)
    if runs < 1:
        raise usage_error("--runs must be at least 1")
    with connection(url) as conn:
        _require_head(conn, url, what)
        picker = named_queries.Picker(conn)
        return [
            _explain_named(conn, url, named, {}, analyze=True, runs=runs, timeout=timeout, picker=picker)
            for named in selected
        ]

"""Explain: the app's named queries and ad-hoc SQL under EXPLAIN, always rolled back.

    execute       explain a named query or ad-hoc SQL: the result and what goes into it
    transaction   one EXPLAIN in a rolled-back transaction (extended protocol, timeouts, errors)
    adhoc         ad-hoc SQL judged by PostgreSQL's grammar (pglast): one statement, no side effects
    harmless      which functions ad-hoc SQL may run: default-deny, decided from the catalog
    harmless_catalog  the catalog queries that judge asks
    plan          PostgreSQL's plan document as PlanNode trees; shape and cost of a plan
    findings      what a reviewer would point at in a plan
    fixes         the one statement that fixes each finding (index, ANALYZE, work_mem)
    catalog       row estimates, valid indexes, stale statistics, indexes a query relies on
    budget        `explain check`: budgets (cost, not shape) and regressions against a baseline
    baseline      `explain baseline save` and reading a saved baseline
    statement     a named query's SQL without a database (`explain show`)
"""

from todoctl.core.explain.baseline import save_baseline
from todoctl.core.explain.budget import check
from todoctl.core.explain.execute import ExplainResult, explain, explain_sql

__all__ = ["ExplainResult", "check", "explain", "explain_sql", "save_baseline"]

"""Explain: the app's named queries and ad-hoc SQL under EXPLAIN, always rolled back.

    execute    running EXPLAIN safely; named queries, ad-hoc SQL, check and baselines
    plan       PostgreSQL's plan document as PlanNode trees, and the findings drawn from it
    adhoc      ad-hoc SQL judged by PostgreSQL's grammar (pglast): one statement, no side effects
"""

from todoctl.core.explain.baseline import save_baseline
from todoctl.core.explain.budget import check
from todoctl.core.explain.execute import ExplainResult, explain, explain_sql

__all__ = ["ExplainResult", "check", "explain", "explain_sql", "save_baseline"]

"""Health checks on sessions: connections used by state, long-running queries, idle transactions."""

from __future__ import annotations

from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    above,
    check,
    grade,
    number,
    query,
    seconds,
    sessions_hint,
    shown_query,
)


@check("connections", "client connections against max_connections, by state")
def _connections(ctx: Context) -> Check:
    t = ctx.thresholds
    rows = query(
        ctx,
        "SELECT coalesce(state, 'hidden') AS state, count(*) AS n FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    limit, backends = query(
        ctx, "SELECT current_setting('max_connections')::int, (SELECT sum(numbackends)::int FROM pg_stat_database)"
    )[0]
    by_state = {state: n for state, n in rows}
    used = sum(by_state.values())
    if not ctx.sees_all_sessions and (backends or 0) > used:
        # Without pg_read_all_stats, other roles' rows hide even their backend_type;
        # pg_stat_database still counts every backend.
        by_state["hidden"] = by_state.get("hidden", 0) + backends - used
        used = backends
    pct = 100 * used / limit if limit else 0
    status = grade(pct, t.connections_warn_pct, t.connections_fail_pct)
    states = ", ".join(f"{state} {n}" for state, n in by_state.items())
    hint = None
    if status is not Status.OK:
        hint = "use the pooled endpoint for the app, a smaller pool_size in the app's engine per process, or close idle sessions"
    elif "hidden" in by_state:
        hint = sessions_hint(ctx).strip(" ()")
    return Check(
        "connections",
        status,
        f"{used} of {limit} ({pct:.0f}%): {states}",
        above(t.connections_warn_pct, t.connections_fail_pct, "% of max"),
        hint,
        {"used": used, "max_connections": limit, "ratio": round(pct / 100, 4), "by_state": by_state},
    )


def _session_check(ctx: Context, name: str, where: str, since: str, warn: float, fail: float, hint: str) -> Check:
    rows = query(
        ctx,
        f"SELECT pid, usename, application_name, state, "
        f"extract(epoch FROM clock_timestamp() - {since})::float8 AS age, query "
        f"FROM pg_stat_activity WHERE {where} AND {since} IS NOT NULL "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY age DESC",
    )
    over = [r for r in rows if r.age > warn]
    sessions = [
        {
            "pid": r.pid,
            "user": r.usename,
            "application": r.application_name,
            "state": r.state,
            "duration_ms": round(r.age * 1000),
            "query": shown_query(ctx, r.query, 120),
        }
        for r in over
    ]
    threshold = above(warn, fail, "s")
    if not rows:
        return Check(name, Status.OK, f"none{sessions_hint(ctx)}", threshold, None, {"sessions": []})
    oldest = rows[0]
    status = grade(oldest.age, warn, fail)
    value = (
        f"{len(over)} over {number(warn)}s; oldest {seconds(oldest.age)} (pid {oldest.pid})"
        if over
        else f"oldest {seconds(oldest.age)}"
    )
    return Check(
        name,
        status,
        value,
        threshold,
        hint if over else None,
        {"sessions": sessions, "oldest_ms": round(oldest.age * 1000)},
    )


@check("long-queries", "queries running longer than a threshold")
def _long_queries(ctx: Context) -> Check:
    t = ctx.thresholds
    return _session_check(
        ctx,
        "long-queries",
        "state = 'active'",
        "query_start",
        t.long_query_warn_s,
        t.long_query_fail_s,
        "find them in pg_stat_activity; SELECT pg_cancel_backend(pid) stops one",
    )


@check("idle-in-transaction", "sessions idle inside an open transaction longer than a threshold")
def _idle_in_transaction(ctx: Context) -> Check:
    t = ctx.thresholds
    return _session_check(
        ctx,
        "idle-in-transaction",
        "state IN ('idle in transaction', 'idle in transaction (aborted)')",
        "state_change",
        t.idle_in_transaction_warn_s,
        t.idle_in_transaction_fail_s,
        "they hold locks and stop vacuum: fix the code path that leaves a transaction open; "
        "set idle_in_transaction_session_timeout; pg_terminate_backend(pid) ends one",
    )

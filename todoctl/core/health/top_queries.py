"""The top-queries check: pg_stat_statements over a recent window, skipped without the extension.

Like cache-hit, it judges cumulative counters, so it judges the difference over a window (sampled
now with --sample, or since the reading recorded by the previous run), never the totals since the
last reset.
"""

from __future__ import annotations

from todoctl.core.health import counters as health_counters
from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    check,
    ms,
    number,
    query,
    sampler,
    seconds,
    shown_query,
)


def _statements_schema(ctx: Context) -> str | None:
    found = query(ctx, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'")
    return found[0][0] if found else None


@sampler("top-queries")
def read_statements(ctx: Context, schema: str | None = None) -> dict | None:
    """pg_stat_statements for this database now: ``{"key", "taken_at", "entries": {id: [calls, ms, rows]}, "text"}``."""
    from sqlalchemy.exc import DBAPIError

    schema = schema or _statements_schema(ctx)
    if schema is None:
        return None
    try:
        reset = str(query(ctx, f"SELECT stats_reset FROM {schema}.pg_stat_statements_info")[0][0])
    except DBAPIError:  # an extension older than 1.9: no reset time to key on
        reset = "unknown"
    key, taken_at = health_counters.identity(ctx, "pg_stat_statements", reset)
    rows = query(
        ctx,
        f"SELECT userid::text || ':' || queryid::text || ':' || toplevel::text AS id, calls, "
        f"total_exec_time AS total_ms, rows, left(query, 4000) AS query FROM {schema}.pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    return {
        "key": key,
        "taken_at": taken_at,
        "entries": {r.id: [int(r.calls), float(r.total_ms), int(r.rows)] for r in rows},
        "text": {r.id: r.query for r in rows},
    }


def statements_window(before: dict | None, after: dict) -> list[dict]:
    """Per statement: calls, time and rows between two readings, most total time first."""
    earlier = (before or {}).get("entries", {})
    found = []
    for sid, (calls, total_ms, rows) in after["entries"].items():
        was = earlier.get(sid)
        if was and calls >= was[0]:
            calls, total_ms, rows = calls - was[0], total_ms - was[1], rows - was[2]
        # else: new in the window, or evicted and counted again since: all its counts are in the window
        if calls > 0:
            found.append({"id": sid, "calls": calls, "total_ms": max(total_ms, 0.0), "rows": rows})
    return sorted(found, key=lambda q: q["total_ms"], reverse=True)


@check("top-queries", "pg_stat_statements: the queries with the most time over a recent window (skipped without it)")
def _top_queries(ctx: Context) -> Check:
    from sqlalchemy.exc import DBAPIError

    t = ctx.thresholds
    threshold = f"mean > {number(t.top_query_mean_warn_ms)} ms"
    schema = _statements_schema(ctx)
    if schema is None:
        return Check(
            "top-queries",
            Status.SKIP,
            "pg_stat_statements is not installed",
            threshold,
            "CREATE EXTENSION pg_stat_statements (it must also be in shared_preload_libraries; Neon has it)",
            {"queries": []},
        )
    try:
        now = read_statements(ctx, schema)
    except DBAPIError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        return Check(
            "top-queries",
            Status.SKIP,
            f"pg_stat_statements unusable: {first}",
            threshold,
            "add it to shared_preload_libraries",
            {"queries": []},
        )
    if ctx.sample_s > 0:
        before, source = ctx.sampled.get("top-queries"), "sample"
    else:
        before, source = health_counters.load_record("statements", now["key"]), "since-last-run"
    if before is not None and before.get("key") != now["key"]:
        before = None  # pg_stat_statements was reset in between
    result = _judge_statements(ctx, before, now, source)
    # As for cache-hit: an empty window keeps its start, so that statements add up across runs.
    age = now["taken_at"] - before["taken_at"] if before else 0.0
    if before is None or source == "sample" or result.details["queries"] or age > t.window_max_s:
        stored = {k: now[k] for k in ("taken_at", "entries")}
        result.details["recorded"] = health_counters.save_record("statements", now["key"], stored)
    return result


def _judge_statements(ctx: Context, before: dict | None, now: dict, source: str) -> Check:
    t = ctx.thresholds
    threshold = f"mean > {number(t.top_query_mean_warn_ms)} ms"
    if before is None:
        return Check(
            "top-queries",
            Status.SKIP,
            "no earlier reading to compare with: recorded one now, the next run judges the statements since",
            threshold,
            "or measure now: todoctl health --sample 60",
            {"queries": [], "window": None},
        )
    seconds_ = max(now["taken_at"] - before["taken_at"], 0.0)
    window = {"source": source, "seconds": round(seconds_, 1)}
    ranked = statements_window(before, now)[: int(t.top_queries)]
    queries = [
        {
            "calls": q["calls"],
            "total_ms": round(q["total_ms"], 1),
            "mean_ms": round(q["total_ms"] / q["calls"], 2),
            "rows": q["rows"],
            "query": shown_query(ctx, now["text"].get(q["id"]), 200),
        }
        for q in ranked
    ]
    if not queries:
        return Check(
            "top-queries",
            Status.SKIP,
            f"not enough traffic to judge: no statements in {seconds(seconds_)}",
            threshold,
            None,
            {"queries": [], "window": window},
        )
    slow = [q for q in queries if q["mean_ms"] > t.top_query_mean_warn_ms]
    top = queries[0]
    one_line = " ".join((top["query"] or "").split())[:60]
    value = (
        f"top in {seconds(seconds_)}: {ms(top['total_ms'])} total, {top['calls']:,} calls, "
        f"mean {ms(top['mean_ms'])}: {one_line}"
    )
    details = {"queries": queries, "window": window}
    if slow:
        return Check(
            "top-queries",
            Status.WARN,
            value,
            threshold,
            "EXPLAIN the slow ones (todoctl explain) and add the index they need",
            details,
        )
    return Check("top-queries", Status.OK, value, threshold, None, details)

"""Health checks on server statistics: cache hits, dead tuples and vacuum, wraparound, top queries.

cache-hit and top-queries judge cumulative counters, so they judge the difference over a window
(:mod:`todoctl.core.health.counters`), never the totals since the last reset. dead-tuples and
wraparound read gauges (the state now), which need no window.
"""

from __future__ import annotations

from todoctl.core.health import counters as health_counters
from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    above,
    below,
    check,
    grade,
    ms,
    number,
    query,
    sampler,
    seconds,
    severity,
    shown_query,
)
from todoctl.core.health.thresholds import Thresholds
from todoctl.models import APP_TABLES

XID_LIMIT = 2**31  # transaction IDs wrap around (and the server stops) near here
CACHE_HINT = (
    "the same blocks were read from outside shared buffers again and again: the working set does not fit "
    "in shared_buffers. Raise shared_buffers (on Neon, a larger compute size), or find the query that "
    "re-scans a big table (top-queries, todoctl explain) and give it an index"
)


sampler("cache-hit")(health_counters.read)


def _cache_window(ctx: Context) -> tuple[health_counters.Reading, health_counters.Window | None]:
    """The latest reading, and the window to judge: sampled now (--sample) or since the recorded reading."""
    now = health_counters.read(ctx)
    if ctx.sample_s > 0:
        start = ctx.sampled.get("cache-hit")
        return now, health_counters.window(start, now, "sample") if start else None
    earlier = health_counters.load(now.key)
    return now, health_counters.window(earlier, now, "since-last-run") if earlier else None


def cache_hit_status(window: health_counters.Window | None, t: Thresholds) -> Check:
    """Judge a window of block reads. Misses that can be each block's first read in the window
    (a cold cache, a one-off bulk read) and misses on tables loaded in the window (a seed, a
    restore) are not held against the cache: only the app's re-reads are."""
    threshold = below(t.cache_hit_warn_pct, t.cache_hit_fail_pct, "%")
    if window is None:
        return Check(
            "cache-hit",
            Status.SKIP,
            "no earlier reading to compare with: recorded one now, the next run judges the traffic since",
            threshold,
            "or measure now: todoctl health --sample 60",
            {"ratio": None, "window": None},
        )
    judged = window.hits + window.reread_misses
    details = {
        "window": {
            "source": window.source,
            "seconds": round(window.seconds, 1),
            "hits": window.hits,
            "misses": window.misses,
            "first_read_misses": window.first_read_misses,
            "load_misses": window.load_misses,
        },
        "raw_ratio": round(window.hits / window.blocks, 5) if window.blocks else None,
    }
    span = f"in {seconds(window.seconds)}"
    excused = window.first_read_misses + window.load_misses
    first = f", {excused:,} first reads or load reads not counted" if excused else ""
    if judged < t.cache_hit_min_blocks:
        return Check(
            "cache-hit",
            Status.SKIP,
            f"not enough traffic to judge: {judged:,} blocks {span}{first} (needs {number(t.cache_hit_min_blocks)})",
            threshold,
            None,
            {**details, "ratio": None},
        )
    pct = 100 * window.hits / judged
    status = grade(pct, t.cache_hit_warn_pct, t.cache_hit_fail_pct, higher_is_worse=False)
    return Check(
        "cache-hit",
        status,
        f"{pct:.2f}% of {judged:,} blocks {span}{first}",
        threshold,
        None if status is Status.OK else CACHE_HINT,
        {**details, "ratio": round(pct / 100, 5)},
    )


@check("cache-hit", "share of block reads served from shared buffers, over a recent window (not since the reset)")
def _cache_hit(ctx: Context) -> Check:
    t = ctx.thresholds
    now, window = _cache_window(ctx)
    result = cache_hit_status(window, t)
    # Keep the earlier reading while there is too little traffic, so that traffic adds up across runs;
    # start a new window once this one was judged, or has grown older than window_max_s.
    too_old = window is not None and window.seconds > t.window_max_s
    if window is None or window.source == "sample" or result.status is not Status.SKIP or too_old:
        result.details["recorded"] = health_counters.save(now)
    return result


@check("dead-tuples", "dead-tuple ratio and last (auto)vacuum per app table")
def _dead_tuples(ctx: Context) -> Check:
    t = ctx.thresholds
    rows = query(
        ctx,
        "SELECT relname AS table, n_live_tup AS live, n_dead_tup AS dead, "
        "greatest(last_vacuum, last_autovacuum) AS vacuumed, "
        "extract(epoch FROM clock_timestamp() - greatest(last_vacuum, last_autovacuum))::float8 AS vacuum_age, "
        "current_setting('autovacuum') AS autovacuum "
        "FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(:tables) ORDER BY 1",
        tables=list(APP_TABLES),
    )
    tables = []
    for r in rows:
        total = (r.live or 0) + (r.dead or 0)
        pct = 100 * r.dead / total if total else 0.0
        tables.append(
            {
                "table": r.table,
                "live": r.live,
                "dead": r.dead,
                "dead_pct": round(pct, 1),
                "last_vacuum": r.vacuumed,
                "vacuum_age_seconds": r.vacuum_age,
            }
        )
    threshold = above(t.dead_tuple_warn_pct, t.dead_tuple_fail_pct, "%") + f" (>= {number(t.dead_tuple_min_rows)} dead)"
    judged = [x for x in tables if x["dead"] >= t.dead_tuple_min_rows]
    autovacuum_off = bool(rows) and rows[0].autovacuum == "off"
    details = {"tables": tables, "autovacuum": not autovacuum_off}
    if not judged:
        value = "no table with many dead rows"
        status = Status.OK
        worst = None
    else:
        worst = max(judged, key=lambda x: x["dead_pct"])
        status = grade(worst["dead_pct"], t.dead_tuple_warn_pct, t.dead_tuple_fail_pct)
        age = worst["vacuum_age_seconds"]
        when = "never vacuumed" if age is None else f"last vacuum {seconds(age)} ago"
        value = f"worst {worst['table']}: {worst['dead_pct']:.0f}% dead ({worst['dead']:,} rows), {when}"
    hint = None
    if autovacuum_off:
        status = max(status, Status.WARN, key=severity)
        value += "; autovacuum is off"
        hint = "turn autovacuum on"
    elif status is not Status.OK:
        hint = f"VACUUM (ANALYZE) {worst['table']}; if it recurs, lower autovacuum_vacuum_scale_factor for it"
    return Check("dead-tuples", status, value, threshold, hint, details)


@check("wraparound", "transaction-ID age of the oldest database (wraparound risk)")
def _wraparound(ctx: Context) -> Check:
    t = ctx.thresholds
    name, age = query(ctx, "SELECT datname, age(datfrozenxid)::bigint FROM pg_database ORDER BY 2 DESC LIMIT 1")[0]
    status = grade(age, t.wraparound_warn_age, t.wraparound_fail_age)
    hint = None
    if status is not Status.OK:
        hint = (
            f"VACUUM (FREEZE) the oldest tables in {name}; "
            "look for long transactions or stale replication slots holding it back"
        )
    return Check(
        "wraparound",
        status,
        f"{age:,} in {name} ({100 * age / XID_LIMIT:.1f}% of the limit)",
        above(t.wraparound_warn_age / 1e9, t.wraparound_fail_age / 1e9, " billion"),
        hint,
        {"database": name, "age": age, "limit": XID_LIMIT},
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

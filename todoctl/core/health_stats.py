"""Health checks on server statistics: cache hits, dead tuples and vacuum, wraparound, top queries."""

from __future__ import annotations

from todoctl.core.health_checks import (
    XID_LIMIT,
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
    seconds,
    severity,
)
from todoctl.models import APP_TABLES


@check("cache-hit", "share of block reads served from shared buffers")
def _cache_hit(ctx: Context) -> Check:
    t = ctx.thresholds
    hit, read, reset = query(
        ctx,
        "SELECT blks_hit, blks_read, stats_reset FROM pg_stat_database WHERE datname = current_database()",
    )[0]
    total = (hit or 0) + (read or 0)
    threshold = below(t.cache_hit_warn_pct, t.cache_hit_fail_pct, "%")
    details = {"blks_hit": hit, "blks_read": read, "stats_reset": reset}
    if total < t.cache_hit_min_blocks:
        return Check(
            "cache-hit",
            Status.SKIP,
            f"too little traffic to judge ({total:,} blocks)",
            threshold,
            None,
            {**details, "ratio": None},
        )
    pct = 100 * hit / total
    status = grade(pct, t.cache_hit_warn_pct, t.cache_hit_fail_pct, higher_is_worse=False)
    hint = (
        None
        if status is Status.OK
        else "the working set does not fit in memory: a larger compute, or fewer/smaller indexes"
    )
    return Check(
        "cache-hit",
        status,
        f"{pct:.2f}% of {total:,} blocks",
        threshold,
        hint,
        {**details, "ratio": round(pct / 100, 5)},
    )


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


@check("top-queries", "pg_stat_statements: the queries with the most total time (skipped without it)")
def _top_queries(ctx: Context) -> Check:
    from sqlalchemy.exc import DBAPIError

    t = ctx.thresholds
    threshold = f"mean > {number(t.top_query_mean_warn_ms)} ms"
    found = query(ctx, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if not found:
        return Check(
            "top-queries",
            Status.SKIP,
            "pg_stat_statements is not installed",
            threshold,
            "CREATE EXTENSION pg_stat_statements (it must also be in shared_preload_libraries; Neon has it)",
            {"queries": []},
        )
    schema = found[0][0]
    try:
        rows = query(
            ctx,
            f"SELECT calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms, rows, left(query, 200) AS query "
            f"FROM {schema}.pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT :n",
            n=int(t.top_queries),
        )
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
    queries = [
        {
            "calls": r.calls,
            "total_ms": round(r.total_ms, 1),
            "mean_ms": round(r.mean_ms, 2),
            "rows": r.rows,
            "query": r.query,
        }
        for r in rows
    ]
    if not queries:
        return Check("top-queries", Status.OK, "no statements recorded yet", threshold, None, {"queries": []})
    slow = [q for q in queries if q["mean_ms"] > t.top_query_mean_warn_ms]
    top = queries[0]
    one_line = " ".join(top["query"].split())[:60]
    value = f"top: {ms(top['total_ms'])} total, {top['calls']:,} calls, mean {ms(top['mean_ms'])}: {one_line}"
    if slow:
        return Check(
            "top-queries",
            Status.WARN,
            value,
            threshold,
            "EXPLAIN the slow ones (todoctl explain) and add the index they need",
            {"queries": queries},
        )
    return Check("top-queries", Status.OK, value, threshold, None, {"queries": queries})

"""Health checks on server statistics: cache hits, dead tuples and vacuum, wraparound.

cache-hit (like top-queries, in :mod:`todoctl.core.health.top_queries`) judges cumulative counters,
so it judges the difference over a window (:mod:`todoctl.core.health.counters`), never the totals
since the last reset. dead-tuples and wraparound read gauges (the state now), which need no window.
"""

from __future__ import annotations

import todoctl.core.health.counters as health_counters
from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    above,
    below,
    check,
    grade,
    number,
    query,
    sampler,
    seconds,
    severity,
)
from todoctl.core.health.thresholds import Thresholds
from todoctl.core.catalog.snapshot import key_sql, named_sql
from todoctl.project import app_tables

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
            "duration_ms": round(window.seconds * 1000),
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
        f"SELECT {key_sql('schemaname', 'relname')} AS table, n_live_tup AS live, n_dead_tup AS dead, "
        "greatest(last_vacuum, last_autovacuum) AS vacuumed, "
        "extract(epoch FROM clock_timestamp() - greatest(last_vacuum, last_autovacuum))::float8 AS vacuum_age, "
        "current_setting('autovacuum') AS autovacuum "
        f"FROM pg_stat_user_tables WHERE {named_sql(':tables', 'schemaname', 'relname')} ORDER BY 1",
        tables=app_tables(),
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
                "dead_ratio": round(pct / 100, 4),
                "last_vacuum": r.vacuumed,
                "vacuum_age_ms": None if r.vacuum_age is None else round(r.vacuum_age * 1000),
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
        worst = max(judged, key=lambda x: x["dead_ratio"])
        status = grade(100 * worst["dead_ratio"], t.dead_tuple_warn_pct, t.dead_tuple_fail_pct)
        age = None if worst["vacuum_age_ms"] is None else worst["vacuum_age_ms"] / 1000
        when = "never vacuumed" if age is None else f"last vacuum {seconds(age)} ago"
        value = f"worst {worst['table']}: {worst['dead_ratio']:.0%} dead ({worst['dead']:,} rows), {when}"
    hint = None
    if autovacuum_off:
        status = max(status, Status.WARN, key=severity)
        value += "; autovacuum is off"
        hint = "turn autovacuum on"
    elif status is not Status.OK:
        from todoctl.core.sql_names import ident

        details["sql"] = f"VACUUM (ANALYZE) {ident(worst['table'])};"
        hint = f"{details['sql']}  if it recurs, lower autovacuum_vacuum_scale_factor for it"
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

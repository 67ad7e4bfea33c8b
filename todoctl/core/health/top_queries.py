"""The top-queries check: pg_stat_statements over a recent window, skipped without the extension.

Like cache-hit, it judges cumulative counters, so it judges the difference over a window (sampled
now with --sample, or since the reading recorded by the previous run), never the totals since the
last reset.

Each top statement is matched to the app's named query (the modules in ``queries``) it is, if any: every
named query is compiled to SQL as the app's engine sends it, and both texts are compared by
libpg_query's fingerprint (pglast), which ignores constants and parameters, as pg_stat_statements'
normalised text ($1, $2, ...) does.
"""

from __future__ import annotations

import functools
import itertools

import todoctl.core.health.counters as health_counters
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


def _fingerprint(sql: str) -> str | None:
    from pglast import parser

    try:
        return parser.fingerprint(sql)
    except Exception:  # pglast.parser.ParseError, or text pg_stat_statements cut short: no match
        return None


def named_fingerprints() -> dict[str, str]:
    """``{fingerprint: query name}`` for every shape of every named query of the app."""
    from todoctl import project
    from todoctl.named_queries import app_queries

    return _fingerprints(project.current().root, tuple(sorted(app_queries().items())))


@functools.lru_cache(maxsize=8)
def _fingerprints(root, queries: tuple) -> dict[str, str]:
    """``{fingerprint: query name}`` for every shape of every named query.

    An optional parameter changes the statement's shape (task-list's keyset page adds a row
    comparison), so each combination of optional parameters left out or given is compiled; one
    the query refuses (a keyset needs both halves) has no shape. Compiled with the app's dialect
    (psycopg), whose bind casts (``$2::VARCHAR``) are part of the text the server sees.
    """
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from todoctl.errors import TodoctlError
    from todoctl.named_queries import placeholders

    dialect = PGDialect_psycopg(paramstyle="numeric_dollar")
    found: dict[str, str] = {}
    for name, named in queries:
        optional = [p for p in named.params if p.optional]
        for given in itertools.product((False, True), repeat=len(optional)):
            values = placeholders(named.params)
            values.update({p.name: None for p, on in zip(optional, given) if not on})
            try:
                statement = named.build(**values)
            except TodoctlError:
                continue
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}))
            fingerprint = _fingerprint(sql)
            if fingerprint:
                found.setdefault(fingerprint, name)
    return found


def named_query(sql: str | None) -> str | None:
    """The name of the app's query this statement text is (pg_stat_statements' or any), or None."""
    return named_fingerprints().get(_fingerprint(sql)) if sql else None


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
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        # Another role's statements have no queryid without pg_read_all_stats: all would share one id.
        " AND queryid IS NOT NULL",
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
    window = {"source": source, "duration_ms": round(seconds_ * 1000)}
    window_statements = statements_window(before, now)
    window_ms = sum(q["total_ms"] for q in window_statements)
    queries = [
        {
            "name": (name := named_query(now["text"].get(q["id"]))),
            "explain": f"todoctl explain {name}" if name else None,
            "calls": q["calls"],
            "total_ms": round(q["total_ms"], 1),
            "mean_ms": round(q["total_ms"] / q["calls"], 2),
            "share_ratio": round(q["total_ms"] / window_ms, 4) if window_ms > 0 else None,
            "rows": q["rows"],
            "query": shown_query(ctx, now["text"].get(q["id"]), 200),
        }
        for q in window_statements[: int(t.top_queries)]
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
    named = [q for q in queries if q["name"]]
    value = f"top in {seconds(seconds_)}: " + "; ".join(_describe(q) for q in queries[:3])
    details = {"queries": queries, "window": window}
    if slow:
        names = [q["name"] for q in slow if q["name"]]
        hint = (
            "; ".join(f"todoctl explain {n}" for n in dict.fromkeys(names))
            + " shows the plan"
            + ("" if len(names) == len(slow) else "; EXPLAIN the others")
            + ", then add the index they need"
            if names
            else "EXPLAIN the slow ones (todoctl explain sql) and add the index they need"
        )
        return Check("top-queries", Status.WARN, value, threshold, hint, details)
    # The costliest of the app's own queries is where an index pays most: say how to look at it.
    hint = f"todoctl explain {named[0]['name']}" if named and named[0] is top else None
    return Check("top-queries", Status.OK, value, threshold, hint, details)


def _describe(q: dict) -> str:
    """``task-search: 41% of total time, 1,204 calls, mean 3.2 ms``, or the statement's text when it is no named query."""
    label = q["name"] or " ".join((q["query"] or "").split())[:60]
    share = f"{100 * q['share_ratio']:.1f}% of total time, " if q["share_ratio"] is not None else ""
    calls = f"{q['calls']:,} call{'s' if q['calls'] != 1 else ''}"
    return f"{label}: {share}{calls}, mean {ms(q['mean_ms'])}"

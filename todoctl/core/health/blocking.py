"""Health check on locks: chains of sessions waiting on other sessions' locks, from the root blocker down."""

from __future__ import annotations

from typing import Any

from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    above,
    check,
    grade,
    query,
    seconds,
    sessions_hint,
    shown_query,
)

# Every session of this database that waits (pg_blocking_pids is not empty) and every session it
# waits on (todoctl db cancel acts on this database only). The wait is
# measured from pg_locks.waitstart (PostgreSQL 14+), the moment the lock wait began, not from
# the query's start: a query may have run a long time before it queued on a lock.
BLOCKING_SQL = """
WITH waiting AS (
    SELECT pid, pg_blocking_pids(pid) AS blockers
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
      AND cardinality(pg_blocking_pids(pid)) > 0
)
SELECT a.pid, a.usename, a.application_name, a.state, a.query,
       coalesce(w.blockers, '{}') AS blockers,
       extract(epoch FROM clock_timestamp() - coalesce(
           (SELECT min(l.waitstart) FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted),
           a.state_change, a.query_start))::float8 AS wait_s,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start, a.backend_start))::float8
           AS held_s
FROM pg_stat_activity a LEFT JOIN waiting w ON w.pid = a.pid
WHERE a.pid IN (SELECT pid FROM waiting) OR a.pid IN (SELECT unnest(blockers) FROM waiting)
"""


def find_chains(rows: list, show) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(sessions, chains): every session involved, flat, and the trees from each root blocker.

    A root blocker waits on nobody; a session blocked by several others appears under each of them.
    """
    sessions: dict[int, dict[str, Any]] = {}
    for r in rows:
        waits = bool(r.blockers)
        sessions[r.pid] = {
            "pid": r.pid,
            "user": r.usename,
            "application": r.application_name,
            "state": r.state,
            "blocked_by": list(r.blockers),
            "waiting_ms": round(r.wait_s * 1000) if waits else None,
            "transaction_ms": round(r.held_s * 1000) if r.held_s is not None else None,
            "query": show(r.query),
        }
    children: dict[int, list[int]] = {}
    for s in sessions.values():
        for blocker in s["blocked_by"]:
            children.setdefault(blocker, []).append(s["pid"])

    def tree(pid: int, path: frozenset[int]) -> dict[str, Any]:
        node = dict(sessions.get(pid) or {"pid": pid, "blocked_by": [], "query": None})
        node["blocking"] = [tree(c, path | {pid}) for c in sorted(children.get(pid, [])) if c not in path]
        return node

    roots = sorted(pid for pid in children if not (sessions.get(pid) or {}).get("blocked_by"))
    if not roots and children:  # a cycle only (a deadlock the server has not broken yet): start anywhere
        roots = [min(children)]
    return list(sessions.values()), [tree(root, frozenset()) for root in roots]


@check("blocking", "sessions waiting on other sessions' locks, as chains from the root blocker")
def _blocking(ctx: Context) -> Check:
    t = ctx.thresholds
    rows = query(ctx, BLOCKING_SQL)
    sessions, chains = find_chains(rows, lambda sql: shown_query(ctx, sql, 200))
    threshold = above(t.blocking_warn_s, t.blocking_fail_s, "s waiting")
    waiters = [s for s in sessions if s["blocked_by"]]
    if not waiters:
        return Check("blocking", Status.OK, f"none waiting{sessions_hint(ctx)}", threshold, None,
                     {"sessions": [], "chains": [], "longest_wait_ms": 0})
    # Graded on the unrounded wait: a wait of 0.04 s is still above a warn threshold of 0.
    waits = {r.pid: r.wait_s or 0.0 for r in rows if r.blockers}
    longest = next(s for s in waiters if s["pid"] == max(waits, key=waits.get))
    wait = waits[longest["pid"]]
    status = grade(wait, t.blocking_warn_s, t.blocking_fail_s)
    roots = ", ".join(str(c["pid"]) for c in chains)
    value = (
        f"{len(waiters)} waiting; longest {seconds(wait)} (pid {longest['pid']}); "
        f"root blocker{'s' if len(chains) > 1 else ''} pid {roots}"
    )
    hint = None
    if status is not Status.OK:
        root = chains[0]
        # An idle transaction has no query to cancel: only ending its session releases its locks.
        idle = (root.get("state") or "").startswith("idle")
        hint = (
            f"end the root blocker: todoctl db cancel {root['pid']} --terminate (an idle transaction "
            "holds its locks until its session ends)" if idle else
            f"end the root blocker: todoctl db cancel {root['pid']} (its query) or --terminate (its session)"
        ) + "; set lock_timeout in the app"
    return Check(
        "blocking",
        status,
        value,
        threshold,
        hint,
        {"sessions": sessions, "chains": chains, "longest_wait_ms": round(wait * 1000)},
    )

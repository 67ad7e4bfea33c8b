"""Health check on replication: how far standbys and the read replica are behind, and slots holding WAL.

Three views, each where it can be had:

- on a primary, the standbys streaming from it (``pg_stat_replication``: bytes of WAL not yet
  replayed, and the server's own ``replay_lag``), and its replication slots: an *inactive* slot
  keeps every WAL segment since its ``restart_lsn`` until the disk fills;
- on a standby (the URL itself is one: ``pg_is_in_recovery()``), how far its replay is behind
  the WAL it has received;
- through ``DATABASE_URL_REPLICA`` (the read replica an app sends its reads to, as with Neon's
  read replicas), how far that server's replay is behind this primary's current WAL position.

Lag in seconds is, as in PgHero, the time since the standby last replayed a transaction, counted
only while WAL it received waits to be replayed (or WAL is missing and nothing receives it): an
idle primary gives nothing to replay, and that is no lag.
"""

from __future__ import annotations

from typing import Any

from todoctl.core.health.registry import (
    Check,
    Context,
    Status,
    check,
    grade,
    number,
    query,
    seconds,
    severity,
)

MB = 1024 * 1024

# On a primary. Without pg_monitor (pg_read_all_stats) the LSN columns of other roles' senders are NULL.
STANDBYS_SQL = """
SELECT application_name, client_addr::text AS client_addr, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_bytes,
       extract(epoch FROM replay_lag)::float8 AS replay_seconds
FROM pg_stat_replication ORDER BY application_name, client_addr
"""

SLOTS_SQL = """
SELECT slot_name, slot_type, database, active, wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 AS retained_bytes
FROM pg_replication_slots ORDER BY slot_name
"""

# On a standby; :primary_lsn is the primary's current position when known, else what was received.
STANDBY_LAG_SQL = """
SELECT pg_last_wal_receive_lsn()::text AS received_lsn, pg_last_wal_replay_lsn()::text AS replayed_lsn,
       pg_wal_lsn_diff(coalesce(CAST(:primary_lsn AS pg_lsn), pg_last_wal_receive_lsn()),
                       pg_last_wal_replay_lsn())::float8 AS behind_bytes,
       extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS since_replay_s,
       coalesce(pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn(), false) AS replay_pending,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiving,
       pg_is_wal_replay_paused() AS paused
"""


def size(value: float | None) -> str:
    """Bytes as ``0 B``, ``12 kB``, ``1.4 MB``, ``2.0 GB`` (powers of 1024, as pg_size_pretty)."""
    if value is None:
        return "unknown"
    for unit, scale in (("GB", 1024**3), ("MB", MB), ("kB", 1024)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def _lag_status(ctx: Context, behind_bytes: float | None, lag_ms: float | None) -> Status:
    t = ctx.thresholds
    lag_s = None if lag_ms is None else lag_ms / 1000
    by_bytes = Status.OK if behind_bytes is None else grade(
        behind_bytes / MB, t.replication_lag_warn_mb, t.replication_lag_fail_mb
    )
    by_time = Status.OK if lag_s is None else grade(lag_s, t.replication_lag_warn_s, t.replication_lag_fail_s)
    return max(by_bytes, by_time, key=severity)


def _lag_text(behind_bytes: float | None, lag_ms: float | None) -> str:
    return f"{size(behind_bytes)}" + (f" ({seconds(lag_ms / 1000)})" if lag_ms is not None else "") + " behind"


def standby_lag(ctx: Context, primary_lsn: str | None) -> dict[str, Any]:
    """The replay lag of the server ``ctx`` is connected to (``in_recovery`` False: it is no standby)."""
    if not query(ctx, "SELECT pg_is_in_recovery()")[0][0]:
        return {"in_recovery": False}
    row = query(ctx, STANDBY_LAG_SQL, primary_lsn=primary_lsn)[0]
    behind = max(row.behind_bytes, 0.0) if row.behind_bytes is not None else None
    since = round(row.since_replay_s, 1) if row.since_replay_s is not None else None
    # Nothing to replay is no lag, however long ago the last transaction was. Nor is the few bytes
    # a connected standby has not received yet: after an idle hour, the time since its last replay
    # would read as an hour's lag. So time counts only while received WAL waits to be replayed, or
    # while WAL is missing and nothing is receiving it.
    waiting = bool(behind) and (row.replay_pending or not row.receiving)
    return {
        "in_recovery": True,
        "received_lsn": row.received_lsn,
        "replayed_lsn": row.replayed_lsn,
        "behind_bytes": int(behind) if behind is not None else None,
        "lag_ms": round(since * 1000) if waiting and since is not None else (None if waiting else 0),
        "receiving": bool(row.receiving),
        "replay_paused": bool(row.paused),
    }


def _replica(ctx: Context, replica, primary_lsn: str | None) -> dict[str, Any]:
    """The read replica's lag, or why it could not be read (a replica that is down fails the check)."""
    from dataclasses import replace

    from sqlalchemy.exc import DBAPIError

    from todoctl.db.engine import explain_connect_failure, make_engine
    from todoctl.db.url import mask

    found: dict[str, Any] = {"database": replica.display, "source": replica.source}
    engine = make_engine(replica)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            # One attempt: a replica that is down fails this check; exit 3 would hide every other one.
            found["error"] = mask(explain_connect_failure(replica, exc).message)
            return found
        with conn:
            try:
                found.update(standby_lag(replace(ctx, conn=conn, url=replica), primary_lsn))
            except DBAPIError as exc:
                found["error"] = mask(str(exc.orig or exc)).strip().splitlines()[0]
    finally:
        engine.dispose()
    return found


def _threshold(ctx: Context) -> str:
    t = ctx.thresholds
    return (
        f"lag > {number(t.replication_lag_warn_mb)} / {number(t.replication_lag_fail_mb)} MB or "
        f"{number(t.replication_lag_warn_s)} / {number(t.replication_lag_fail_s)}s; inactive slot > "
        f"{number(t.replication_slot_warn_mb)} / {number(t.replication_slot_fail_mb)} MB of WAL"
    )


@check("replication", "replay lag of standbys and the read replica (DATABASE_URL_REPLICA); inactive slots holding WAL")
def _replication(ctx: Context) -> Check:
    from todoctl.db.target import replica as replica_url

    t = ctx.thresholds
    replica = replica_url()  # malformed or empty: exit 3, like DATABASE_URL
    in_recovery = bool(query(ctx, "SELECT pg_is_in_recovery()")[0][0])
    findings: list[tuple[Status, str, str | None]] = []  # (status, what, hint)
    details: dict[str, Any] = {"role": "standby" if in_recovery else "primary", "standbys": [], "slots": [],
                               "self": None, "replica": None}
    primary_lsn = None
    if in_recovery:
        own = standby_lag(ctx, None)
        details["self"] = own
        status = _lag_status(ctx, own["behind_bytes"], own["lag_ms"])
        findings.append((status, "standby: replay " + _lag_text(own["behind_bytes"], own["lag_ms"])
                         + (", replay paused" if own["replay_paused"] else ""), _lag_hint(own)))
    else:
        primary_lsn = query(ctx, "SELECT pg_current_wal_lsn()::text")[0][0]
        details["wal_lsn"] = primary_lsn
        for r in query(ctx, STANDBYS_SQL):
            standby = {
                "application": r.application_name,
                "client_addr": r.client_addr,
                "state": r.state,
                "sync_state": r.sync_state,
                "behind_bytes": int(r.replay_bytes) if r.replay_bytes is not None else None,
                "lag_ms": round(r.replay_seconds * 1000) if r.replay_seconds is not None else None,
            }
            details["standbys"].append(standby)
            findings.append((
                _lag_status(ctx, standby["behind_bytes"], standby["lag_ms"]),
                f"standby {standby['application'] or standby['client_addr'] or '?'} {standby['state'] or '?'}: "
                + _lag_text(standby["behind_bytes"], standby["lag_ms"]),
                "the standby cannot keep up: check its log, its disk and the network between them",
            ))
        for r in query(ctx, SLOTS_SQL):
            slot = {
                "slot": r.slot_name,
                "type": r.slot_type,
                "database": r.database,
                "active": bool(r.active),
                "wal_status": r.wal_status,
                "retained_bytes": int(r.retained_bytes) if r.retained_bytes is not None else None,
            }
            details["slots"].append(slot)
            if not slot["active"]:
                retained = slot["retained_bytes"] or 0
                findings.append((
                    grade(retained / MB, t.replication_slot_warn_mb, t.replication_slot_fail_mb),
                    f"inactive slot {slot['slot']} holds {size(retained)} of WAL",
                    f"a slot nobody reads keeps WAL until the disk fills: start its consumer, or "
                    f"SELECT pg_drop_replication_slot('{slot['slot']}')",
                ))
    if replica is not None:
        # Listed first: of equally bad findings, the replica's (what the app reads from) leads, with its hint.
        findings[:0] = [_replica_finding(ctx, replica, details, primary_lsn)]
    return _verdict(ctx, details, findings)


def _replica_finding(ctx: Context, replica, details: dict, primary_lsn: str | None) -> tuple:
    """DATABASE_URL_REPLICA's finding: down (fail), no replica at all (warn), or its lag graded."""
    found = details["replica"] = _replica(ctx, replica, primary_lsn)
    where = f"replica {replica.display}"
    if "error" in found:
        return (Status.FAIL, f"{where}: {found['error']}",
                f"is the replica running, and does {replica.source} name it?")
    if not found["in_recovery"]:
        return (Status.WARN, f"{where} is not a replica (not in recovery)",
                "DATABASE_URL_REPLICA should name the read replica, not the primary")
    return (
        _lag_status(ctx, found["behind_bytes"], found["lag_ms"]),
        f"{where}: " + _lag_text(found["behind_bytes"], found["lag_ms"])
        + (", replay paused" if found["replay_paused"] else ""),
        _lag_hint(found),
    )


def _lag_hint(found: dict) -> str:
    if found.get("replay_paused"):
        return "replay is paused on it: SELECT pg_wal_replay_resume() there"
    return "the standby cannot keep up or lost its connection to the primary: check its log and the network"


def _verdict(ctx: Context, details: dict, findings: list[tuple[Status, str, str | None]]) -> Check:
    threshold = _threshold(ctx)
    if not findings:
        return Check("replication", Status.OK, f"{details['role']}; no standbys, replication slots or replica",
                     threshold, None, details)
    worst = max((f[0] for f in findings), key=severity)
    # The worst findings first: the value leads with what the status is about.
    ordered = sorted(findings, key=lambda f: -severity(f[0]))
    value = f"{details['role']}; " + "; ".join(f[1] for f in ordered)
    hint = ordered[0][2] if worst is not Status.OK else None
    hidden = any(s["behind_bytes"] is None for s in details["standbys"])
    if hidden and not ctx.sees_all_sessions:
        value += " (this role cannot see the standbys' positions: GRANT pg_monitor TO it)"
    return Check("replication", worst, value, threshold, hint, details)


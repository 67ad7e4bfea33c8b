"""Health: is this database fit to serve?

    report       the run: connect, run the selected checks, probe the pool
    registry     the check framework: statuses, the registry, helpers (read-only queries, grading)
    thresholds   every threshold, from options and TODOCTL_HEALTH_*
    connection   connect, latency, version, ssl, endpoint, migrations
    activity     connections, long queries, idle in transaction (other sessions' SQL masked)
    blocking     chains of sessions waiting on locks, from the root blocker
    indexes      invalid, unused and duplicate indexes
    stats        cache hit over a window, dead tuples, wraparound
    sequences    share of its range each sequence (or its column's type) has used
    replication  standbys' and the read replica's lag (DATABASE_URL_REPLICA), inactive slots holding WAL
    top_queries  pg_stat_statements over a window, matched to the app's named queries
    counters     readings of cumulative counters kept between runs (the window)
    pool         the app's pool (its engine, [tool.todoctl] engine) and the probe through it
"""

from todoctl.core.health.report import CHECK_NAMES, HealthReport, run, selected
from todoctl.core.health.thresholds import Thresholds

__all__ = ["CHECK_NAMES", "HealthReport", "Thresholds", "run", "selected"]

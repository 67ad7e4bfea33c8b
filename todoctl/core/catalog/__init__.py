"""What a live schema holds, read from pg_catalog; used by schema, migrate, health and review.

    snapshot       the shape of a live schema (snapshots and their differences)
    details        sizes, row estimates, index details, foreign keys
    index_overlap  duplicate and redundant indexes (schema lint and health)
    index_builds   INVALID indexes: failed builds told from ones being built now

Modules are imported by their own path (``import todoctl.core.catalog.snapshot as catalog``).
"""

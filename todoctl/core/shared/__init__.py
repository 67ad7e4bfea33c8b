"""What several capabilities share, in one named place.

    catalog          the shape of a live schema (snapshots and their differences)
    catalog_details  sizes, row estimates, index details, foreign keys
    drift            one vocabulary for behind / unknown revision / model change / hand change;
                     drift_classify, drift_models (models vs live), drift_history (history vs live)
    protect          the production mark and the refusals it causes
    revision_gate    require_head: the schema at head, or "run `todoctl migrate up`"
    index_overlap    duplicate and redundant indexes (schema lint and health)
    query_text       other sessions' SQL with its literals masked (libpg_query's lexer)
    sessions         other sessions described safely; who holds locks on the app's tables

Modules are imported by name (``from todoctl.core.shared import protect``).
"""

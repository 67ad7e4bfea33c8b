"""The work, one subpackage per capability; each returns typed results and never prints.

    migrate/   Alembic in-process: moving the database, its lock, timeouts and gates
    seed/      deterministic data by binary COPY: profiles, value pools, rows per table, the load
    explain/   EXPLAIN of named queries and ad-hoc SQL: plans, findings, budgets, baselines
    health/    is the database fit to serve: checks, counters over a window, the app's pool
    schema/    the live schema: show, diff, dump, erd, lint
    db/        the embedded server and the URL todoctl resolves (`todoctl db`)
    review/    `todoctl review`: the database review checklist as one gate

What several capabilities use lives in one place named after what it holds, below them all:

    catalog/       what a live schema holds (snapshots, sizes, index overlap, INVALID indexes)
    history        the migration history, read without a database (Alembic's config, revisions)
    drift/         one drift vocabulary: models vs live, history vs live
    safety/        the production mark, and the revision gate (schema at head)
    sessions/      other sessions described safely, their SQL masked
    sql_names      names and literals quoted as PostgreSQL needs, in the SQL todoctl prints
    app_engine     the app's own engine (``engine`` in ``[tool.todoctl]``), for health and review

Each capability's ``__init__`` exports the functions ``todoctl/cli`` calls; modules of a
package import each other by their own path, never through that ``__init__``.
"""

"""The work, one subpackage per capability; each returns typed results and never prints.

    migrate/   Alembic in-process: moving the database, its lock, timeouts and gates
    seed/      deterministic data by binary COPY: profiles, value pools, rows per table, the load
    explain/   EXPLAIN of named queries and ad-hoc SQL: plans, findings, budgets, baselines
    health/    is the database fit to serve: checks, counters over a window, the app's pool
    schema/    the live schema: show, diff, dump, erd, lint
    db/        the embedded server and the URL todoctl resolves (`todoctl db`)
    shared/    what several capabilities use: catalog reads, drift vocabulary, protection,
               the revision gate, index overlap, masking other sessions' SQL

Each capability's ``__init__`` exports the functions ``todoctl/cli`` calls.
"""

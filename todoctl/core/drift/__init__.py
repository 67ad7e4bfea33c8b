"""Drift: how a database differs from the models and the migration history, in one vocabulary.
(Where a database stands in it, replaying the history when asked: core/migrate/classify.py.)

    vocabulary  the categories (behind / unknown revision / model change / hand change), hints
    models      models vs a live database (Alembic's autogenerate comparison, CHECKs by name)
    history     history vs a live database (catalog differences reworded as drift)

Modules are imported by their own path.
"""

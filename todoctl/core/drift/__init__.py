"""Drift: where a database stands against the models and the migration history, in one vocabulary.

    vocabulary  the categories (behind / unknown revision / model change / hand change), hints
    classify    a database's differences, each in the vocabulary (migrate status/check, schema diff)
    models      models vs a live database (Alembic's autogenerate comparison, CHECKs by name)
    history     history vs a live database (catalog differences reworded as drift)

Modules are imported by their own path.
"""

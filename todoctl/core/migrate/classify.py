"""Drift classification: where a database stands against its revision, the models and the replayed history, each difference in the shared vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import todoctl.core.catalog.snapshot as catalog
from todoctl.core.drift.history import explain_line
from todoctl.core.drift.models import model_drift
from todoctl.core.drift.vocabulary import (
    MODEL_WITHOUT_MIGRATION,
    MODELS_VS_LIVE,
    SchemaDifference,
)
from todoctl.core.migrate.state import MigrationStatus, revision_differences, revision_notes

if TYPE_CHECKING:
    from todoctl.db.url import DatabaseURL

NEVER = "never"  # plain `schema diff`: models vs live only
ALWAYS = "always"  # `schema diff --against history`
TO_BLAME = "to_blame"  # `migrate check`: only when a database at head differs from the models


@dataclass
class Classification:
    status: "MigrationStatus"
    differences: list[SchemaDifference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def classify(url: "DatabaseURL", *, migrations: Path | str | None = None, replay: str = NEVER) -> Classification:
    """Where ``url``'s database stands, each difference in the shared vocabulary.

    ``replay`` says when the history is replayed on a throwaway database to blame a
    difference on the models or on the live database: never, always, or to blame only
    (when a database at head differs from the models; never through a pooled URL).
    """
    from todoctl.core.migrate.state import status as migration_status
    from todoctl.db.engine import connection

    status = migration_status(url, migrations=migrations)
    result = Classification(status, revision_differences(status), revision_notes(status))
    if replay == ALWAYS:
        _blame(url, status, result, migrations)
        return result
    if status.unknown:
        result.notes.append("the live database was not compared with the models: its revision is not in this history")
        return result
    if status.pending:
        where = ", ".join(status.current) or "base"
        result.notes.append(
            f"the database is behind (at {where}, head {', '.join(status.heads) or 'base'}), so it was not compared "
            "with the models: run `todoctl migrate up` first "
            "(`todoctl schema diff --against history` compares it with its own revision now)"
        )
        return result
    with connection(url) as conn:
        drift = model_drift(conn)
    if not drift:
        return result
    if replay == TO_BLAME and not url.is_pooled:
        _blame(url, status, result, migrations)
        return result
    result.differences += [SchemaDifference(MODELS_VS_LIVE, d.kind, d.table, d.name, d.message) for d in drift]
    if replay == TO_BLAME:
        result.notes.append(
            "the history was not replayed through a pooled URL: set DATABASE_URL_UNPOOLED to tell "
            "a missing migration from a hand change"
        )
    return result


def _blame(url: "DatabaseURL", status: "MigrationStatus", result: Classification, migrations) -> None:
    """Replay the history on a throwaway database: models vs history, history vs live."""
    from todoctl.core.migrate.runner import upgrade
    from todoctl.db.engine import connection
    from todoctl.db.scratch import scratch_database

    with connection(url) as conn:
        live = catalog.snapshot(conn)
    with scratch_database(url, "history") as scratch:
        at_live_revision: catalog.SchemaSnapshot | None = None
        if not status.unknown and not status.at_head:
            for revision in status.current:
                upgrade(scratch, revision, migrations=migrations)
            with connection(scratch) as conn:
                at_live_revision = catalog.snapshot(conn)
        upgrade(scratch, "head", migrations=migrations)
        with connection(scratch) as conn:
            at_head = catalog.snapshot(conn)
            drift = model_drift(conn)

    revisions = result.differences
    result.differences = [SchemaDifference(MODEL_WITHOUT_MIGRATION, d.kind, d.table, d.name, d.message) for d in drift]
    if status.unknown:
        result.differences += revisions
        result.notes.append("the live database was not compared with the history: its revision is not in it")
        return
    reference = at_head if at_live_revision is None else at_live_revision
    for line in catalog.differences(reference, live):
        result.differences += explain_line(line, reference, live)
    result.differences += revisions
    if at_live_revision is not None:
        where = ", ".join(status.current) or "base"
        result.notes.append(f"the live database was compared with the history replayed up to its own revision ({where})")

"""`schema diff`: the models, the migration history and the live database, compared.

The classification (core/migrate/classify.py) and its words (core/drift/vocabulary.py) are
shared with `migrate status` and `migrate check`. Against the models (the default) a database at head is compared with the
models, and a difference only says that they disagree; a database behind its history or at
an unknown revision is reported as that and not compared (its missing columns are pending
revisions, not drift). Against the history, the migration scripts are replayed on a
throwaway database, so each difference is blamed on one side, on a database in any state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import todoctl.core.drift.vocabulary as drift
from todoctl.core.drift.vocabulary import (  # noqa: F401  (the vocabulary, re-exported for callers of schema_diff)
    BEHIND_HISTORY,
    CHANGED_BY_HAND,
    HINTS,
    LABELS,
    MODEL_WITHOUT_MIGRATION,
    MODELS_VS_LIVE,
    UNKNOWN_REVISION,
    SchemaDifference,
)
import todoctl.core.migrate.classify as drift_classify
from todoctl.db.url import DatabaseURL
from todoctl.results import human_only


@dataclass
class SchemaDiff:
    database: str = human_only()
    against: str  # "models" | "history"
    current: list[str]
    heads: list[str]
    differences: list[SchemaDifference]
    notes: list[str] = field(default_factory=list)

    __json_properties__ = ("in_sync", "hints")

    @property
    def in_sync(self) -> bool:
        return not self.differences

    @property
    def hints(self) -> dict[str, str]:
        return drift.hints_for(self.differences)


def _diff(url: DatabaseURL, against: str, found: drift_classify.Classification) -> SchemaDiff:
    return SchemaDiff(url.display, against, found.status.current, list(found.status.heads), found.differences, found.notes)


def against_models(url: DatabaseURL, *, migrations: Path | str | None = None) -> SchemaDiff:
    """The models compared with a live database at head; behind or unknown is said as such."""
    return _diff(url, "models", drift_classify.classify(url, migrations=migrations, replay=drift_classify.NEVER))


def against_history(url: DatabaseURL, *, migrations: Path | str | None = None) -> SchemaDiff:
    """Models, migration history and live database compared three ways, each difference blamed."""
    return _diff(url, "history", drift_classify.classify(url, migrations=migrations, replay=drift_classify.ALWAYS))

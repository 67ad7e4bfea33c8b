"""Drift: where a database stands against the models and the migration history, in one
vocabulary that `migrate status`, `migrate check` and `schema diff` all use.

Each difference has a category (JSON ``differences[].category``), a label, and one hint per
category (JSON ``hints``); every category is exit 1:

- behind_history: revisions not applied yet (a database that is only behind is never
  reported as model drift: nothing else is compared until it is at head, unless the history
  is replayed up to its own revision);
- unknown_revision: the database is at a revision these scripts do not know;
- model_without_migration: the models changed and no revision records it (models vs history);
- changed_by_hand: the live database differs from what its own revision should look like;
- models_vs_live: the models and a database at head differ, and the history was not
  replayed to say which side is off (plain `schema diff`, or a pooled URL).

Alembic's autogenerate comparison finds tables, columns, types, nullability, indexes,
unique constraints and foreign keys; it does not look at CHECK constraints, so those are
compared here by name.
"""

from __future__ import annotations

from dataclasses import dataclass


BEHIND_HISTORY = "behind_history"


UNKNOWN_REVISION = "unknown_revision"


MODEL_WITHOUT_MIGRATION = "model_without_migration"


CHANGED_BY_HAND = "changed_by_hand"


MODELS_VS_LIVE = "models_vs_live"


LABELS = {
    BEHIND_HISTORY: "database behind its history",
    UNKNOWN_REVISION: "database at a revision these scripts do not know",
    MODEL_WITHOUT_MIGRATION: "model change with no migration",
    CHANGED_BY_HAND: "live database changed by hand",
    MODELS_VS_LIVE: "models and live database differ",
}


# The same words as core/revision_gate.require_head, which every other command uses.
HINTS = {
    BEHIND_HISTORY: "run `todoctl migrate up`",
    UNKNOWN_REVISION: "the database was migrated by a newer or different checkout: update this one",
    MODEL_WITHOUT_MIGRATION: "write the migration: `todoctl migrate new -m '...'` against a database at head",
    CHANGED_BY_HAND: "undo the change, or record it in a migration so every database gets it",
    MODELS_VS_LIVE: "`todoctl schema diff --against history` tells a missing migration from a hand change",
}


@dataclass(frozen=True)
class SchemaDifference:
    category: str  # one of the constants above
    kind: str  # missing_table, extra_column, type_mismatch, pending_revision, unknown_revision, ...
    table: str
    name: str
    message: str

    __json_properties__ = ("label",)

    @property
    def label(self) -> str:
        return LABELS.get(self.category, self.category)


def hints_for(differences: list[SchemaDifference]) -> dict[str, str]:
    """One hint per category present, in order of first appearance."""
    return {c: HINTS[c] for c in dict.fromkeys(d.category for d in differences) if c in HINTS}

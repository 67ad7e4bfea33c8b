"""One drift vocabulary: `migrate status`, `migrate check` and `schema diff` (plain and
`--against history`) on a real database in each state, with the same categories, words,
hints and exit codes (core/drift/vocabulary.py)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.helpers import copy_migrations
from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.core.drift.vocabulary import (
    BEHIND_HISTORY,
    CHANGED_BY_HAND,
    HINTS,
    LABELS,
    MODEL_WITHOUT_MIGRATION,
    MODELS_VS_LIVE,
    UNKNOWN_REVISION,
)

runner = CliRunner()
ALL = [r.revision for r in migrate.history()]
HEAD = ALL[-1]

COMMANDS = {
    "status": ("migrate", "status"),
    "check": ("migrate", "check"),
    "diff": ("schema", "diff"),
    "history": ("schema", "diff", "--against", "history"),
}

# What each command reports in each state. `migrate status` looks at revisions only (it is
# the fast "where is it" question); the schema is compared by check and diff.
EXPECTED = {
    "behind": {"status": {BEHIND_HISTORY}, "check": {BEHIND_HISTORY}, "diff": {BEHIND_HISTORY}, "history": {BEHIND_HISTORY}},
    "unknown": {
        "status": {UNKNOWN_REVISION},
        "check": {UNKNOWN_REVISION},
        "diff": {UNKNOWN_REVISION},
        "history": {UNKNOWN_REVISION},
    },
    "model_change": {
        "status": set(),
        "check": {MODEL_WITHOUT_MIGRATION},
        "diff": {MODELS_VS_LIVE},
        "history": {MODEL_WITHOUT_MIGRATION},
    },
    "changed_by_hand": {
        "status": set(),
        "check": {CHANGED_BY_HAND},
        "diff": {MODELS_VS_LIVE},
        "history": {CHANGED_BY_HAND},
    },
    "at_head": {"status": set(), "check": set(), "diff": set(), "history": set()},
}


def invoke(url, command: str, *extra: str):
    return runner.invoke(app, ["-d", url.url, *COMMANDS[command], *extra], env={"COLUMNS": "250"})


@pytest.fixture
def database_in(pg, migrated_db, empty_db, tmp_path):
    """``database_in(state) -> (url, extra options)``: a real database put in that state."""

    def make(state: str):
        if state == "behind":
            migrate.downgrade(migrated_db, "-1")
        elif state == "unknown":
            pg.execute("UPDATE alembic_version SET version_num = 'abc123'", database=migrated_db.database)
        elif state == "changed_by_hand":
            pg.execute("ALTER TABLE tasks ADD COLUMN notes text", database=migrated_db.database)
        elif state == "model_change":
            # The history lacks its last revision, so the models' index on tasks has no migration.
            copy = copy_migrations(tmp_path)
            next((copy / "versions").glob(f"{HEAD}_*.py")).unlink()
            migrate.upgrade(empty_db, "head", migrations=copy)
            return empty_db, ("--migrations", str(copy))
        return migrated_db, ()

    return make


@pytest.mark.parametrize("state", list(EXPECTED))
def test_every_gate_speaks_the_same_vocabulary(database_in, state):
    url, extra = database_in(state)
    for command, expected in EXPECTED[state].items():
        result = invoke(url, command, *extra, "--json")
        assert result.exit_code == (1 if expected else 0), (state, command, result.output)
        document = json.loads(result.stdout)
        assert {d["category"] for d in document["differences"]} == expected, (state, command)
        assert document["hints"] == {c: HINTS[c] for c in expected}, (state, command)
        for d in document["differences"]:
            assert d["label"] == LABELS[d["category"]] and set(d) == {"category", "kind", "table", "name", "message", "label"}

        text = invoke(url, command, *extra)
        assert text.exit_code == result.exit_code, (state, command, text.output)
        for category in expected:
            assert f"Hint ({LABELS[category]}): {HINTS[category]}" in text.stdout, (state, command, text.stdout)


def test_behind_is_never_reported_as_model_drift(database_in):
    url, _ = database_in("behind")
    for command in ("check", "diff"):
        result = invoke(url, command)
        assert result.exit_code == 1
        assert f"Behind: {url.display} is at {ALL[-2]}, head {HEAD} (1 pending): run `todoctl migrate up`" in result.stdout
        assert f"revision {HEAD} is not applied" in result.stdout
        # The index the pending revision adds is not listed as a difference from the models.
        assert "ix_tasks_list_due" not in result.stdout and LABELS[MODELS_VS_LIVE] not in result.stdout


def test_the_behind_hint_fixes_it(database_in):
    url, _ = database_in("behind")
    assert runner.invoke(app, ["-d", url.url, "migrate", "up"]).exit_code == 0
    for command in COMMANDS:
        assert invoke(url, command).exit_code == 0, command


def test_check_blames_a_hand_change_in_the_history_s_words(pg, migrated_db):
    pg.execute(
        "DROP INDEX ix_tasks_list_due; ALTER TABLE users ADD COLUMN nickname text; "
        "ALTER TABLE tags ALTER COLUMN name DROP NOT NULL",
        database=migrated_db.database,
    )
    check = json.loads(invoke(migrated_db, "check", "--json").stdout)
    history = json.loads(invoke(migrated_db, "history", "--json").stdout)
    assert check["differences"] == history["differences"]
    assert {(d["category"], d["kind"], d["name"]) for d in check["differences"]} == {
        (CHANGED_BY_HAND, "missing_index", "ix_tasks_list_due"),
        (CHANGED_BY_HAND, "extra_column", "nickname"),
        (CHANGED_BY_HAND, "nullability_mismatch", "name"),
    }
    messages = {d["message"] for d in check["differences"]}
    assert "column users.nickname is in the live database but not in the migration history" in messages
    # The hint fixes it: undone by hand, the gate passes.
    pg.execute(
        "CREATE INDEX ix_tasks_list_due ON tasks (list_id, due_date, id); ALTER TABLE users DROP COLUMN nickname; "
        "ALTER TABLE tags ALTER COLUMN name SET NOT NULL",
        database=migrated_db.database,
    )
    assert invoke(migrated_db, "check").exit_code == 0



def test_the_model_without_migration_hint_fixes_it(database_in):
    url, extra = database_in("model_change")
    assert invoke(url, "check", *extra).exit_code == 1
    written = runner.invoke(app, ["-d", url.url, "migrate", "new", "-m", "list order index", *extra])
    assert written.exit_code == 0, written.output
    assert runner.invoke(app, ["-d", url.url, "migrate", "up", *extra]).exit_code == 0
    result = invoke(url, "check", *extra)
    assert result.exit_code == 0, result.output


def test_the_unknown_revision_hint_fixes_it(migrated_db, tmp_path):
    # An older checkout (without the last revision) sees a database a newer one migrated.
    old = copy_migrations(tmp_path)
    next((old / "versions").glob(f"{HEAD}_*.py")).unlink()
    result = invoke(migrated_db, "check", "--migrations", str(old), "--json")
    assert result.exit_code == 1
    assert [(d["category"], d["name"]) for d in json.loads(result.stdout)["differences"]] == [(UNKNOWN_REVISION, HEAD)]
    assert invoke(migrated_db, "check").exit_code == 0  # this checkout, up to date

"""`migrate status` lists every revision applied or pending (Django's showmigrations, dbmate's status),
and its exit code is dbmate's --exit-code / Prisma's migrate status (exit 1 when not at head)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]


def status(url, *args: str):
    return runner.invoke(app, ["-d", url.url, "migrate", "status", *args])


def test_each_revision_is_listed_applied_or_pending(migrated_db):
    migrate.downgrade(migrated_db, "-2")
    result = status(migrated_db)
    assert result.exit_code == 1
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("[")]
    assert [line[4:].split()[0] for line in lines] == HISTORY
    assert all(line.startswith("[X]") for line in lines[:-2]) and all(line.startswith("[ ]") for line in lines[-2:])
    assert lines[-3].endswith("(current)")
    assert f"applied: {len(HISTORY) - 2}    pending: 2" in result.stdout


def test_json_lists_the_revisions(empty_db):
    document = json.loads(status(empty_db, "--json").stdout)
    assert [(r["revision"], r["applied"], r["current"]) for r in document["revisions"]] == [(i, False, False) for i in HISTORY]


def test_at_head_exits_0_with_every_revision_applied(migrated_db):
    result = status(migrated_db, "--exit-code", "--json")
    assert result.exit_code == 0
    assert all(r["applied"] for r in json.loads(result.stdout)["revisions"])


def test_exit_code_is_the_default_and_no_exit_code_turns_it_off(empty_db):
    assert status(empty_db).exit_code == 1
    assert status(empty_db, "--exit-code").exit_code == 1
    result = status(empty_db, "--no-exit-code", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["ok"] is True and json.loads(result.stdout)["at_head"] is False


def test_unknown_revision_is_marked_unknown(pg, migrated_db):
    pg.execute("UPDATE alembic_version SET version_num = 'f00d'", database=migrated_db.database)
    result = status(migrated_db)
    assert result.exit_code == 1
    assert "[?] " + HISTORY[0] in result.stdout

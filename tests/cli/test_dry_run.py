"""`--dry-run` on every command that changes something: it says what would run and the database is
unchanged (catalog snapshot, recorded revision, row counts and protection mark compared)."""

from __future__ import annotations

import json

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import schema_snapshot
from todoctl.cli.app import app
from todoctl.core import migrate
import todoctl.core.safety.protect as protect
from todoctl.db import embedded
from todoctl.todo.models import APP_TABLES

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]
HEAD = HISTORY[-1]


def invoke(url, *args: str, **env: str):
    return runner.invoke(app, ["-d", url.url, *args], env=env or None)


def state_of(pg, url) -> tuple:
    """Everything a command could change: the catalog, the revision, the rows, the protection mark."""
    def rows(sql: str):
        try:
            return pg.execute(sql, database=url.database)
        except psycopg.errors.UndefinedTable:
            return None

    counts = {t: rows(f"SELECT count(*) FROM {t}") for t in APP_TABLES}
    return (
        schema_snapshot(url),
        rows("SELECT version_num FROM alembic_version"),
        counts,
        rows("SELECT key, value FROM todoctl_meta"),
    )


def dry_run(pg, url, *args: str, **env: str):
    before = state_of(pg, url)
    result = invoke(url, *args, "--dry-run", **env)
    assert state_of(pg, url) == before, "a dry run changed the database"
    return result


def test_migrate_up(pg, migrated_db):
    migrate.downgrade(migrated_db, "-2")
    result = dry_run(pg, migrated_db, "migrate", "up")
    assert result.exit_code == 0, result.output
    assert f"↑ {HISTORY[-2]}" in result.stdout and f"↑ {HEAD}" in result.stdout and "Nothing changed" in result.stdout


def test_migrate_upgrade_alias_json(pg, empty_db):
    result = dry_run(pg, empty_db, "migrate", "upgrade", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["dry_run"] is True and document["after"] == [HEAD]
    assert [s["revision"] for s in document["steps"]] == HISTORY


def test_migrate_down(pg, seeded_db):
    url = seeded_db("small")
    result = dry_run(pg, url, "migrate", "down", "-2")
    assert result.exit_code == 0, result.output
    assert f"↓ {HEAD}" in result.stdout and f"↓ {HISTORY[-2]}" in result.stdout and f"to {HISTORY[-3]}" in result.stdout


def test_migrate_reset(pg, seeded_db):
    url = seeded_db("small")
    result = dry_run(pg, url, "migrate", "reset", "--json")  # no --yes needed: nothing is changed
    assert result.exit_code == 0, result.output
    steps = [(s["revision"], s["direction"]) for s in json.loads(result.stdout)["steps"]]
    assert steps == [*((r, "down") for r in reversed(HISTORY)), *((r, "up") for r in HISTORY)]


def test_migrate_stamp(pg, migrated_db):
    result = dry_run(pg, migrated_db, "migrate", "stamp", HISTORY[0])
    assert result.exit_code == 0, result.output
    assert f"{HEAD} -> {HISTORY[0]}" in result.stdout


def test_a_dry_run_is_refused_where_the_real_run_would_be(pg, seeded_db):
    url = seeded_db("small")
    protect.protect(url, "prod")
    for args in (("migrate", "down"), ("migrate", "reset", "--yes"), ("migrate", "stamp", "base")):
        result = dry_run(pg, url, *args)
        assert result.exit_code == 4, (args, result.output)
        assert "protected" in result.stderr


def test_seed(pg, migrated_db):
    result = dry_run(pg, migrated_db, "seed", "--users", "5")
    assert result.exit_code == 0, result.output


def test_db_protect_and_unprotect(pg, migrated_db):
    result = dry_run(pg, migrated_db, "db", "protect", "--reason", "prod")
    assert result.exit_code == 0, result.output
    assert "would mark" in result.stdout
    protect.protect(migrated_db, "prod")
    result = dry_run(pg, migrated_db, "db", "unprotect")  # refused as the real run would be
    assert result.exit_code == 4, result.output
    result = dry_run(pg, migrated_db, "db", "unprotect", "--yes", TODOCTL_ALLOW_PRODUCTION="1")
    assert result.exit_code == 0, result.output
    assert "would remove the production mark" in result.stdout


def test_db_cancel(pg, migrated_db):
    with psycopg.connect(migrated_db.libpq, autocommit=True) as other:
        pid = other.info.backend_pid
        result = dry_run(pg, migrated_db, "db", "cancel", str(pid), "--terminate", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["would"].startswith("end the session of")
        assert other.execute("SELECT 1").fetchone() == (1,)  # the session was not ended


@pytest.mark.parametrize("command", ["start", "stop"])
def test_db_start_and_stop_leave_the_embedded_server_alone(command):
    running = embedded.inspect().running
    result = runner.invoke(app, ["db", command, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Dry run: would ")
    assert embedded.inspect().running == running


def _commands(group, path=()):
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_that_asks_for_confirmation_has_a_dry_run():
    import typer.main

    root = typer.main.get_command(app)
    missing = []
    for path, command in _commands(root):
        names = {opt for p in command.params for opt in getattr(p, "opts", ())}
        if "--yes" in names and "--dry-run" not in names:
            missing.append(" ".join(path))
    assert not missing, f"commands that change something without --dry-run: {missing}"

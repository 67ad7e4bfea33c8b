"""`migrate reset` (Prisma's): down to base and up again, with confirmation, protection and interrupt safety."""

from __future__ import annotations

import json
import signal

from typer.testing import CliRunner

from tests.cli.migrate.test_migrate_interrupts import ROW_EXCLUSIVE, blocked_in, holding, lock_free, todoctl_sessions
from tests.helpers import start_todoctl, wait_for
from todoctl.cli.app import app
from todoctl.core import migrate
import todoctl.core.safety.protect as protect

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]
HEAD = HISTORY[-1]


def reset(url, *args: str, **env: str):
    return runner.invoke(app, ["-d", url.url, "migrate", "reset", *args], env=env or None)


def users(pg, url) -> int:
    return pg.execute("SELECT count(*) FROM users", database=url.database)[0][0]


def test_reset_empties_and_migrates_again(pg, seeded_db):
    url = seeded_db("small")
    assert users(pg, url) > 0
    result = reset(url, "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["before"] == [HEAD] and document["after"] == [HEAD]
    assert [(s["revision"], s["direction"]) for s in document["steps"]] == [
        *((r, "down") for r in reversed(HISTORY)),
        *((r, "up") for r in HISTORY),
    ]
    assert users(pg, url) == 0


def test_reset_of_a_database_behind_head_ends_at_head(migrated_db):
    migrate.downgrade(migrated_db, "-2")
    result = reset(migrated_db, "--yes")
    assert result.exit_code == 0, result.output
    assert migrate.status(migrated_db).current == [HEAD]


def test_without_a_terminal_reset_needs_yes(pg, seeded_db):
    url = seeded_db("small")
    before = users(pg, url)
    result = reset(url)
    assert result.exit_code == 4
    assert "confirmation needed" in result.stderr and "--yes" in result.stderr
    assert users(pg, url) == before


def test_reset_is_refused_on_a_protected_database(pg, seeded_db, monkeypatch):
    url = seeded_db("small")
    protect.protect(url, "prod")
    before = users(pg, url)
    result = reset(url, "--yes")
    assert result.exit_code == 4
    assert "protected" in result.stderr and "TODOCTL_ALLOW_PRODUCTION" in result.stderr
    assert users(pg, url) == before
    monkeypatch.setenv("TODOCTL_ALLOW_PRODUCTION", "1")
    assert reset(url, "--yes").exit_code == 0
    assert users(pg, url) == 0


def test_ctrl_c_during_reset_rolls_back_the_revision_and_releases_the_lock(migrated_db):
    with holding(migrated_db, ROW_EXCLUSIVE):  # the downgrade of HEAD alters tasks or builds an index: it waits
        process = start_todoctl("-d", migrated_db.url, "migrate", "reset", "--yes", "--lock-timeout", "10min")
        try:
            assert wait_for(
                lambda: blocked_in(migrated_db, "INDEX CONCURRENTLY") or blocked_in(migrated_db, "ALTER TABLE")
            ), process.stderr
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, stderr
    assert f"interrupted during downgrade from {HEAD}" in stderr and "the database is at" in stderr
    assert lock_free(migrated_db) and todoctl_sessions(migrated_db) == 0
    assert migrate.status(migrated_db).current == [HEAD]

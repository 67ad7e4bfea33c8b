"""`migrate sql REV` (Django's sqlmigrate), `--down`, and downgrade ranges (Alembic's offline mode)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]
HEAD, BEFORE_HEAD = HISTORY[-1], HISTORY[-2]
CLOSED = "postgresql://u@127.0.0.1:1/nothing"  # nothing listens: these need no database


def sql(*args: str):
    return runner.invoke(app, ["-d", CLOSED, "migrate", "sql", *args])


def test_one_revision_prints_its_upgrade_only():
    result = sql(HEAD)
    assert result.exit_code == 0, result.output
    assert f"Running upgrade {BEFORE_HEAD} -> {HEAD}" in result.stdout
    assert "INDEX" in result.stdout  # what the revision does (0007 and 0008 build indexes), not only the SETs
    assert "Running upgrade " + HISTORY[0] not in result.stdout and "Running downgrade" not in result.stdout


def test_head_is_the_head_revision():
    assert sql("head").stdout == sql(HEAD).stdout


def test_the_first_revision_starts_at_base():
    result = sql(HISTORY[0])
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE users" in result.stdout and f"Running upgrade  -> {HISTORY[0]}" in result.stdout


def test_down_prints_the_revisions_downgrade():
    result = sql(HEAD, "--down")
    assert result.exit_code == 0, result.output
    assert f"Running downgrade {HEAD} -> {BEFORE_HEAD}" in result.stdout
    assert "Running upgrade" not in result.stdout


def test_a_range_from_newer_to_older_is_the_downgrade():
    result = sql(f"{HEAD}:{BEFORE_HEAD}")
    assert result.exit_code == 0, result.output
    assert f"Running downgrade {HEAD} -> {BEFORE_HEAD}" in result.stdout
    assert result.stdout == sql(HEAD, "--down").stdout


def test_a_downgrade_range_to_base_undoes_everything():
    result = runner.invoke(app, ["-d", CLOSED, "migrate", "sql", "head:base", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["direction"] == "down"
    assert "DROP TABLE users" in document["sql"]


def test_an_upgrade_range_still_goes_up():
    result = runner.invoke(app, ["-d", CLOSED, "migrate", "sql", f"{BEFORE_HEAD}:{HEAD}", "--json"])
    document = json.loads(result.stdout)
    assert document["direction"] == "up" and f"Running upgrade {BEFORE_HEAD} -> {HEAD}" in document["sql"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((f"{BEFORE_HEAD}:{HEAD}", "--down"), f"{HEAD}:{BEFORE_HEAD}"),
        (("base", "--down"), "base is not a revision"),
        (("--down",), "--down needs a revision"),
        (("nope",), "unknown revision 'nope'"),
    ],
)
def test_impossible_requests_are_usage_errors(args, says):
    result = sql(*args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr


def test_the_same_revision_twice_is_nothing_to_do():
    result = sql(f"{HEAD}:head")
    assert result.exit_code == 0
    assert result.stdout.startswith("-- nothing to migrate")

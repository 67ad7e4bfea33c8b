"""Every command that changes a database names it before it starts: a `target:` line on stderr,
a `target_database` object in its JSON (success and error documents alike)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()
SENTINEL = "Tg7/pw#x?y@z%Sentinel"


def with_password(url) -> str:
    """The test URL with a password in it (the test server trusts local sockets, so it is ignored)."""
    return url.url.replace("://postgres@", f"://postgres:{quote(SENTINEL, safe='')}@", 1)


def invoke(url, *args: str):
    result = runner.invoke(app, ["-d", with_password(url), *args])
    assert SENTINEL not in result.output and quote(SENTINEL, safe="") not in result.output
    return result


def expected_target(url) -> dict:
    masked = url.libpq.replace("://postgres@", "://postgres:***@", 1)
    return {"url": masked, "name": url.database, "source": "--database-url", "origin": None}


CHANGING = [
    ("empty", ("migrate", "up"), 0),
    ("migrated", ("migrate", "down"), 0),
    ("migrated", ("migrate", "stamp", "0006"), 0),
    ("migrated", ("seed", "--profile", "small"), 0),
    ("migrated", ("db", "protect", "--reason", "test"), 0),
    ("migrated", ("db", "unprotect", "--yes"), 0),
    ("migrated", ("schema", "diff", "--against", "history"), 0),
    ("migrated", ("migrate", "verify"), 0),
]


@pytest.mark.parametrize("kind, args, code", CHANGING, ids=[" ".join(a) for _, a, _ in CHANGING])
def test_a_changing_command_names_its_target_in_json(empty_db, migrated_db, kind, args, code):
    url = empty_db if kind == "empty" else migrated_db
    result = invoke(url, *args, "--json")
    assert result.exit_code == code, result.output
    assert json.loads(result.stdout)["target_database"] == expected_target(url)
    assert "target:" not in result.stderr  # JSON mode: the document says it


@pytest.mark.parametrize("kind, args, code", CHANGING[:4], ids=[" ".join(a) for _, a, _ in CHANGING[:4]])
def test_a_changing_command_names_its_target_on_stderr_first(empty_db, migrated_db, kind, args, code):
    url = empty_db if kind == "empty" else migrated_db
    result = invoke(url, *args)
    assert result.exit_code == code, result.output
    first = result.stderr.splitlines()[0]
    assert first == f"target: {expected_target(url)['url']} (from --database-url)"
    assert "target:" not in result.stdout


@pytest.mark.parametrize("args", [("migrate", "status"), ("schema", "show"), ("db", "protection")])
def test_commands_that_only_read_announce_nothing_but_name_it_in_json(migrated_db, args):
    result = invoke(migrated_db, *args, "--json")
    assert result.exit_code == 0, result.output
    # One JSON vocabulary: every document about a database names it the same way.
    assert json.loads(result.stdout)["target_database"] == expected_target(migrated_db)
    assert "target:" not in invoke(migrated_db, *args).output


def test_a_refusal_carries_the_target_too(migrated_db):
    assert invoke(migrated_db, "db", "protect").exit_code == 0
    result = invoke(migrated_db, "migrate", "down", "--json")
    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["target_database"] == expected_target(migrated_db)


def test_the_source_names_the_environment_or_the_dotenv_line(migrated_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", with_password(migrated_db))
    result = runner.invoke(app, ["db", "protect"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].endswith("(from DATABASE_URL)")

    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / ".env").write_text(f"# local\nDATABASE_URL={with_password(migrated_db)}\n")
    result = runner.invoke(app, ["db", "unprotect", "--yes", "--json"], env={"TODOCTL_ALLOW_PRODUCTION": "1"})
    assert result.exit_code == 0, result.output
    target = json.loads(result.stdout)["target_database"]
    assert target["source"] == "DATABASE_URL (.env)" and target["origin"] == f"{tmp_path / '.env'} line 2"
    assert SENTINEL not in result.output

"""`todoctl migrate` through the CLI: exit code first, then output."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from todoctl import __version__
from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HEAD = migrate.history()[-1].revision
SENTINEL = "pw-Sentinel-7781"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"todoctl {__version__}"


def test_up_status_down_with_json(empty_db):
    status = invoke("-d", empty_db.url, "migrate", "status", "--json")
    assert status.exit_code == 1  # pending migrations: the check fails
    document = json.loads(status.stdout)
    assert document["at_head"] is False and len(document["pending"]) == len(migrate.history())

    up = invoke("-d", empty_db.url, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    document = json.loads(up.stdout)
    assert document["ok"] is True and document["after"] == [HEAD]
    assert [s["revision"] for s in document["steps"]] == [r.revision for r in migrate.history()]

    status = invoke("-d", empty_db.url, "migrate", "status")
    assert status.exit_code == 0
    assert "at head" in status.stdout

    down = invoke("-d", empty_db.url, "migrate", "down", "-2")
    assert down.exit_code == 0, down.output
    assert "Now at" in down.stdout
    assert migrate.status(empty_db).current == [migrate.history()[-3].revision]


def test_history_needs_no_database():
    result = invoke("-d", "postgresql://u:p@127.0.0.1:1/none", "migrate", "history", "--json")
    assert result.exit_code == 0
    assert [r["revision"] for r in json.loads(result.stdout)["revisions"]] == [r.revision for r in migrate.history()]


def test_unknown_revision_is_exit_2(migrated_db):
    result = invoke("-d", migrated_db.url, "migrate", "up", "nope")
    assert result.exit_code == 2
    assert "unknown revision 'nope'" in result.stderr
    assert "Hint:" in result.stderr


def test_malformed_url_is_exit_3_without_the_password():
    result = invoke("-d", f"postgresql://me:{SENTINEL}@host:port/db", "migrate", "status")
    assert result.exit_code == 3
    assert "malformed database URL" in result.stderr
    assert SENTINEL not in result.output + result.stderr


def test_unreachable_server_is_exit_3_without_the_password():
    for args in (("migrate", "status"), ("migrate", "up"), ("migrate", "status", "--json")):
        result = invoke("-d", f"postgresql://me:{SENTINEL}@127.0.0.1:1/app", "--verbose", *args)
        assert result.exit_code == 3, result.output
        assert "connection refused" in (result.stderr + result.stdout)
        assert SENTINEL not in result.output + result.stderr


def test_errors_are_json_in_json_mode():
    result = invoke("-d", "postgresql://u:p@127.0.0.1:1/app", "migrate", "status", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3 and error["kind"] == "connection" and error["hint"]


def test_usage_errors_are_exit_2():
    result = invoke("migrate", "up", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    result = invoke("migrate", "up", "--no-such-option", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "usage"

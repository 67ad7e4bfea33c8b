"""A configured DATABASE_URL that cannot be used is an error (exit 3), never the embedded server."""

from __future__ import annotations

import os

import pytest

from todoctl.db.target import configured_url
from todoctl.errors import ExitCode, TodoctlError

SENTINEL = "s3cr3t-Dotenv-pw"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "DATABASE_URL_UNPOOLED"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _error(direct: bool = False) -> TodoctlError:
    with pytest.raises(TodoctlError) as caught:
        configured_url(None, direct=direct)
    assert caught.value.exit_code == ExitCode.CONNECTION
    assert SENTINEL not in caught.value.message + (caught.value.hint or "")
    return caught.value


def test_nothing_configured_means_the_embedded_server(project):
    (project / ".env").write_text("OTHER=1\n")
    assert configured_url(None) is None


@pytest.mark.parametrize(
    "line",
    [
        f'DATABASE_URL="postgresql://app:{SENTINEL}@db.example.com/app',  # unterminated quote
        f"DATABASE_URL postgresql://app:{SENTINEL}@db.example.com/app",  # no '='
        f"export DATABASE_URL 'postgresql://app:{SENTINEL}@db.example.com/app'",
    ],
)
def test_an_unparseable_dotenv_line_is_exit_3_with_its_line_number(project, line):
    (project / ".env").write_text(f"# settings\nOTHER=1\n{line}\nLATER=2\n")
    error = _error()
    assert f"{project / '.env'} line 3" in error.message
    assert "DATABASE_URL" in error.message and error.hint


@pytest.mark.parametrize("line", ["DATABASE_URL=", "DATABASE_URL", "DATABASE_URL=''", "DATABASE_URL=${NOT_SET_ANYWHERE}"])
def test_an_empty_dotenv_value_is_exit_3(project, line):
    (project / ".env").write_text(f"{line}\n")
    error = _error()
    assert "line 1" in error.message and "empty" in error.message


def test_a_dotenv_file_that_is_not_utf8_is_exit_3(project):
    (project / ".env").write_bytes(b"OTHER=1\nDATABASE_URL=postgresql://app:caf\xe9@db.example.com/app\n")
    error = _error()
    assert "line 2" in error.message and "UTF-8" in error.message


def test_an_empty_environment_value_is_exit_3(project, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")
    error = _error()
    assert "environment" in error.message and "empty" in error.message


def test_an_undecodable_environment_value_is_exit_3(project, monkeypatch):
    # What Python makes of non-UTF-8 bytes in the environment (surrogateescape).
    monkeypatch.setenv("DATABASE_URL", os.fsdecode(b"postgresql://app:caf\xe9@db.example.com/app"))
    error = _error()
    assert "UTF-8" in error.message


def test_an_unusable_unpooled_url_is_exit_3_for_schema_changes(project, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db.example.com/app")
    monkeypatch.setenv("DATABASE_URL_UNPOOLED", "")
    error = _error(direct=True)
    assert "DATABASE_URL_UNPOOLED" in error.message
    assert configured_url(None).host == "db.example.com"  # commands that read do not use it


def test_the_environment_layer_wins_whole_over_a_dotenv_unpooled_url(project, monkeypatch):
    # The bug of issue 26: .env's DATABASE_URL_UNPOOLED was mixed with the environment's DATABASE_URL.
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db.example.com/app")
    (project / ".env").write_text("DATABASE_URL_UNPOOLED=postgresql://app:pw@other.example.com/other\n")
    for direct in (True, False):
        url = configured_url(None, direct=direct)
        assert (url.host, url.source) == ("db.example.com", "DATABASE_URL")


def test_the_environment_wins_over_a_broken_dotenv(project, monkeypatch):
    (project / ".env").write_text('DATABASE_URL="broken\n')
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@env-host/app")
    assert configured_url(None).host == "env-host"


def test_a_dotenv_url_names_its_file_and_line_and_interpolates(project, monkeypatch):
    monkeypatch.setenv("DB_HOST", "interpolated-host")
    (project / ".env").write_text("BROKEN LINE\nDATABASE_URL=postgresql://app:pw@${DB_HOST}/app\n")
    url = configured_url(None)
    assert url.host == "interpolated-host"
    assert url.source == "DATABASE_URL (.env)" and url.origin == f"{project / '.env'} line 2"


def test_interpolation_reads_the_environment_before_the_file_as_load_dotenv_does(project, monkeypatch):
    """The app's load_dotenv() resolves ${X} from the environment first; todoctl must target the
    same database (attack pass 2, F8: it read the file's X and targeted another one)."""
    from dotenv import load_dotenv

    monkeypatch.setenv("X", "third")
    (project / ".env").write_text("X=other\nDATABASE_URL=postgresql://app:pw@h/${X}\n")
    assert configured_url(None).database == "third"
    # Recorded first, so the teardown restores the variable as it was before this test (load_dotenv
    # sets it behind monkeypatch's back: left set, it leaked into every later test).
    monkeypatch.setenv("DATABASE_URL", "placeholder")
    monkeypatch.delenv("DATABASE_URL")
    load_dotenv(project / ".env")  # what the app sees
    assert os.environ["DATABASE_URL"].endswith("/third")
    monkeypatch.delenv("X")
    monkeypatch.delenv("DATABASE_URL")
    assert configured_url(None).database == "other"  # nothing in the environment: the file's X


# Through the CLI: exit 3, one error naming the source, and no embedded server started.


@pytest.fixture
def cli(project, monkeypatch):
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    home = project / "home"
    monkeypatch.setenv("TODOCTL_HOME", str(home))

    def invoke(*args: str):
        result = CliRunner().invoke(app, list(args))
        assert SENTINEL not in result.output
        assert not (home / "pgdata").exists()  # the embedded server was not the fall-back
        return result

    return invoke


@pytest.mark.parametrize("args", [("migrate", "up"), ("seed", "--users", "1"), ("migrate", "status"), ("db", "status")])
def test_a_broken_dotenv_line_stops_every_command_with_exit_3(project, cli, args):
    (project / ".env").write_text(f"A=1\nDATABASE_URL 'postgresql://app:{SENTINEL}@db.example.com/app'\n")
    result = cli(*args)
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Error: DATABASE_URL in ") and lines[0].endswith(".env line 2 cannot be parsed by python-dotenv")
    assert lines[1].startswith("Hint: ")


def test_an_empty_environment_value_stops_the_command_in_json(project, cli, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")
    result = cli("migrate", "up", "--json")
    assert result.exit_code == 3
    import json

    error = json.loads(result.stdout)["error"]
    assert "DATABASE_URL in the environment is set but empty" == error["message"] and error["hint"]


def test_an_undecodable_environment_value_in_a_real_process_is_exit_3(tmp_path):
    from tests.helpers import run_todoctl

    raw = os.fsdecode(b"postgresql://app:caf\xe9-" + SENTINEL.encode() + b"@db.example.com/app")
    result = run_todoctl("migrate", "up", DATABASE_URL=raw, TODOCTL_HOME=str(tmp_path / "home"))
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: the database URL from DATABASE_URL is not valid UTF-8 text\nHint: ")
    assert SENTINEL not in result.stdout + result.stderr
    assert not (tmp_path / "home" / "pgdata").exists()

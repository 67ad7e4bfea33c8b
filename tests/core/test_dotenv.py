"""A configured DATABASE_URL that cannot be used is an error (exit 3), never the embedded server."""

from __future__ import annotations

import os

import pytest

from todoctl.db.url import configured_url
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
    (project / ".env").write_text("DATABASE_URL_UNPOOLED=\n")
    error = _error(direct=True)
    assert "DATABASE_URL_UNPOOLED" in error.message
    assert configured_url(None).host == "db.example.com"  # commands that read do not use it


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

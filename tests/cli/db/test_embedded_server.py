"""The embedded server in real life: many commands at once on a fresh home, stale pid files,
odd paths, unusable homes. Each test has its own TODOCTL_HOME and stops its own server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_todoctl, start_todoctl


@pytest.fixture
def home_factory(tmp_path):
    """``make(path) -> path``: a TODOCTL_HOME whose server is stopped (by `todoctl db stop`) after the test."""
    homes: list[Path] = []

    def make(path: Path | None = None) -> Path:
        home = path or tmp_path / "home"
        homes.append(home)
        return home

    yield make
    for home in homes:
        run_todoctl("db", "stop", TODOCTL_HOME=str(home))


def todoctl(home: Path, *args: str) -> subprocess.CompletedProcess:
    return run_todoctl(*args, TODOCTL_HOME=str(home))


def assert_clean_failure(result: subprocess.CompletedProcess, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and "\nHint: " in result.stderr


def test_ten_commands_started_at_once_on_a_fresh_home_all_succeed(home_factory):
    home = home_factory()
    commands = [("schema", "show"), ("db", "protection"), ("migrate", "status", "--json"), ("db", "start")] * 2
    commands += [("schema", "show", "--json"), ("db", "protection", "--json")]
    processes = [start_todoctl(*command, TODOCTL_HOME=str(home)) for command in commands]
    results = [(command, *process.communicate(timeout=300), process.returncode) for command, process in zip(commands, processes)]
    for command, stdout, stderr, code in results:
        # migrate status exits 1 on a database behind head, as it should; nothing else fails.
        expected = 1 if command[0] == "migrate" else 0
        assert code == expected, f"{command}: {stderr}"
        assert "Error" not in stderr, f"{command}: {stderr}"
    status = json.loads(todoctl(home, "db", "status", "--json").stdout)
    assert status["running"]


def _stale_pidfile(home: Path, pid: int) -> Path:
    """Start and stop the server, then leave a postmaster.pid naming ``pid`` as a running server."""
    started = todoctl(home, "db", "start")
    assert started.returncode == 0, started.stderr
    pidfile = home / "pgdata" / "postmaster.pid"
    lines = pidfile.read_text().splitlines()
    assert todoctl(home, "db", "stop").returncode == 0
    assert not pidfile.exists()
    pidfile.write_text("\n".join([str(pid), *lines[1:]]) + "\n")
    return pidfile


def test_a_stale_pid_file_of_a_dead_process_is_recovered(home_factory):
    home = home_factory()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    pidfile = _stale_pidfile(home, gone.pid)
    result = todoctl(home, "schema", "show", "--json")
    assert result.returncode == 0, result.stderr
    assert int(pidfile.read_text().split()[0]) != gone.pid


def test_a_stale_pid_file_whose_pid_now_belongs_to_another_process_is_recovered(home_factory):
    home = home_factory()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        pidfile = _stale_pidfile(home, bystander.pid)
        status = todoctl(home, "db", "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["running"] is False
        result = todoctl(home, "schema", "show", "--json")
        assert result.returncode == 0, result.stderr
        assert int(pidfile.read_text().split()[0]) != bystander.pid
        assert bystander.poll() is None  # the unrelated process was left alone
    finally:
        bystander.kill()
        bystander.wait()


def test_a_home_with_spaces_and_non_ascii_characters_works(home_factory, tmp_path):
    home = home_factory(tmp_path / "my data ö" / "to do")
    result = todoctl(home, "migrate", "up", "--json")
    assert result.returncode == 0, result.stderr
    assert todoctl(home, "migrate", "status").returncode == 0


def test_a_home_too_long_for_a_unix_socket_puts_the_socket_elsewhere(home_factory, tmp_path):
    home = home_factory(tmp_path / ("h" * 60) / ("o" * 60))
    assert len(str(home / "pgdata" / ".s.PGSQL.5432")) > 107
    result = todoctl(home, "schema", "show", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(todoctl(home, "db", "status", "--json").stdout)
    assert status["running"] and str(home) not in status["target_database"]["url"]


def test_a_home_that_is_a_file_is_exit_3_with_a_hint(tmp_path):
    home = tmp_path / "not-a-directory"
    home.write_text("")
    for args in (("schema", "show"), ("db", "start")):
        result = todoctl(home, *args)
        assert_clean_failure(result, 3)
        assert "is a file" in result.stderr and "TODOCTL_HOME" in result.stderr
    result = todoctl(home / "below", "migrate", "up")  # ENOTDIR: unwritable even for root
    assert_clean_failure(result, 3)


def test_a_home_on_a_read_only_file_system_is_exit_3(tmp_path):
    mountpoint = tmp_path / "read-only"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mountpoint)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        result = todoctl(mountpoint / "home", "seed", "--users", "1")
        assert_clean_failure(result, 3)
        assert "Read-only file system" in result.stderr
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_the_socket_directory_of_a_short_home_is_the_data_directory(tmp_path):
    from todoctl.db.embedded import socket_dir_for

    assert socket_dir_for(tmp_path / "pgdata") == tmp_path / "pgdata"
    long = tmp_path / ("x" * 120) / "pgdata"
    assert socket_dir_for(long) != long and len(os.fsencode(socket_dir_for(long))) < 60


def test_a_home_pg_ctl_cannot_quote_is_exit_3_with_a_hint(tmp_path):
    result = todoctl(tmp_path / "cost$HOME", "schema", "show")
    assert_clean_failure(result, 3)
    assert "pg_ctl cannot work in a path containing $" in result.stderr


def test_db_status_reports_a_home_that_is_a_file_as_stopped(tmp_path):
    home = tmp_path / "file"
    home.write_text("")
    result = todoctl(home, "db", "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["running"] is False


def test_db_status_of_a_stopped_server_names_its_database_not_a_masked_placeholder(tmp_path):
    """Stopped, there is no URL yet (no socket, no port): it said `*** (from embedded)`."""
    home = tmp_path / "never-started"
    document = json.loads(todoctl(home, "db", "status", "--json").stdout)
    assert document["target_database"] == {"url": "", "name": "todo", "source": "embedded", "origin": None}
    text = todoctl(home, "db", "status").stdout
    assert "***" not in text and "the embedded server's database todo, started on first use" in text


def test_a_first_start_killed_during_initdb_leaves_no_half_made_cluster(home_factory):
    # What a start killed half-way leaves: the staging directory of an unfinished initdb.
    home = home_factory()
    staging = home / ".pgdata.initdb"
    staging.mkdir(parents=True)
    (staging / "PG_VERSION").write_text("18\n")
    result = todoctl(home, "schema", "show", "--json")
    assert result.returncode == 0, result.stderr
    assert not staging.exists() and (home / "pgdata" / "PG_VERSION").exists()

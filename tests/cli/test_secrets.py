"""A password never reaches a child process's command line, where `ps` shows it to every user:
`todoctl db shell` runs the real psql against a server that really asks for the password."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.helpers import REPO, todoctl_command, todoctl_env

SENTINEL = "Sh3ll/pw#with?odd@chars%Sentinel"
ROLE = "secretive"


@pytest.fixture
def password_server(tmp_path):
    """An embedded server of this test's own whose socket asks ROLE for a SCRAM password."""
    from todoctl.db import embedded

    pgdata = tmp_path / "pgdata"
    server = embedded.start(pgdata)
    try:
        hba = pgdata / "pg_hba.conf"
        hba.write_text(f"local all {ROLE} scram-sha-256\n" + hba.read_text())
        with psycopg.connect(server.libpq_url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{SENTINEL}'")
            conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        embedded.stop(pgdata)


def url_for(server, password: str) -> str:
    return server.libpq_url().replace("postgres@", f"{ROLE}:{quote(password, safe='')}@", 1)


def start_shell(url: str) -> subprocess.Popen:
    return subprocess.Popen(
        todoctl_command("-d", url, "db", "shell"),
        cwd=REPO,
        env=todoctl_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_for_psql(parent: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in child_pids(parent):
            try:
                if Path(f"/proc/{child}/exe").resolve().name == "psql":
                    return child
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError("psql did not start")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_db_shell_passes_the_password_in_the_environment_not_argv(password_server):
    shell = start_shell(url_for(password_server, SENTINEL))
    try:
        shell.stdin.write("SELECT 'who:' || current_user;\nSELECT pg_sleep(2);\n")
        shell.stdin.flush()
        psql = wait_for_psql(shell.pid)
        argv = Path(f"/proc/{psql}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{psql}/environ").read_bytes().split(b"\0")
        stdout, stderr = shell.communicate(timeout=60)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert shell.returncode == 0, stderr
    assert f"who:{ROLE}" in stdout  # psql authenticated with the password
    for fragment in (SENTINEL, quote(SENTINEL, safe=""), "Sh3ll", "Sentinel"):
        assert not any(fragment.encode() in arg for arg in argv)
    assert f"PGPASSWORD={SENTINEL}".encode() in environ
    assert SENTINEL not in stdout + stderr


def test_the_server_really_checks_the_password(password_server):
    shell = start_shell(url_for(password_server, "wrong-password"))
    stdout, stderr = shell.communicate("SELECT 1;\n", timeout=60)
    assert shell.returncode != 0
    assert "password authentication failed" in stderr

"""The installed `todoctl` program, run as a subprocess on the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def todoctl_program() -> str:
    candidate = Path(sys.executable).parent / "todoctl"
    if not candidate.exists():
        pytest.skip("the todoctl entry point is not installed next to this Python")
    return str(candidate)


def test_installed_entry_point_migrates_the_embedded_database(tmp_path):
    program = todoctl_program()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_URL_UNPOOLED")}
    env["TODOCTL_HOME"] = str(tmp_path / "home")
    workdir = tmp_path / "elsewhere"  # not the checkout: migrations must be found from the package
    workdir.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([program, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=180)

    try:
        up = run("migrate", "up")
        assert up.returncode == 0, up.stderr
        status = run("migrate", "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["at_head"] is True
        db_status = run("db", "status", "--json")
        assert json.loads(db_status.stdout)["running"] is True
        assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()
    finally:
        stop = run("db", "stop")
    assert stop.returncode == 0, stop.stderr
    assert "stopped" in stop.stdout

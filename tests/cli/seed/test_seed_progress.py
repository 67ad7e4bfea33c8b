"""`todoctl seed` progress: bars and phase lines on a terminal, nothing in a pipe or with --json."""

from __future__ import annotations

import os
import pty
import subprocess

from tests.helpers import REPO, todoctl_command, todoctl_env


def run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run todoctl with stderr on a pseudo-terminal (stdout a pipe); return (code, stdout, stderr)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            todoctl_command(*args), cwd=REPO, env=todoctl_env(COLUMNS="160", TERM="xterm", NO_COLOR="1"),
            stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(terminal)
        terminal = -1
        captured = bytearray()
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            captured += data
        stdout = process.stdout.read().decode()
        process.wait(timeout=120)
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    return process.returncode, stdout, captured.decode(errors="replace")


def test_progress_on_a_terminal_shows_rows_rate_and_phases(migrated_db):
    # 100,000 tasks: the bulk path, so index rebuilds show as a phase too.
    code, stdout, stderr = run_with_terminal_stderr(
        "-d", migrated_db.url, "seed", "--profile", "load", "--users", "5000", "--rows", "tasks=100000"
    )
    assert code == 0, stderr
    for table in ("users", "task_lists", "tags", "tasks", "task_tags"):
        assert table in stderr
    assert "100,000/100,000 rows" in stderr and "100%" in stderr
    assert "rows/s" in stderr
    assert "indexes" in stderr and "steps" in stderr and "analyze" in stderr
    # The summary (stdout) shows rows/s per table.
    assert "rows/s" in stdout and "fingerprint " in stdout


def test_nothing_on_a_terminal_with_json(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "seed", "--profile", "small", "--json")
    assert code == 0, stderr
    assert "rows/s" not in stderr and "%" not in stderr and "\x1b[" not in stderr
    assert stdout.lstrip().startswith("{")


def test_nothing_in_a_pipe(migrated_db):
    result = subprocess.run(
        todoctl_command("-d", migrated_db.url, "seed", "--profile", "small"),
        cwd=REPO, env=todoctl_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("target: ") and len(result.stderr.splitlines()) == 1
    assert "\x1b[" not in result.stderr

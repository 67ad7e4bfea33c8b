"""Hostile class "interrupts": SIGTERM at the very start of a command is Ctrl-C, not a silent death.

README promise (Exit codes; Guarantees, "Interrupts"): Ctrl-C or SIGTERM at any point of a
command prints one `Error: interrupted` line (or the JSON error document) and exits 130, with
the work in flight rolled back. Issue 26 found SIGTERM in the first second killed todoctl
outright: its handler was installed after the CLI's imports. These cases send the signal at the
first moment todoctl's own code can catch it (read from /proc: the process has a SIGTERM
handler) and at fixed times in the first second, to the real program.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO, todoctl_env, wait_for
from todoctl.core import migrate

HEAD = migrate.history()[-1].revision
SIGTERM_BIT = 1 << (signal.SIGTERM - 1)
PROC = Path("/proc/self/status")


def caught_signals(pid: int) -> int:
    """The signals the process has handlers for (SigCgt in /proc/PID/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def start(*args: str, entry: str = "module") -> subprocess.Popen:
    """The real program: `python -m todoctl`, or the installed `todoctl` script."""
    command = [sys.executable, "-m", "todoctl", *args]
    if entry == "script":
        script = Path(sys.executable).parent / "todoctl"
        if not script.exists():
            pytest.skip("the todoctl entry point is not installed next to this Python")
        command = [str(script), *args]
    return subprocess.Popen(command, cwd=REPO, env=todoctl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_until_caught(process: subprocess.Popen, bit: int) -> None:
    assert wait_for(lambda: caught_signals(process.pid) & bit or process.poll() is not None, 60, interval=0.001)
    assert process.poll() is None, "the program ended before it could be signalled"


def signal_when_caught(process: subprocess.Popen, sig: int, bit: int) -> None:
    """Send ``sig`` the moment the process has a handler for it: its first catchable moment."""
    wait_until_caught(process, bit)
    process.send_signal(sig)


def assert_interrupted(process: subprocess.Popen, *, as_json: bool = False) -> None:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (process.returncode, stderr)
    assert "Traceback" not in stderr
    if as_json:
        document = json.loads(stdout)
        assert document["ok"] is False and document["error"]["kind"] == "interrupted", stdout
    else:
        errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
        assert errors and "interrupted" in errors[0], stderr
        assert any(line.startswith("Hint: ") for line in stderr.splitlines()), stderr


pytestmark = pytest.mark.skipif(not PROC.exists(), reason="needs /proc to see when the handler is installed")

NO_DATABASE = [
    ("version", ("version",)),
    ("explain list", ("explain", "list")),
    ("migrate history", ("migrate", "history")),
    ("migrate heads", ("migrate", "heads")),
    ("--help", ("--help",)),
]
WITH_DATABASE = [
    ("health", ("health",)),
    ("migrate status", ("migrate", "status")),
    ("schema show", ("schema", "show")),
    ("explain sql", ("explain", "sql", "SELECT count(*) FROM tasks")),
    ("migrate up", ("migrate", "up")),
]


@pytest.mark.parametrize("name, args", NO_DATABASE, ids=[n for n, _ in NO_DATABASE])
def test_sigterm_at_the_first_moment_is_an_interrupt(name, args):
    process = start(*args)
    signal_when_caught(process, signal.SIGTERM, SIGTERM_BIT)
    assert_interrupted(process)


@pytest.mark.parametrize("name, args", WITH_DATABASE, ids=[n for n, _ in WITH_DATABASE])
def test_sigterm_at_the_first_moment_of_a_database_command(migrated_db, name, args):
    process = start("-d", migrated_db.url, *args)
    signal_when_caught(process, signal.SIGTERM, SIGTERM_BIT)
    assert_interrupted(process)


@pytest.mark.parametrize("args", [("version", "--json"), ("migrate", "history", "--json")], ids=["version", "history"])
def test_sigterm_at_the_first_moment_with_json_gives_the_json_error(args):
    process = start(*args)
    signal_when_caught(process, signal.SIGTERM, SIGTERM_BIT)
    assert_interrupted(process, as_json=True)


def test_the_installed_script_handles_it_too():
    process = start("explain", "list", entry="script")
    signal_when_caught(process, signal.SIGTERM, SIGTERM_BIT)
    assert_interrupted(process)


def test_ctrl_c_at_the_first_moment_is_reported_the_same_way():
    """The interpreter itself catches SIGINT from before todoctl's first line (its own start cannot
    be covered); from that line on, Ctrl-C is reported like SIGTERM."""
    process = start("migrate", "history")
    wait_until_caught(process, SIGTERM_BIT)
    process.send_signal(signal.SIGINT)
    assert_interrupted(process)


@pytest.mark.parametrize("after", [0.3, 0.6, 1.0], ids=["0.3s", "0.6s", "1.0s"])
def test_sigterm_in_the_first_second_of_migrate_up_leaves_a_state_migrate_up_finishes(pg, empty_db, after):
    process = start("-d", empty_db.url, "migrate", "up")
    wait_until_caught(process, SIGTERM_BIT)  # counted from when todoctl can catch it
    time.sleep(after)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode in (130, 0), stderr  # 0 only if it had already finished
    if process.returncode == 130:
        assert "interrupted" in stderr and "Traceback" not in stderr
    # Nothing is left held, and `migrate up` finishes the job.
    assert pg.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", database=empty_db.database) == [(0,)]
    finish = subprocess.run([sys.executable, "-m", "todoctl", "-d", empty_db.url, "migrate", "up"], cwd=REPO,
                            env=todoctl_env(), capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stderr
    assert pg.execute("SELECT version_num FROM alembic_version", database=empty_db.database) == [(HEAD,)]

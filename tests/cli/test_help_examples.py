"""Help that works (issue 29): every example in every --help runs, in order, on the database the
README's quick start leaves.

The quick start runs first, as the README gives it (`todoctl migrate up && todoctl seed --truncate
&& todoctl explain task-list`), on the embedded server of a fresh TODOCTL_HOME with nothing else
configured. Its database is then kept as a template. Each help (every command's and every group's,
walked from the command tree) gets that database back, a fresh working directory and a scratch
copy of the migration history (TODOCTL_MIGRATIONS, so `migrate new` writes nothing into the
checkout), and its examples run one after the other as a person pastes them (through bash when the line
needs a shell, else through Typer's runner in the same environment). Each must exit 0; a gate
may exit 1 only where its help says it does.

An example cannot know another session's pid: `db cancel`'s example reads it from $PID, which the
test sets to an idle session on the database.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import time
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import typer.main
from typer.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.helpers import copy_migrations
from todoctl.cli.app import app
from todoctl.cli.habits import command_path

pytestmark = pytest.mark.slow

ROOT = typer.main.get_command(app)
QUICK_START = "todoctl migrate up && todoctl seed --truncate && todoctl explain task-list"
TEMPLATE = "todoctl_quick_start"


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def examples_of(help_text: str) -> list[str]:
    """The lines of the Example(s) block a help ends with."""
    block = help_text.rsplit("\n\n", 1)[-1].replace("\b\n", "").strip().splitlines()
    assert block and block[0].strip() in ("Example:", "Examples:"), help_text
    return [line.strip() for line in block[1:] if line.strip()]


HELPS = [(path, examples_of(command.help)) for path, command in _walk(ROOT)]


def _environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TODOCTL_"))}
    env.update(
        TODOCTL_HOME=str(home),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
        COLUMNS="80",
    )
    env.update(extra)
    return env


# Lines that need a shell (`&&`, `>`, "$PID") run through bash, as pasted; the others in-process
# through Typer's runner, in the same environment and directory (quicker: no interpreter start).
_SHELL = re.compile(r"[|&;<>$`]")
runner = CliRunner()


def _run(line: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    if _SHELL.search(line) or line.startswith("todoctl db shell"):  # psql: a real process on an empty stdin
        ran = _bash(line, cwd, env)
        return ran.returncode, ran.stdout + ran.stderr
    with pytest.MonkeyPatch.context() as patch:
        for name in os.environ:
            if name.startswith(("DATABASE_URL", "TODOCTL_")):
                patch.delenv(name)
        for name, value in env.items():
            if name.startswith("TODOCTL_") or name in ("NO_COLOR", "COLUMNS"):
                patch.setenv(name, value)
        patch.chdir(cwd)
        result = runner.invoke(app, shlex.split(line)[1:])
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.output + (f"\nTraceback: {result.exception!r}" if crashed else "")


def _bash(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
    )


@dataclass
class QuickStart:
    home: Path
    admin: str  # libpq URL of the embedded server's `postgres` database
    database: str  # the app's database, as the quick start left it


def _server_url(home: Path, cwd: Path) -> dict:
    """The app database's libpq parameters, from todoctl's own answer."""
    url = _bash("todoctl db url --show-password", cwd, _environment(home))
    assert url.returncode == 0, url.stderr
    return conninfo_to_dict(url.stdout.strip())


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    """TODOCTL_HOME after the README's quick start; its database is kept as a template."""
    home = tmp_path_factory.mktemp("quick-start-home")
    cwd = tmp_path_factory.mktemp("quick-start")
    ran = _bash(QUICK_START, cwd, _environment(home))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    try:
        parts = _server_url(home, cwd)
        state = QuickStart(home, make_conninfo(**{**parts, "dbname": "postgres"}), parts["dbname"])
        with psycopg.connect(state.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE "{state.database}"')
        yield state
    finally:
        _bash("todoctl db stop", cwd, _environment(home))  # the server's own stop command


def _back_to_the_quick_start(state: QuickStart, cwd: Path) -> None:
    """The app's database as the quick start left it (a copy of the template), the server started
    again if an example stopped it (`todoctl db stop`). A server that could not be reached is tried
    five times, a second apart (a loaded machine); then the failure shows the end of its log."""
    for attempt in range(5):
        try:
            with psycopg.connect(state.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{state.database}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{state.database}" TEMPLATE "{TEMPLATE}"')
            return
        except psycopg.OperationalError as exc:
            error = exc
            _bash("todoctl db start", cwd, _environment(state.home))
            time.sleep(1)
    log = state.home / "pgdata" / "log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no server log)"
    raise AssertionError(f"the embedded server cannot be reached ({error}); its log ends:\n{tail}")


def _says_exit_1(words: list[str]) -> bool:
    """Whether the help of the command an example runs says it exits 1 (a gate)."""
    command = ROOT
    for word in command_path(ROOT, words):
        command = command.commands[word]
    return bool(re.search(r"\bexit 1\b", " ".join((command.help or "").split()), re.IGNORECASE))


def test_every_help_has_examples_and_they_name_commands_todoctl_has():
    assert len(HELPS) >= 40
    for path, examples in HELPS:
        assert 1 <= len(examples) <= 2, path
        for example in examples:
            for part in re.split(r"&&|\|\||;", example):
                words = shlex.split(part.split(">")[0])
                assert words[0] == "todoctl", (path, example)
                assert command_path(ROOT, [w for w in words[1:] if not w.startswith("-")]), (path, example)


@pytest.mark.parametrize(("path", "examples"), HELPS, ids=[" ".join(path) or "todoctl" for path, _ in HELPS])
def test_the_examples_of_each_help_run_on_the_quick_start_database(quick_start, path, examples, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    _back_to_the_quick_start(quick_start, work)
    migrations = copy_migrations(tmp_path / "scratch")
    env = _environment(quick_start.home, TODOCTL_MIGRATIONS=str(migrations))
    with contextlib.ExitStack() as stack:
        if any("$PID" in example for example in examples):  # another session, for `db cancel "$PID"`
            idle = stack.enter_context(psycopg.connect(make_conninfo(quick_start.admin, dbname=quick_start.database), autocommit=True))
            env["PID"] = str(idle.info.backend_pid)
        for example in examples:
            code, output = _run(example, work, env)
            words = shlex.split(example.split("&&")[-1].split(">")[0])[1:]
            allowed = {0, 1} if _says_exit_1(words) else {0}
            assert code in allowed, (example, code, output[-3000:])
            assert "Traceback" not in output, (example, output[-3000:])

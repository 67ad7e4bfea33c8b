"""Hostile suite, class "writes": a write that fails is a failure (README, "Exit codes";
docs/guarantees-targets.md).

Every command's stdout is flushed and checked before it exits: a write error (a full disk,
/dev/full, stdout closed) is exit 1 with one Error line and one Hint line on stderr, after the
command's work ran to its end. A reader that went away (a closed pipe) stays quiet, with the
command's own exit code. Files todoctl writes are written whole (temp file + rename) or not at all;
an unbounded input file is refused after a bounded read.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO, todoctl_command, todoctl_env

FULL_LINE = "Error: could not write the output to stdout: No space left on device"


def run(*args: str, stdout=subprocess.PIPE, limit_file_size: int | None = None, cwd: Path = REPO, env=None, timeout=300):
    def limit():
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run(
        todoctl_command(*args), cwd=cwd, env=env or todoctl_env(), stdout=stdout, stderr=subprocess.PIPE,
        text=True, timeout=timeout, preexec_fn=limit,
    )


def to_dev_full(*args: str, **kwargs) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return run(*args, stdout=full, **kwargs)


def one_error(stderr: str, first: str) -> None:
    """Exactly one Error line (this one), followed by its Hint line; no traceback. (Other stderr
    lines — the target line, schema dump's pg_dump note — may come before it.)"""
    lines = stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[errors[0]] == first, stderr
    assert lines[errors[0] + 1].startswith("Hint: "), stderr
    assert "Traceback" not in stderr


# --------------------------------------------------------------------------- /dev/full, every command that prints

OFFLINE = [
    ("--help",),
    ("--version",),
    ("version",),
    ("migrate", "history"),
    ("migrate", "heads"),
    ("migrate", "sql", "base:head"),
    ("explain", "list"),
    ("review", "--offline", "--only", "hardcoded-credentials"),
    ("migrate", "--help"),
]
ONLINE = [
    ("migrate", "status"),
    ("migrate", "check"),
    ("migrate", "current"),
    ("migrate", "up", "--dry-run"),
    ("schema", "show"),
    ("schema", "show", "tasks"),
    ("schema", "diff"),
    ("schema", "dump"),
    ("schema", "erd"),
    ("schema", "lint"),
    ("explain", "task-list"),
    ("explain", "sql", "SELECT 1"),
    ("health",),
    ("db", "status"),
    ("db", "protection"),
    ("db", "url"),
    ("db", "wait", "--timeout", "5"),
    ("seed", "--dry-run"),
]
JSONABLE = {a for a in OFFLINE + ONLINE if a[0] not in ("--help", "--version") and a[-1] != "--help" and a[:2] not in (("db", "url"), ("migrate", "sql"))}


def _forms(commands):
    """Each command as text, and with --json where it has that form."""
    return [(a, j) for a in commands for j in (False, True) if not j or a in JSONABLE]


def _form_id(form) -> str:
    return " ".join(form[0]) + (" --json" if form[1] else "")


@pytest.mark.parametrize("args, as_json", _forms(OFFLINE), ids=[_form_id(f) for f in _forms(OFFLINE)])
def test_stdout_on_a_full_device_is_exit_1_without_a_database(args, as_json):
    """README: a write to stdout that fails is exit 1 with one Error line, never a truncated success."""
    result = to_dev_full(*args, *(["--json"] if as_json else []))
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, FULL_LINE)


@pytest.mark.parametrize("args, as_json", _forms(ONLINE), ids=[_form_id(f) for f in _forms(ONLINE)])
def test_stdout_on_a_full_device_is_exit_1(seeded_db, args, as_json):
    result = to_dev_full("-d", seeded_db().url, *args, *(["--json"] if as_json else []))
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, FULL_LINE)


def test_a_migration_with_its_output_on_a_full_device_runs_to_its_end_then_exits_1(pg, empty_db):
    """The work is never cut short because its output could not be written: the database is at
    head, and the exit code says the output is missing."""
    result = to_dev_full("-d", empty_db.url, "migrate", "up")
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, FULL_LINE)
    assert pg.execute("SELECT count(*) FROM alembic_version", database=empty_db.database) == [(1,)]


def test_a_command_that_fails_keeps_its_exit_code_when_stdout_is_full(project_free_db_url):
    """A failure's own code wins (3 here); in JSON mode the lost error document is reported on stderr."""
    result = to_dev_full("-d", project_free_db_url, "migrate", "status", "--json")
    assert result.returncode == 3, result.stderr
    assert FULL_LINE in result.stderr


@pytest.fixture
def project_free_db_url(pg) -> str:
    return pg.url_for("no_such_database_here").url


@pytest.mark.parametrize("args", [("version",), ("version", "--json"), ("explain", "list")])
def test_a_closed_stdout_is_exit_1(args):
    result = subprocess.run(
        ["bash", "-c", 'exec "$@" >&-', "todoctl", *todoctl_command(*args)],
        cwd=REPO, env=todoctl_env(), stderr=subprocess.PIPE, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, "Error: could not write the output to stdout: standard output is closed")


@pytest.mark.parametrize("args", [("version",), ("explain", "list", "--json"), ("migrate", "history")])
def test_a_closed_stderr_does_not_turn_success_into_a_crash(args):
    result = subprocess.run(
        ["bash", "-c", 'exec "$@" 2>&-', "todoctl", *todoctl_command(*args)],
        cwd=REPO, env=todoctl_env(), stdout=subprocess.PIPE, text=True, timeout=120,
    )
    assert result.returncode == 0 and result.stdout


def test_stdout_past_the_file_size_limit_is_exit_1(migrated_db, tmp_path):
    """A full disk, for a regular file: the process may not write past 200 bytes (ulimit -f)."""
    out = tmp_path / "schema.sql"
    with open(out, "w") as target:
        result = run("-d", migrated_db.url, "schema", "dump", stdout=target, limit_file_size=200)
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, "Error: could not write the output to stdout: File too large")


# --------------------------------------------------------------------------- closed pipes stay quiet


@pytest.mark.parametrize(
    "args, code",
    [(("explain", "list"), 0), (("migrate", "history", "--json"), 0), (("schema", "dump"), 0), (("migrate", "check"), 0)],
    ids=["explain list", "migrate history --json", "schema dump", "migrate check"],
)
def test_a_reader_that_went_away_is_quiet_and_keeps_the_exit_code(migrated_db, args, code):
    """README: `todoctl ... | head -1`: no error, the command's own exit code."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run(
            todoctl_command("-d", migrated_db.url, *args), cwd=REPO, env=todoctl_env(), stdout=write,
            stderr=subprocess.PIPE, text=True, timeout=300,
        )
    finally:
        os.close(write)
    assert result.returncode == code, result.stderr
    assert "Error" not in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- files: whole or not at all


def baseline_save(url, path: Path, **kwargs) -> subprocess.CompletedProcess:
    return run("-d", url.url, "explain", "baseline", "save", str(path), "--runs", "1", **kwargs)


def test_baseline_save_writes_the_file_whole_and_leaves_no_temporary_file(seeded_db, tmp_path):
    path = tmp_path / "plans.json"
    path.write_text("old\n")
    path.chmod(0o640)
    result = baseline_save(seeded_db(), path)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text())["todoctl_baseline"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans.json"]
    assert path.stat().st_mode & 0o777 == 0o640  # the file's mode is kept


def test_baseline_save_past_the_file_size_limit_keeps_the_old_file(seeded_db, tmp_path):
    """A full disk mid-write: exit 1, the previous file intact, no temporary file left behind."""
    path = tmp_path / "plans.json"
    path.write_text('{"old": true}\n')
    result = baseline_save(seeded_db(), path, limit_file_size=100)
    assert result.returncode == 1, result.stderr
    one_error(result.stderr, f"Error: cannot write {path}: File too large")
    assert path.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans.json"]


@pytest.mark.parametrize("kind", ["directory", "read-only", "missing-directory", "device-full"])
def test_baseline_save_to_a_path_it_cannot_write_is_exit_1_before_the_work(seeded_db, tmp_path, kind):
    path = {
        "directory": tmp_path,
        "read-only": tmp_path / "ro.json",
        "missing-directory": tmp_path / "no" / "such" / "dir" / "plans.json",
        "device-full": Path("/dev/full"),
    }[kind]
    if kind == "read-only":
        path.write_text("keep\n")
        path.chmod(0o444)
    result = baseline_save(seeded_db(), path)
    assert result.returncode == 1, result.stderr
    first = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert first.startswith(f"Error: cannot write {path}: ")
    one_error(result.stderr, first)
    if kind == "read-only":
        assert path.read_text() == "keep\n"
    assert Path("/dev/full").is_char_device()  # never renamed over


def test_baseline_save_through_a_symlink_keeps_the_link(seeded_db, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old\n")
    link = tmp_path / "plans.json"
    link.symlink_to(target)
    assert baseline_save(seeded_db(), link).returncode == 0
    assert link.is_symlink() and json.loads(target.read_text())["todoctl_baseline"] == 1


@pytest.mark.parametrize("kind", ["dev-zero", "huge", "directory", "not-utf8", "fifo-with-a-writer"])
def test_a_baseline_todoctl_cannot_have_written_is_exit_2_after_a_bounded_read(seeded_db, tmp_path, kind):
    """Medium item of issue 26: --baseline /dev/zero is refused (exit 2) after a bounded read."""
    import threading

    path = {"dev-zero": Path("/dev/zero"), "directory": tmp_path}.get(kind, tmp_path / "baseline.json")
    writer = None
    if kind == "huge":
        with open(path, "wb") as out:
            out.truncate(17 * 1024 * 1024)
    elif kind == "not-utf8":
        path.write_bytes(b'{"todoctl_baseline": 1, "x": "\xff"}')
    elif kind == "fifo-with-a-writer":
        os.mkfifo(path)

        def endless():
            try:
                with open(path, "wb") as out:
                    while True:
                        out.write(b" " * 65536)
            except OSError:
                pass

        writer = threading.Thread(target=endless, daemon=True)
        writer.start()
    result = run("-d", seeded_db().url, "explain", "check", "--baseline", str(path), "--runs", "1")
    assert result.returncode == 2, result.stderr
    one_error(result.stderr, next(line for line in result.stderr.splitlines() if line.startswith("Error: ")))
    if writer is not None:
        writer.join(timeout=10)


def test_write_atomically_never_replaces_a_device_or_fifo(tmp_path):
    """A path that is not a regular file is written in place (a FIFO's reader gets the text)."""
    import threading

    from todoctl.files import write_atomically

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_atomically(fifo, "hello\n")
    reader.join(timeout=10)
    assert got == ["hello\n"] and fifo.is_fifo()

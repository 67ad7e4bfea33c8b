"""Progress that informs (issue 16, item 6) for `schema dump` and `health --probe`: on a terminal's
stderr only, never in a pipe or with --json, never with the password; and Ctrl-C during a dump
still exits 130 with nothing of the dump written.

The real program runs with stderr on a pseudo-terminal (the helper of the seed progress tests).
"""

from __future__ import annotations

import os
import signal
import subprocess

import psycopg
import pytest

from tests.cli.seed.test_seed_progress import run_with_terminal_stderr
from tests.cli.test_secrets import child_pids
from tests.cli.test_target import SENTINEL, with_password
from tests.helpers import REPO, libpq, run_todoctl, todoctl_command, todoctl_env, wait_for


def without_restrict_key(ddl: str) -> str:
    """pg_dump writes a random `\\restrict KEY` (and `\\unrestrict KEY`) line into every dump."""
    return "\n".join(line for line in ddl.splitlines() if not line.startswith(("\\restrict ", "\\unrestrict ")))


# ---------------------------------------------------------------- schema dump


def test_dump_on_a_terminal_shows_phase_bytes_rate_and_time(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "schema", "dump")
    assert code == 0, stderr
    assert "dump" in stderr and "connecting" in stderr and "writing DDL" in stderr
    assert " kB" in stderr and "B/s" in stderr and "0:00:" in stderr
    assert "%" not in stderr  # pg_dump gives no total: no percentage, not even a made-up one
    assert "-- pg_dump 18." in stderr  # which pg_dump made it, as in a pipe
    assert "CREATE TABLE public.tasks" in stdout


def test_dump_on_a_terminal_is_the_same_ddl_as_in_a_pipe(migrated_db):
    code, on_terminal, stderr = run_with_terminal_stderr("-d", migrated_db.url, "schema", "dump")
    assert code == 0, stderr
    piped = run_todoctl("-d", migrated_db.url, "schema", "dump")
    assert piped.returncode == 0, piped.stderr
    # (pg_dump --verbose would have added `-- TOC entry` comments on the terminal only.)
    assert without_restrict_key(on_terminal) == without_restrict_key(piped.stdout)


def test_dump_in_a_pipe_or_with_json_shows_no_progress(migrated_db):
    piped = run_todoctl("-d", migrated_db.url, "schema", "dump")
    assert piped.returncode == 0, piped.stderr
    assert [line[:10] for line in piped.stderr.splitlines()] == ["-- pg_dump"]  # the note, nothing else
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "schema", "dump", "--json")
    assert code == 0, stderr
    assert stderr == "" and stdout.lstrip().startswith("{")


def test_dump_progress_never_shows_the_password(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", with_password(migrated_db), "schema", "dump")
    assert code == 0, stderr
    assert "writing DDL" in stderr
    assert SENTINEL not in stdout + stderr and "Sentinel" not in stdout + stderr


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_dump_exits_130_and_writes_nothing(migrated_db, tmp_path, how):
    """pg_dump waits on a lock held by another session; Ctrl-C (SIGINT to the terminal's process
    group: todoctl and pg_dump) or SIGTERM to todoctl alone: exit 130, the output file stays empty,
    and no pg_dump is left running or connected."""
    output = tmp_path / "schema.sql"
    with psycopg.connect(libpq(migrated_db)) as holder:
        holder.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        with output.open("w") as out:
            process = subprocess.Popen(
                todoctl_command("-d", migrated_db.url, "schema", "dump"), cwd=REPO, env=todoctl_env(),
                stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True,
            )  # fmt: skip
        try:

            def dump_waits_for_the_lock() -> bool:
                return _todoctl_sessions(migrated_db, "AND wait_event_type = 'Lock'") == 1

            assert wait_for(dump_waits_for_the_lock, timeout=60)
            children = child_pids(process.pid)
            assert children  # pg_dump
            if how == "ctrl-c":
                os.killpg(process.pid, signal.SIGINT)
            else:
                process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 130, stderr
        assert "Error: interrupted" in stderr and "Traceback" not in stderr
        assert output.read_text() == ""
        for pid in children:  # pg_dump was killed and reaped, not orphaned
            assert not os.path.exists(f"/proc/{pid}") or "Z" in _state(pid)
        holder.rollback()

    assert wait_for(lambda: _todoctl_sessions(migrated_db) == 0, timeout=30)


def _todoctl_sessions(url, condition: str = "") -> int:
    """todoctl's sessions on this database (pg_dump's is one: PGAPPNAME=todoctl), seen from a
    connection of its own (pg_stat_activity is a snapshot per transaction)."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoctl' "
            f"AND datname = current_database() {condition}"
        ).fetchone()[0]


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


# ---------------------------------------------------------------- health --probe


def test_probe_on_a_terminal_counts_sessions_with_rate_and_percentage(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "health", "--probe", "12")
    assert code in (0, 1), stderr  # the verdict is health's; the progress is what is tested here
    assert "probe" in stderr and "12/12" in stderr and "100%" in stderr and "sessions/s" in stderr
    assert "pool-probe" in stdout


def test_probe_in_a_pipe_or_with_json_shows_no_progress(migrated_db):
    piped = run_todoctl("-d", migrated_db.url, "health", "--probe", "12")
    assert piped.returncode in (0, 1), piped.stderr
    assert "sessions/s" not in piped.stderr and "12/12" not in piped.stderr and "\x1b[" not in piped.stderr
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "health", "--probe", "12", "--json")
    assert code in (0, 1), stderr
    assert "sessions/s" not in stderr and "%" not in stderr and "\x1b[" not in stderr
    assert stdout.lstrip().startswith("{")


def test_probe_progress_never_shows_the_password(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", with_password(migrated_db), "health", "--probe", "5")
    assert code in (0, 1), stderr
    assert "5/5" in stderr
    assert SENTINEL not in stdout + stderr and "Sentinel" not in stdout + stderr


# ---------------------------------------------------------------- migrate verify --json


def test_verify_with_json_on_a_terminal_shows_no_progress(migrated_db):
    code, stdout, stderr = run_with_terminal_stderr("-d", migrated_db.url, "migrate", "verify", "--json")
    assert code == 0, stderr
    assert "revisions/s" not in stderr and "\x1b[" not in stderr
    assert stdout.lstrip().startswith("{")


# ---------------------------------------------------------------- core: what the bars are fed


def test_core_dump_tells_its_phases_and_every_byte(migrated_db):
    from todoctl.core.schema import pgdump

    seen: list[pgdump.DumpProgress] = []
    result = pgdump.dump(migrated_db, on_progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[:2] == ["connecting", "reading catalog"] and set(phases[2:]) == {"writing DDL"}
    written = [p.bytes for p in seen[2:]]
    assert written == sorted(written) and written[-1] == len(result.ddl.encode())


def test_core_probe_tells_each_finished_session(migrated_db):
    from todoctl import project
    from todoctl.core.health import pool

    seen: list[tuple[int, int, str]] = []
    app, _ = pool.load(project.current(), migrated_db)
    result = pool.probe(migrated_db, 8, app, hold=0.01, on_session=lambda *a: seen.append(a))
    assert [done for done, _, _ in seen] == list(range(0, 9))
    assert {total for _, total, _ in seen} == {8}
    assert result.errors == 0 and seen[-1][2] == ""

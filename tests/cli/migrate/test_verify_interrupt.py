"""Ctrl-C or SIGTERM during `migrate verify` is an interrupt (exit 130), not a failed revision; the
throwaway database is dropped all the same. The signal arrives while a revision runs (a sleep in it,
seen in pg_stat_activity), where the runner turns it into its "interrupted" error."""

from __future__ import annotations

import signal

import psycopg
import pytest

from tests.helpers import copy_migrations, revision_source, start_todoctl, wait_for
from todoctl.core import migrate

HEAD = migrate.history()[-1].revision


def _scratch_databases(pg) -> list[str]:
    return [row[0] for row in pg.execute("SELECT datname FROM pg_database WHERE datname LIKE 'todoctl_verify_%'")]


def _sleeping(url) -> bool:
    with psycopg.connect(url.libpq, autocommit=True) as conn:
        return bool(conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'todoctl_verify_%%' AND query LIKE '%%pg_sleep%%'"
        ).fetchone()[0])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_verify_exits_130_and_drops_its_database(pg, tmp_path, empty_db, signum):
    slow = revision_source("0099", HEAD, "op.execute('SELECT pg_sleep(60)')")
    location = copy_migrations(tmp_path, {"0099_slow.py": slow})
    before = _scratch_databases(pg)
    process = start_todoctl("migrate", "verify", "--migrations", str(location), "-d", empty_db.url)
    try:
        assert wait_for(lambda: _sleeping(empty_db), timeout=120), process.communicate(timeout=5)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    assert "interrupted" in err and "FAILED" not in out + err
    assert _scratch_databases(pg) == before

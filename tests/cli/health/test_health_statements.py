"""top-queries on a real pg_stat_statements (Debian's PostgreSQL 15, the topology tier's server binaries):
judged over a window, with literals masked. Skipped where PostgreSQL 15 is not installed."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from tests import topology
from todoctl.cli.app import app

pytestmark = pytest.mark.topology
runner = CliRunner()


@pytest.fixture(scope="module")
def statements_db():
    """A PostgreSQL 15 with pg_stat_statements preloaded, over a Unix socket; yields a libpq URL."""
    reason = topology.available()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="todoctl-statements-"))
    root.chmod(0o755)
    if topology.os.geteuid() == 0:
        shutil.chown(root, topology.RUN_AS, topology.RUN_AS)
    data, port = root / "data", topology._free_port()
    topology._as_postgres([str(topology.PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{root}'\n"
            "shared_preload_libraries = 'pg_stat_statements'\nfsync = off\n"
        )
    pg_ctl = str(topology.PG_BIN / "pg_ctl")
    topology._as_postgres([pg_ctl, "-D", str(data), "-l", str(root / "postgres.log"), "-w", "start"])
    try:
        admin = f"postgresql://postgres@/postgres?host={root}&port={port}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE app")
        url = admin.replace("/postgres?", "/app?")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield url
    finally:
        topology._as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def top_queries(url: str, *args: str):
    result = runner.invoke(app, ["-d", url, "health", "-c", "top-queries", "--json", "-t", "top_queries=100", *args])
    assert result.exit_code == 0, result.output  # top-queries only ever warns
    return result, json.loads(result.stdout)["checks"][0]


def test_top_queries_judge_the_window_and_mask_literals(statements_db):
    password = f"secret-pw-{uuid.uuid4().hex}"
    role = f"victim_{uuid.uuid4().hex[:8]}"
    _, first = top_queries(statements_db)
    assert first["status"] == "skip" and first["value"].startswith("no earlier reading")

    with psycopg.connect(statements_db, autocommit=True) as conn:
        conn.execute("SELECT pg_sleep(1.2)")  # a really slow statement, in the window
        conn.execute(f"CREATE ROLE {role}")
        conn.execute(f"ALTER ROLE {role} PASSWORD '{password}'")  # kept verbatim by PostgreSQL 15
    masked_result, masked = top_queries(statements_db)
    assert password not in masked_result.output
    assert masked["status"] == "warn" and "todoctl explain" in masked["hint"]
    texts = [q["query"] for q in masked["details"]["queries"]]
    assert any(t.startswith("SELECT pg_sleep") for t in texts)
    assert f"ALTER ROLE {role} PASSWORD '…'" in texts
    assert masked["details"]["window"]["source"] == "since-last-run"

    # The slow statement is history now: the next window does not hold it against the database.
    _, later = top_queries(statements_db)
    assert later["status"] in ("ok", "skip"), later["value"]
    assert not any(q["mean_ms"] > 1000 for q in later["details"]["queries"])

    with psycopg.connect(statements_db, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {role} PASSWORD '{password}'")
    shown_result, _ = top_queries(statements_db, "--show-query-text")
    assert password in shown_result.stdout


def test_sample_judges_what_happens_during_the_interval(statements_db):
    import threading
    import time

    from tests.core.health.test_health import wait_until
    from todoctl.core import health
    from todoctl.db.url import normalise

    url = normalise(statements_db, source="test")
    holder = psycopg.connect(statements_db, autocommit=True)
    waiter = psycopg.connect(statements_db, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(7)")
    reports = []

    def readings() -> int:  # how often health has read pg_stat_statements (its own query is counted there)
        return holder.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%toplevel::text AS id%'"
        ).fetchone()[0]

    before = readings()
    # A statement that runs for as long as the lock is held: it starts before the interval and ends in it.
    blocked = threading.Thread(target=lambda: waiter.execute("SELECT pg_advisory_lock(7)"), daemon=True)
    blocked.start()
    started = time.monotonic()
    def measure():
        try:
            reports.append(health.run(url, checks=["top-queries"], sample=8))
        except BaseException as exc:  # seen by the assertions below, not lost in the thread
            reports.append(exc)

    run = threading.Thread(target=measure, daemon=True)
    try:
        run.start()

        def sampled():  # health has read pg_stat_statements once and is waiting out the interval
            return readings() > before and time.monotonic() - started > 1.2

        wait_until(lambda: sampled() or reports, timeout=30, what="the start of the sample")
        assert not reports, reports
        holder.execute("SELECT pg_advisory_unlock(7)")
        blocked.join(15)
        run.join(60)
    finally:
        holder.close()
        waiter.close()
    check = reports[0].get("top-queries")
    assert check.details["window"]["source"] == "sample"
    assert check.status.value == "warn", check.value
    slow = [q for q in check.details["queries"] if q["mean_ms"] > 1000]
    assert [q["query"] for q in slow] == ["SELECT pg_advisory_lock($1)"]

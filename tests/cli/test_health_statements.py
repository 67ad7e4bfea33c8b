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

from todoctl.cli.app import app
from tests import topology

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

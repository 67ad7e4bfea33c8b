"""`todoctl health` never prints another session's secrets: literals masked unless --show-query-text."""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager

import psycopg
from typer.testing import CliRunner

from tests.core.health.test_health import session_state, wait_until
from tests.helpers import libpq
from todoctl.cli.app import app

runner = CliRunner()
# Both sessions are listed (any age counts) but nothing fails: the output is what is asserted on.
LISTED = [
    "-t", "long_query_warn_s=0", "-t", "long_query_fail_s=3600",
    "-t", "idle_in_transaction_warn_s=0", "-t", "idle_in_transaction_fail_s=3600",
]  # fmt: skip


def health(url, *args: str):
    return runner.invoke(app, ["-d", url.url, "health", *args], env={"COLUMNS": "200"})


@contextmanager
def sessions_holding_secrets(pg, url):
    """One session running ``SELECT pg_sleep(…), '<token>'``, one idle in transaction after
    ``ALTER ROLE … PASSWORD '<password>'``; yields (token, password, [pids])."""
    token, password = f"secret-token-{uuid.uuid4().hex}", f"secret-pw-{uuid.uuid4().hex}"
    role = f"victim_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE ROLE {role} LOGIN")
    sleeper = psycopg.connect(libpq(url), autocommit=True)
    idle = psycopg.connect(libpq(url))

    def sleep():
        try:
            sleeper.execute(f"SELECT pg_sleep(60), '{token}'")
        except psycopg.errors.QueryCanceled:
            pass

    worker = threading.Thread(target=sleep, daemon=True)
    try:
        idle.execute(f"ALTER ROLE {role} PASSWORD '{password}'")  # the transaction stays open
        worker.start()
        pids = [sleeper.info.backend_pid, idle.info.backend_pid]
        wait_until(lambda: session_state(pg, url, pids[0]) == "active", what="the sleeping query")
        wait_until(lambda: session_state(pg, url, pids[1]) == "idle in transaction", what="the open transaction")
        yield token, password, pids
    finally:
        pg.execute(f"SELECT pg_cancel_backend({sleeper.info.backend_pid})", database=url.database)
        worker.join(15)
        sleeper.close()
        idle.rollback()
        idle.close()
        pg.execute(f"DROP ROLE IF EXISTS {role}")


def test_other_sessions_secrets_are_masked_by_default_and_shown_on_request(pg, migrated_db):
    with sessions_holding_secrets(pg, migrated_db) as (token, password, pids):
        text = health(migrated_db, *LISTED)
        as_json = health(migrated_db, "--json", *LISTED)
        shown = health(migrated_db, "--json", "--show-query-text", *LISTED)
    assert text.exit_code == 0, text.output
    assert as_json.exit_code == 0, as_json.output
    assert shown.exit_code == 0, shown.output
    for result in (text, as_json):
        assert token not in result.output and password not in result.output
        assert token not in result.stderr and password not in result.stderr
    document = json.loads(as_json.stdout)
    assert document["query_text"] == "masked"
    checks = {c["name"]: c for c in document["checks"]}
    long_query = next(s for s in checks["long-queries"]["details"]["sessions"] if s["pid"] == pids[0])
    idle = next(s for s in checks["idle-in-transaction"]["details"]["sessions"] if s["pid"] == pids[1])
    # The statements are still recognisable; only their literals are gone.
    assert long_query["query"] == "SELECT pg_sleep(?), '…'"
    assert idle["query"].startswith("ALTER ROLE victim_") and idle["query"].endswith("PASSWORD '…'")
    full = json.loads(shown.stdout)
    assert full["query_text"] == "full"
    assert token in shown.stdout and password in shown.stdout

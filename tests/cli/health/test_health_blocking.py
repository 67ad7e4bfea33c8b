"""`todoctl health --check blocking`: the chains as a tree under the table, and in JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.core.health.lock_chain import holding_lock, waiting_on
from todoctl.cli.app import app

runner = CliRunner()


def health(url, *args: str, env: dict | None = None):
    return runner.invoke(app, ["-d", url.url, "health", "-c", "blocking", *args], env={"COLUMNS": "200", **(env or {})})


def test_ok_when_nothing_waits(migrated_db):
    result = health(migrated_db, "--json")
    assert result.exit_code == 0, result.output
    [check] = json.loads(result.stdout)["checks"]
    assert check["status"] == "ok" and check["details"]["chains"] == []


def test_tree_json_thresholds_and_masking(pg, migrated_db):
    with holding_lock(migrated_db) as (holder, secret), waiting_on(pg, migrated_db, holder) as waiter:
        failed = health(migrated_db, "--json", "-t", "blocking_warn_s=0", "-t", "blocking_fail_s=0")
        warned = health(migrated_db, env={"TODOCTL_HEALTH_BLOCKING_WARN_S": "0"})
        shown = health(migrated_db, "--json", "--show-query-text")
    assert failed.exit_code == 1, failed.output
    [check] = json.loads(failed.stdout)["checks"]
    assert check["status"] == "fail"
    [chain] = check["details"]["chains"]
    assert chain["pid"] == holder and [c["pid"] for c in chain["blocking"]] == [waiter]
    assert secret not in failed.stdout

    assert warned.exit_code == 0, warned.output  # a warning alone does not fail without --strict
    assert "blocking" in warned.stdout and "warn" in warned.stdout
    assert f"root blocker pid {holder}" in warned.stdout and "lock-holder" in warned.stdout
    assert f"pid {waiter}" in warned.stdout and "lock-waiter" in warned.stdout
    assert secret not in warned.stdout

    assert shown.exit_code == 0, shown.output
    assert secret in shown.stdout  # --show-query-text shows it, as for the other session checks

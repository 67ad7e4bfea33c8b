"""The topology tier: PostgreSQL 15 (TCP, SSL, password) and PgBouncer in transaction mode."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.topology import PASSWORD
from todoctl.cli.app import app
from todoctl.core import migrate

pytestmark = pytest.mark.topology
runner = CliRunner()
HEAD = migrate.history()[-1].id


def invoke(*args: str, env: dict | None = None):
    result = runner.invoke(app, list(args), env=env)
    assert PASSWORD not in result.stdout + result.stderr
    return result


def test_migrate_refuses_the_pooler_and_works_on_the_direct_url(topology):
    refused = invoke("-d", topology.pooled, "migrate", "up")
    assert refused.exit_code == 4, refused.output
    assert "DATABASE_URL_UNPOOLED" in refused.stderr

    up = invoke("-d", topology.direct, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["after"] == [HEAD]

    # Reading through the pooler works (prepared statements are off on pooled URLs).
    status = invoke("-d", topology.pooled, "migrate", "status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["at_head"] is True

    env = {"DATABASE_URL": topology.pooled, "DATABASE_URL_UNPOOLED": topology.direct}
    again = invoke("migrate", "up", "--json", env=env)
    assert again.exit_code == 0, again.output


def test_ssl_is_in_use_on_the_direct_url(topology):
    import psycopg

    with psycopg.connect(topology.direct) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
        assert conn.info.server_version // 10000 == 15


def test_wrong_password_is_exit_3_without_any_password(topology):
    wrong = topology.direct.replace(PASSWORD, "Wrong-Sentinel-Pw-999")
    result = invoke("-d", wrong, "migrate", "status")
    assert result.exit_code == 3
    assert "authentication failed" in result.stderr
    assert "Wrong-Sentinel-Pw-999" not in result.stdout + result.stderr


def test_missing_database_is_exit_3(topology):
    result = invoke("-d", topology.url_for("no_such_db"), "migrate", "status")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_seed_explain_health_and_schema_work_through_the_pooler(topology):
    assert invoke("-d", topology.direct, "migrate", "up").exit_code == 0
    pooled = topology.pooled

    seeded = invoke("-d", pooled, "seed", "--profile", "small", "--truncate", "--yes", "--quiet", "--json")
    assert seeded.exit_code == 0, seeded.output
    assert json.loads(seeded.stdout)["fingerprint"]

    explained = invoke("-d", pooled, "explain", "task-list", "--json")
    assert explained.exit_code == 0, explained.output
    assert json.loads(explained.stdout)["plan"]

    health = invoke("-d", pooled, "health", "--json")
    assert health.exit_code in (0, 1), health.output
    report = json.loads(health.stdout)
    assert report["endpoint"] == "pooled", report
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["ssl"]["status"] == "ok" and checks["version"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"

    shown = invoke("-d", pooled, "schema", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert "tasks" in {t["name"] for t in json.loads(shown.stdout)["tables"]}

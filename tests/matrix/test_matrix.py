"""The `matrix` tier: todoctl on every PostgreSQL major Neon offers (14, 15, 16, 17, 18).

Each test runs once per major, against one server per major shared by the tier (conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.helpers import REPO, todoctl_env
from todoctl.cli.app import app
from todoctl.core import migrate

pytestmark = pytest.mark.matrix
runner = CliRunner()
HEAD = migrate.history()[-1].revision


def invoke(url, *args: str, env: dict | None = None):
    return runner.invoke(app, ["-d", url.url, *args], env=env)


def document(result) -> dict:
    assert result.stdout.strip(), result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- migrations


def test_migrate_up_down_up_and_verify(matrix_empty):
    up = invoke(matrix_empty, "migrate", "up", "--json")
    assert up.exit_code == 0, up.output
    assert document(up)["after"] == [HEAD]

    down = invoke(matrix_empty, "migrate", "down", "base", "--json")
    assert down.exit_code == 0, down.output
    assert document(down)["after"] == []

    again = invoke(matrix_empty, "migrate", "up", "--json")
    assert again.exit_code == 0, again.output
    assert document(again)["after"] == [HEAD]

    verify = invoke(matrix_empty, "migrate", "verify", "--json")
    assert verify.exit_code == 0, verify.output
    assert document(verify)["ok"] is True


def test_stock_alembic_offline_sql_is_todoctl_s(matrix_empty):
    stock = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head", "--sql"],
        cwd=REPO, env=todoctl_env(DATABASE_URL=matrix_empty.url), capture_output=True, text=True, timeout=300,
    )
    assert stock.returncode == 0, stock.stderr
    ours = invoke(matrix_empty, "migrate", "sql", "base:head")
    assert ours.exit_code == 0, ours.output
    assert "CREATE TABLE users" in ours.stdout
    assert ours.stdout == stock.stdout


# ---------------------------------------------------------------- seed and explain


def test_small_seed_has_the_same_fingerprint_as_on_18(matrix_seeded, reference_fingerprint):
    from todoctl.core import seed

    url, report = matrix_seeded
    assert report.fingerprint == reference_fingerprint
    assert seed.fingerprint(url) == reference_fingerprint


def test_every_named_query_explains_and_passes_its_check(matrix_seeded):
    url, _ = matrix_seeded
    listed = invoke(url, "explain", "list", "--json")
    assert listed.exit_code == 0, listed.output
    names = [query["name"] for query in document(listed)["queries"]]
    assert len(names) >= 5
    for name in names:
        explained = invoke(url, "explain", "run", name, "--json")
        assert explained.exit_code == 0, (name, explained.output)
        assert document(explained)["plan"], name

    checked = invoke(url, "explain", "check", "--runs", "1", "--json")
    assert checked.exit_code == 0, checked.output
    assert sorted(query["name"] for query in document(checked)["queries"]) == sorted(names)


# ---------------------------------------------------------------- health


def test_health_passes_and_every_check_reads_its_catalog(matrix_pg, matrix_seeded):
    url, _ = matrix_seeded
    result = invoke(url, "health", "--json")
    assert result.exit_code == 0, result.output
    checks = {check["name"]: check for check in document(result)["checks"]}
    # A check whose SQL the server rejects (a catalog column this major lacks) says so in
    # details.error and only warns: health would still exit 0, so look for it.
    failed = {name: check["details"]["error"] for name, check in checks.items() if "error" in check["details"]}
    assert failed == {}
    assert checks["version"]["details"]["major"] == matrix_pg.major
    # pg_stat_statements is installed here: the first run records a reading of its view, the
    # second compares with it (both read the columns that changed across majors).
    assert not any(word in checks["top-queries"]["value"] for word in ("not installed", "unusable")), checks["top-queries"]
    again = invoke(url, "health", "-c", "top-queries", "--json")
    assert again.exit_code == 0, again.output
    [top] = document(again)["checks"]
    assert top["status"] != "skip" and "error" not in top["details"], top


# ---------------------------------------------------------------- schema


def test_schema_show_diff_erd_and_lint(matrix_db):
    show = invoke(matrix_db, "schema", "show", "--json")
    assert show.exit_code == 0, show.output
    assert {"users", "tasks", "tags"} <= {table["name"] for table in document(show)["tables"]}

    detail = invoke(matrix_db, "schema", "show", "tasks", "--json")
    assert detail.exit_code == 0, detail.output

    diff = invoke(matrix_db, "schema", "diff", "--json")
    assert diff.exit_code == 0, diff.output
    assert document(diff)["in_sync"] is True

    history = invoke(matrix_db, "schema", "diff", "--against", "history", "--json")
    assert history.exit_code == 0, history.output

    erd = invoke(matrix_db, "schema", "erd")
    assert erd.exit_code == 0, erd.output
    assert erd.stdout.startswith("erDiagram")

    lint = invoke(matrix_db, "schema", "lint", "--json")
    assert lint.exit_code == 0, lint.output
    assert document(lint)["clean"] is True


def _restore_and_diff(matrix_pg, dumped: dict, target) -> None:
    """Restore a dump with this major's psql into ``target``, then `schema diff` it."""
    restored = subprocess.run(
        [matrix_pg.program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target.libpq],
        input=dumped["ddl"], capture_output=True, text=True, timeout=120,
    )
    assert restored.returncode == 0, restored.stderr
    # A schema-only dump has alembic_version's table, not its row.
    stamped = invoke(target, "migrate", "stamp", HEAD)
    assert stamped.exit_code == 0, stamped.output
    diff = invoke(target, "schema", "diff", "--json")
    assert diff.exit_code == 0, diff.output
    assert document(diff)["in_sync"] is True


def test_dump_uses_a_pg_dump_of_the_server_s_major_and_restores(matrix_pg, matrix_db, matrix_empty):
    # The tier's binaries on PATH, as a developer's own installation would be.
    path = f"{matrix_pg.bin}:{todoctl_env()['PATH']}"
    dumped = invoke(matrix_db, "schema", "dump", "--json", env={"PATH": path, "TODOCTL_PG_DUMP": None})
    assert dumped.exit_code == 0, dumped.output
    result = document(dumped)
    assert result["pg_dump_version"].split(".")[0] == str(matrix_pg.major), result["pg_dump"]
    assert result["server_version"].split(".")[0] == str(matrix_pg.major)
    assert result["dropped_settings"] == []
    _restore_and_diff(matrix_pg, result, matrix_empty)


def test_dump_made_by_the_embedded_pg_dump_18_restores_on_its_server(matrix_pg, matrix_db, matrix_empty):
    from todoctl.db import embedded

    bundled = str(embedded.bin_dir() / "pg_dump")
    dumped = invoke(matrix_db, "schema", "dump", "--json", env={"TODOCTL_PG_DUMP": bundled})
    assert dumped.exit_code == 0, dumped.output
    result = document(dumped)
    assert result["pg_dump_version"].startswith("18")
    if matrix_pg.major < 17:  # transaction_timeout came in 17
        assert "SET transaction_timeout = 0;" in result["dropped_settings"]
    else:
        assert result["dropped_settings"] == []
    _restore_and_diff(matrix_pg, result, matrix_empty)

"""`todoctl review` on the second app (a copy of tests/apps/shelf with a planted f-string SQL): it scans
the app's sources, judges the app's own engine, accepts its Argon2 hashes, and every statement its
hints print runs on the app's database."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from typer.testing import CliRunner

from tests.conftest import SHELF
from todoctl.cli.app import app

runner = CliRunner()


@pytest.fixture
def planted(tmp_path):
    copy = tmp_path / "shelf-app"
    shutil.copytree(SHELF, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "shelf" / "search.py").write_text(textwrap.dedent("""\
        from sqlalchemy import text

        from shelf.db import engine


        def search(q):
            with engine.connect() as conn:
                return conn.execute(text(f"SELECT id FROM book WHERE title = '{q}'")).all()
        """))
    return copy


def review(directory, url, *args):
    return runner.invoke(app, ["--project", str(directory), "-d", url.url, "review", "--json", *args])


def test_review_finds_the_planted_sql_and_the_pool_without_timeout(planted, shelf_filled_db, pg):
    result = review(planted, shelf_filled_db)
    assert result.exit_code == 1, result.output  # sql-injection is critical
    document = json.loads(result.stdout)
    found = {(f["rule"], f["location"]): f for f in document["findings"]}
    assert ("sql-injection", "shelf/search.py:8") in found
    assert ("query-timeout", "engine shelf.db:engine") in found
    assert "gets none" in found[("query-timeout", "engine shelf.db:engine")]["message"]
    # Argon2 hashes accepted: no row is called unhashed, and the CHECK proposed is Argon2's, validated at once.
    password = [f for f in document["findings"] if f["rule"] == "password-hash"]
    assert [f["location"] for f in password] == ["user.hashed_password"]
    assert "argon2" in password[0]["hint"] and "$2" not in password[0]["sql"] and "VALIDATE" in password[0]["sql"]
    assert 'ALTER TABLE "user"' in password[0]["sql"]
    # Nothing of the Todo app, and the shelf's own queries reviewed.
    text = result.stdout
    assert "tasks" not in text and "task_lists" not in text and "todoctl/todo" not in text
    assert "pool-size" in document["rules"] and not [s for s in document["skipped"] if s["rule"] == "pool-size"]
    # Every statement a hint printed runs (each on its own copy of the database).
    from pglast import split

    statements = [f for f in document["findings"] if f["sql"]]
    assert statements
    for finding in statements:
        copy = pg.create_database(template=shelf_filled_db.database)
        try:
            for statement in split(finding["sql"]):
                pg.execute(statement, database=copy)
        finally:
            pg.drop_database(copy)


def test_offline_without_a_database_url_the_pool_rules_still_read_the_engine(planted):
    result = runner.invoke(app, ["--project", str(planted), "review", "--offline", "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    rules = {f["rule"] for f in document["findings"]}
    assert {"sql-injection", "query-timeout"} <= rules
    assert "--offline" in next(f["message"] for f in document["findings"] if f["rule"] == "query-timeout")

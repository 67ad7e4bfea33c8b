"""`todoctl explain` on the second app (tests/apps/shelf): its own named queries, their parameters
typed and picked from its data, and `explain check` gating them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.conftest import SHELF
from todoctl.cli.app import app

runner = CliRunner()


def shelf(url, *args: str):
    return runner.invoke(app, ["--project", str(SHELF), "-d", url.url, "explain", *args], env={"COLUMNS": "200"})


def test_a_missing_index_fails_the_query_that_relies_on_it_and_its_statement_restores_it(shelf_filled_db, pg):
    pg.execute("DROP INDEX ix_loan_user_id", database=shelf_filled_db.database)
    failed = shelf(shelf_filled_db, "check", "--runs", "1", "--json")
    assert failed.exit_code == 1, failed.output
    document = json.loads(failed.stdout)
    assert document["failed"] == ["reader-loans"]
    [missing] = [v for q in document["queries"] for v in q["violations"] if v["kind"] == "missing-index"]
    assert missing["sql"] == "CREATE INDEX CONCURRENTLY ix_loan_user_id ON loan (user_id)"
    pg.execute(missing["sql"], database=shelf_filled_db.database)
    assert shelf(shelf_filled_db, "check", "--runs", "1").exit_code == 0


def test_parameters_are_typed_by_their_annotations_and_the_rest_picked(shelf_filled_db):
    result = shelf(shelf_filled_db, "book-history", "--param", "since=2020-01-01", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["params"]["since"].startswith("2020-01-01T00:00:00")  # a date-time, UTC
    assert isinstance(document["params"]["book_id"], int)  # picked: the most borrowed book
    bad = shelf(shelf_filled_db, "book-history", "--param", "book_id=many")
    assert bad.exit_code == 2 and "parameter book_id='many' is not valid: expected an integer" in bad.stderr
    update = shelf(shelf_filled_db, "return-loan", "--json")
    assert update.exit_code == 0, update.output
    assert json.loads(update.stdout)["modifies"] is True


def test_explain_sql_on_the_user_table_suggests_an_index_that_runs(shelf_filled_db, pg):
    result = shelf(shelf_filled_db, "sql", "SELECT id FROM \"user\" WHERE full_name = 'Reader 7'", "--json")
    assert result.exit_code == 0, result.output
    fixes = [f["sql"] for f in json.loads(result.stdout)["findings"] if f["sql"]]
    assert fixes and all('"user"' in sql for sql in fixes if "user" in sql)
    for sql in fixes:
        pg.execute(sql, database=shelf_filled_db.database)

"""`explain sql` runs exactly one EXPLAIN-able statement: PostgreSQL's grammar (pglast) decides what
the text holds, the extended protocol carries it, and work a rollback cannot undo is refused."""

from __future__ import annotations

import pytest

from todoctl.core import explain
from todoctl.errors import ExitCode, TodoctlError

APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")


def counts(pg, url) -> list[int]:
    return [pg.execute(f"SELECT count(*) FROM {t}", database=url.database)[0][0] for t in APP_TABLES]


def test_a_dollar_in_an_identifier_cannot_smuggle_a_commit_and_a_delete(pg, seeded_db):
    url = seeded_db("small")
    before = counts(pg, url)
    assert before[2] > 0
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(url, "SELECT 1 AS a$b$ ; COMMIT; DELETE FROM tasks; --")
    assert caught.value.exit_code == ExitCode.USAGE
    assert counts(pg, url) == before

"""Health on the second app's tables (tests/apps/shelf): each table check catches the state it exists
to catch on shelf's own tables (a table named "user" among them), its hint's SQL runs and fixes it,
and a healthy, freshly filled shelf passes."""

from __future__ import annotations

import pytest

from tests.helpers import wait_for
from todoctl.core import health
from todoctl.core.health.registry import Status
from todoctl.core.health.thresholds import Thresholds

SHELF_TABLES = {"user", "category", "author", "book", "bookauthorlink", "loan"}


@pytest.fixture
def shelf(use_app, shelf_project, shelf_filled_db):
    use_app(shelf_project)
    return shelf_filled_db


def check(url, name: str, **limits):
    return health.run(url, checks=[name], thresholds=Thresholds(**limits)).get(name)


def run_sql(pg, url, sql: str) -> None:
    """Each statement of a hint on its own (CREATE/DROP INDEX CONCURRENTLY cannot share a transaction)."""
    from pglast import split

    for statement in split(sql):
        pg.execute(statement, database=url.database)


def stat(pg, url, table: str, column: str) -> int:
    rows = pg.execute(f"SELECT {column} FROM pg_stat_user_tables WHERE relname = '{table}'", database=url.database)
    return rows[0][0] if rows else 0


def test_a_healthy_filled_shelf_passes(shelf):
    report = health.run(shelf)
    assert not [c for c in report.checks if c.status is Status.FAIL], [(c.name, c.value) for c in report.checks]
    by_name = {c.name: c for c in report.checks}
    for name in ("invalid-indexes", "dead-tuples", "sequences", "unused-indexes", "migrations"):
        assert by_name[name].status is Status.OK, (name, by_name[name].value)
    assert {t["table"] for t in by_name["dead-tuples"].details["tables"]} == SHELF_TABLES
    # The app's one real overlap: ix_loan_book_id is led by loan's unique (book_id, borrowed_at).
    assert [(d["index"], d["kind"]) for d in by_name["duplicate-indexes"].details["indexes"]] == [
        ("ix_loan_book_id", "redundant-index")
    ]
    assert report.pool.engine == "shelf.db:engine" and report.pool.settings.pool_max == 15


def test_two_identical_indexes_on_the_user_table(shelf, pg):
    pg.execute('CREATE INDEX ix_user_name_a ON "user" (full_name); CREATE INDEX ix_user_name_b ON "user" (full_name)',
               database=shelf.database)
    found = check(shelf, "duplicate-indexes")
    assert found.status is Status.WARN
    duplicate = next(d for d in found.details["indexes"] if d["index"] == "ix_user_name_b")
    assert (duplicate["table"], duplicate["covered_by"], duplicate["kind"]) == ("user", "ix_user_name_a", "duplicate-index")
    assert duplicate["sql"] == "DROP INDEX CONCURRENTLY ix_user_name_b;" and duplicate["sql"] in found.hint
    run_sql(pg, shelf, duplicate["sql"])
    assert "ix_user_name_b" not in {d["index"] for d in check(shelf, "duplicate-indexes").details["indexes"]}


def test_nineteen_dead_tuples_for_each_live_one_fail(shelf, pg):
    db = shelf.database
    pg.execute('ALTER TABLE "user" SET (autovacuum_enabled = false)', database=db)  # autovacuum must not win the race
    pg.execute(
        "INSERT INTO \"user\" (email, hashed_password, role, is_active, created_at) "
        "SELECT 'bulk' || g || '@shelf.example', 'x', 'reader', true, now() FROM generate_series(1, 200000) AS g",
        database=db,
    )
    # 190,000 dead, and 10,000 live as the statistics count them (a copy of the filled database starts
    # its counters at zero: the 2,000 readers it was made with are not counted).
    pg.execute('DELETE FROM "user" WHERE id > 2000 AND id <= 192000', database=db)
    assert wait_for(lambda: stat(pg, shelf, "user", "n_dead_tup") >= 190_000, timeout=30)
    found = check(shelf, "dead-tuples")
    assert found.status is Status.FAIL, found.value
    worst = next(t for t in found.details["tables"] if t["table"] == "user")
    assert (worst["live"], worst["dead"]) == (10_000, 190_000) and worst["dead_ratio"] == 0.95
    assert found.value.startswith("worst user: 95% dead (190,000 rows)")
    assert found.details["sql"] == 'VACUUM (ANALYZE) "user";' and found.details["sql"] in found.hint
    run_sql(pg, shelf, found.details["sql"])
    assert wait_for(lambda: stat(pg, shelf, "user", "n_dead_tup") == 0, timeout=30)
    assert check(shelf, "dead-tuples").status is Status.OK


def test_an_index_never_scanned_on_a_table_in_use(shelf, pg):
    db = shelf.database
    pg.execute("CREATE INDEX ix_book_pages ON book (pages)", database=db)
    calm = check(shelf, "unused-indexes", unused_index_min_scans=20)
    assert calm.status is Status.OK and "none judged" in calm.value  # a fresh copy: no table in use yet
    pg.execute("DO $$ BEGIN FOR i IN 1..30 LOOP PERFORM count(*) FROM book WHERE price > 1; END LOOP; END $$", database=db)
    assert wait_for(lambda: stat(pg, shelf, "book", "seq_scan") >= 20, timeout=30)
    found = check(shelf, "unused-indexes", unused_index_min_scans=20)
    assert found.status is Status.WARN
    assert [(u["table"], u["index"]) for u in found.details["indexes"]] == [("book", "ix_book_pages")]
    assert found.details["sql"] == "DROP INDEX CONCURRENTLY ix_book_pages;" and found.details["sql"] in found.hint
    run_sql(pg, shelf, found.details["sql"])
    assert check(shelf, "unused-indexes", unused_index_min_scans=20).status is Status.OK


def test_a_sequence_near_the_end_of_its_columns_range(shelf, pg):
    db = shelf.database
    pg.execute("SELECT setval(pg_get_serial_sequence('\"user\"', 'id'), 2000000000)", database=db)
    found = check(shelf, "sequences")
    assert found.status is Status.FAIL, found.value
    fullest = found.details["fullest"]
    assert (fullest["column"], fullest["column_type"], fullest["type"]) == ("user.id", "integer", "integer")
    assert found.details["sql"] == (
        'ALTER TABLE public."user" ALTER COLUMN id TYPE bigint; ALTER SEQUENCE public.user_id_seq AS bigint;'
    )
    run_sql(pg, shelf, found.details["sql"])
    assert check(shelf, "sequences").status is Status.OK

"""cache-hit judges a window of real traffic, not the counters' whole history.

Every state here is produced for real: a table larger than shared_buffers read repeatedly, the same
table read once, a counters reset, no traffic at all.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.core.health.test_health import wait_until
from todoctl.core import health
from todoctl.core.health import counters as health_counters
from todoctl.core.health.registry import Status
from todoctl.core.health.thresholds import Thresholds
from todoctl.db.url import DatabaseURL


def cache_hit(url: DatabaseURL, **options):
    return health.run(url, checks=["cache-hit"], thresholds=Thresholds(), **options).get("cache-hit")


def shared_buffers_blocks(pg) -> int:
    return int(pg.execute("SELECT setting FROM pg_settings WHERE name = 'shared_buffers'")[0][0])


def make_big_table(pg, url: DatabaseURL) -> int:
    """A table a quarter larger than shared_buffers (it cannot stay cached); returns its size in blocks."""
    db = url.database
    rows = int(shared_buffers_blocks(pg) * 1.25) * 8  # 900-byte rows: 8 to a block
    pg.execute(
        "CREATE TABLE big WITH (autovacuum_enabled = false) AS "
        f"SELECT g AS id, repeat('x', 900) AS pad FROM generate_series(1, {rows}) g",
        database=db,
    )
    pg.execute("VACUUM ANALYZE big", database=db)  # sets relpages, as autovacuum would
    return pg.execute("SELECT relpages FROM pg_class WHERE relname = 'big'", database=db)[0][0]


def big_reads(pg, url: DatabaseURL) -> int:
    rows = pg.execute("SELECT heap_blks_read FROM pg_statio_user_tables WHERE relname = 'big'", database=url.database)
    return rows[0][0] or 0


def scan_big(pg, url: DatabaseURL, times: int, blocks: int) -> None:
    """Read the whole table ``times`` times, each from its own session, and wait until the statistics show it."""
    before = big_reads(pg, url)
    for _ in range(times):
        pg.execute("SELECT count(*) FROM big WHERE pad <> ''", database=url.database)
    # Most of each pass misses shared buffers (the table is larger than they are).
    wait_until(lambda: big_reads(pg, url) - before >= 0.8 * times * blocks, what="the reads in the statistics")


def test_first_run_records_a_reading_and_does_not_judge(migrated_db):
    check = cache_hit(migrated_db)
    assert check.status is Status.SKIP
    assert check.value.startswith("no earlier reading") and "--sample" in check.hint
    assert check.details["recorded"] is True
    directory = health_counters.store_dir()
    files = list(directory.glob("counters-*.json"))
    assert files and not list(directory.glob("*.tmp"))  # written atomically: no temporary file left
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The record holds counters and a hashed key, nothing that names a user or a password.
    newest = max(files, key=os.path.getmtime)
    assert set(json.loads(newest.read_text())) == {"key", "taken_at", "blks_hit", "blks_read", "relations"}


def test_too_little_traffic_is_skipped_and_adds_up_across_runs(migrated_db):
    cache_hit(migrated_db)  # records the reading the next runs compare with
    second = cache_hit(migrated_db)
    assert second.status is Status.SKIP and second.value.startswith("not enough traffic to judge")
    assert second.details["window"]["source"] == "since-last-run"
    assert "recorded" not in second.details  # the earlier reading is kept: traffic adds up
    third = cache_hit(migrated_db)
    assert third.details["window"]["hits"] > second.details["window"]["hits"]
    assert third.details["window"]["duration_ms"] >= second.details["window"]["duration_ms"]


def test_a_stats_reset_starts_over(pg, migrated_db):
    cache_hit(migrated_db)
    pg.execute("SELECT pg_stat_reset()", database=migrated_db.database)
    check = cache_hit(migrated_db)
    assert check.status is Status.SKIP and check.value.startswith("no earlier reading")


def test_sample_measures_now_without_an_earlier_reading(migrated_db):
    check = cache_hit(migrated_db, sample=0.3)
    assert check.status is Status.SKIP and check.value.startswith("not enough traffic to judge")
    assert check.details["window"]["source"] == "sample" and check.details["window"]["duration_ms"] > 0


def test_sample_out_of_range_is_a_usage_error(migrated_db):
    from todoctl.errors import ExitCode, TodoctlError

    for bad in (-1, 3601, float("nan")):
        with pytest.raises(TodoctlError) as raised:
            health.run(migrated_db, checks=["version"], sample=bad)
        assert raised.value.exit_code is ExitCode.USAGE and raised.value.hint


@pytest.mark.slow
def test_working_set_larger_than_shared_buffers_read_repeatedly_fails_with_the_shared_buffers_advice(
    pg, migrated_db
):
    blocks = make_big_table(pg, migrated_db)
    assert blocks > shared_buffers_blocks(pg)
    cache_hit(migrated_db)  # the window starts here
    scan_big(pg, migrated_db, 3, blocks)
    check = cache_hit(migrated_db)
    assert check.status is Status.FAIL, check.value
    assert check.details["ratio"] < 0.9
    assert "shared_buffers" in check.hint
    window = check.details["window"]
    # About one pass over each table is forgiven (the big one, and a few catalog blocks); the re-reads are not.
    assert window["first_read_misses"] <= blocks + 100
    assert window["misses"] - window["first_read_misses"] >= blocks


@pytest.mark.slow
def test_a_one_off_bulk_read_of_the_same_table_is_not_a_failure(pg, migrated_db):
    blocks = make_big_table(pg, migrated_db)
    cache_hit(migrated_db)
    scan_big(pg, migrated_db, 1, blocks)
    check = cache_hit(migrated_db)
    assert check.status in (Status.OK, Status.SKIP), check.value
    window = check.details["window"]
    assert window["misses"] >= 0.8 * blocks  # the read really missed the cache...
    assert window["first_read_misses"] >= 0.8 * blocks  # ...once per block: a first read, not held against it


@pytest.mark.slow
def test_a_bulk_load_between_two_runs_is_not_held_against_the_cache(pg, migrated_db):
    from todoctl.core import seed

    cache_hit(migrated_db)  # a reading from before the load
    # The load profile's shape at a fifth of its size: big enough that rebuilding the indexes and
    # checking the keys re-read the tasks table from outside shared buffers, several times over.
    seed.run(migrated_db, profile="load", users=10_000)
    report = health.run(migrated_db)
    check = report.get("cache-hit")
    assert check.status in (Status.OK, Status.SKIP), check.value
    window = check.details["window"]
    assert window["load_misses"] > window["hits"] * 0.1  # the load's reads were seen and set aside
    assert report.ok, [(c.name, c.value) for c in report.checks if c.status is Status.FAIL]

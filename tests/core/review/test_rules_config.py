"""Review rules over the app's connection settings: pool-size, pool-recycle, query-timeout."""

from __future__ import annotations

import pytest

from tests.core.review.rule_helpers import context, findings


def test_default_settings_pass(tmp_path):
    for rule in ("pool-size", "pool-recycle", "query-timeout"):
        assert findings(context(tmp_path, environ={}), rule) == []


@pytest.mark.parametrize(
    "environ, location, words",
    [
        ({"DB_POOL_MIN": "2"}, "DB_POOL_MIN", "DB_POOL_MIN=2 keeps fewer than 5"),
        ({"DB_POOL_MAX": "80"}, "DB_POOL_MAX", "DB_POOL_MAX=80 lets one app process open more than 50"),
    ],
)
def test_a_pool_too_small_or_too_large_is_found(tmp_path, environ, location, words):
    [finding] = findings(context(tmp_path, environ=environ), "pool-size")

    assert finding.location == location
    assert words in finding.message
    assert finding.hint.startswith("set DB_POOL_")


def test_a_pool_within_bounds_passes(tmp_path):
    assert findings(context(tmp_path, environ={"DB_POOL_MIN": "5", "DB_POOL_MAX": "50"}), "pool-size") == []


def test_settings_the_app_would_refuse_are_reported_once(tmp_path):
    ctx = context(tmp_path, environ={"DB_POOL_MIN": "30", "DB_POOL_MAX": "10"})

    [finding] = findings(ctx, "pool-size")
    assert "must not be greater than DB_POOL_MAX" in finding.message
    assert findings(ctx, "pool-recycle") == [] and findings(ctx, "query-timeout") == []


def test_a_recycle_under_a_minute_is_found(tmp_path):
    [finding] = findings(context(tmp_path, environ={"DB_POOL_RECYCLE": "30"}), "pool-recycle")

    assert finding.location == "DB_POOL_RECYCLE"
    assert "DB_POOL_RECYCLE=30 s" in finding.message

    assert findings(context(tmp_path, environ={"DB_POOL_RECYCLE": "60"}), "pool-recycle") == []


def test_no_query_timeout_offline_is_found(tmp_path):
    [finding] = findings(context(tmp_path, environ={"DB_QUERY_TIMEOUT": "0"}), "query-timeout")

    assert finding.location == "DB_QUERY_TIMEOUT"
    assert "--offline" in finding.message
    assert "DB_QUERY_TIMEOUT=30" in finding.hint


def test_a_database_statement_timeout_counts_when_live(tmp_path, pg, empty_db):
    ctx = lambda: context(tmp_path, environ={"DB_QUERY_TIMEOUT": "0"}, url=empty_db)  # noqa: E731

    [finding] = findings(ctx(), "query-timeout")
    assert "server sets no statement_timeout" in finding.message

    pg.execute(f"ALTER DATABASE \"{empty_db.database}\" SET statement_timeout = '30s'")

    assert findings(ctx(), "query-timeout") == []


def test_the_app_timeout_alone_passes_live(tmp_path, empty_db):
    assert findings(context(tmp_path, environ={"DB_QUERY_TIMEOUT": "15"}, url=empty_db), "query-timeout") == []

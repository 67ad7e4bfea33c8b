"""Suggestion rules: each finds the thing absent, finds nothing when it is there, and never fails a review."""

from __future__ import annotations


import pytest
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, select

from tests.core.review.rule_helpers import context, findings, named, user_param
from todoctl.core.review import run, select_rules
from todoctl.errors import TodoctlError
from todoctl.named_queries import Param

SUGGESTIONS = [
    "replication-ha",
    "caching",
    "audit-log",
    "soft-delete",
    "text-search-index",
    "slow-query-monitoring",
    "backups-pitr",
    "partitioning",
    "analytics-replica",
    "pooled-url",
]
NEON = "postgresql://app:secret@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/todo?sslmode=require"
NEON_POOLED = NEON.replace("ep-cool-darkness-123456", "ep-cool-darkness-123456-pooler")


def test_every_suggestion_is_a_suggestion():
    assert {r.id: r.tier for r in select_rules(SUGGESTIONS)} == dict.fromkeys(SUGGESTIONS, "suggestion")


def test_suggestions_never_fail_a_strict_review(tmp_path, empty_db):
    metadata, tasks = _tasks_metadata()
    report = run(context(tmp_path, metadata, [_search(tasks)], url=empty_db, environ={"TODOCTL_REVIEW_PARTITION_SIZE": "0"}), only=SUGGESTIONS, strict=True)

    assert report.counts.suggestion >= 5
    assert not report.failed


def _tasks_metadata(*extra: Column) -> tuple[MetaData, Table]:
    metadata = MetaData()
    Table("users", metadata, Column("id", Integer, primary_key=True), *[Column(c.name, c.type) for c in extra])
    tasks = Table(
        "tasks",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id")),
        Column("title", String),
        *extra,
    )
    return metadata, tasks


def _search(tasks: Table):
    return named(
        "task-title-search",
        lambda user_id, q: select(tasks).where(tasks.c.user_id == user_id, tasks.c.title.ilike(q)),
        user_param(),
        Param("pattern", name="q", type=str),
    )


def test_replication_ha(tmp_path):
    [finding] = findings(context(tmp_path), "replication-ha")
    assert finding.location == "DATABASE_URL_REPLICA"

    assert findings(context(tmp_path, environ={"DATABASE_URL_REPLICA": NEON}), "replication-ha") == []


def test_caching(tmp_path):
    [finding] = findings(context(tmp_path), "caching")
    assert "REDIS_URL" in finding.message

    assert findings(context(tmp_path, environ={"REDIS_URL": "redis://cache:6379/0"}), "caching") == []


def test_audit_log(tmp_path):
    metadata, _ = _tasks_metadata()
    [finding] = findings(context(tmp_path, metadata), "audit-log")
    assert finding.location == "schema"

    Table("audit_log", metadata, Column("id", Integer, primary_key=True))
    assert findings(context(tmp_path, metadata), "audit-log") == []


def test_soft_delete(tmp_path):
    metadata, _ = _tasks_metadata()
    found = findings(context(tmp_path, metadata), "soft-delete")
    assert [f.location for f in found] == ["tasks", "users"]
    assert "deleted_at" in found[0].hint

    metadata, _ = _tasks_metadata(Column("deleted_at", DateTime(timezone=True)))
    assert findings(context(tmp_path, metadata), "soft-delete") == []


def test_text_search_index(tmp_path):
    metadata, tasks = _tasks_metadata()
    [finding] = findings(context(tmp_path, metadata, [_search(tasks)]), "text-search-index")
    assert finding.location == "query task-title-search"
    assert "tasks.title" in finding.message and "gin_trgm_ops" in finding.hint

    Index("ix_tasks_title_trgm", tasks.c.title, postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"})
    assert findings(context(tmp_path, metadata, [_search(tasks)]), "text-search-index") == []


def test_slow_query_monitoring_live(tmp_path, pg, empty_db):
    available = pg.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'")
    [finding] = findings(context(tmp_path, url=empty_db), "slow-query-monitoring")
    assert finding.location == "database"
    assert "pg_stat_statements is not installed" in finding.message
    if not available:
        assert "does not ship it" in finding.message
        pytest.skip("this server does not ship pg_stat_statements: the installed case cannot be shown")
    pg.execute("CREATE EXTENSION pg_stat_statements", database=empty_db.database)
    assert findings(context(tmp_path, url=empty_db), "slow-query-monitoring") == []


def test_slow_query_monitoring_is_skipped_offline(tmp_path):
    report = run(context(tmp_path), only=["slow-query-monitoring", "partitioning"])
    assert [s.rule for s in report.skipped] == ["slow-query-monitoring", "partitioning"]


def test_backups_pitr(tmp_path):
    [finding] = findings(context(tmp_path), "backups-pitr")
    assert "local or embedded server" in finding.message
    [finding] = findings(context(tmp_path, environ={"DATABASE_URL": "postgresql://app:pw@db.example.com/todo"}), "backups-pitr")
    assert "db.example.com" in finding.message and "pw" not in finding.message

    assert findings(context(tmp_path, environ={"DATABASE_URL": NEON}), "backups-pitr") == []


def test_partitioning_live(tmp_path, pg, migrated_db):
    pg.execute("INSERT INTO users (email, password_hash) SELECT 'u' || g || '@example.com', "
               "'$2b$12$' || repeat('a', 53) FROM generate_series(1, 200) g", database=migrated_db.database)

    found = findings(context(tmp_path, url=migrated_db, environ={"TODOCTL_REVIEW_PARTITION_SIZE": "16kB"}), "partitioning")
    assert "users" in [f.location for f in found]
    [users] = [f for f in found if f.location == "users"]
    assert "over 16kB, and not partitioned" in users.message

    assert findings(context(tmp_path, url=migrated_db), "partitioning") == []  # default 10GB


def test_partitioning_size_must_be_a_size(tmp_path, empty_db):
    with pytest.raises(TodoctlError) as caught:
        findings(context(tmp_path, url=empty_db, environ={"TODOCTL_REVIEW_PARTITION_SIZE": "lots"}), "partitioning")
    assert "TODOCTL_REVIEW_PARTITION_SIZE='lots' is not a size" in caught.value.message


def test_analytics_replica(tmp_path):
    metadata, tasks = _tasks_metadata()
    job = named("all-titles", lambda: select(tasks.c.title), cross_user=True)
    [finding] = findings(context(tmp_path, metadata, [job]), "analytics-replica")
    assert finding.location == "query all-titles"

    assert findings(context(tmp_path, metadata, [job], environ={"DATABASE_URL_REPLICA": NEON}), "analytics-replica") == []
    assert findings(context(tmp_path, metadata, [_search(tasks)]), "analytics-replica") == []


@pytest.mark.parametrize(
    "environ, says",
    [
        ({"DATABASE_URL": NEON}, "straight to ep-cool-darkness-123456.eu-central-1.aws.neon.tech"),
        ({"DATABASE_URL": NEON, "DATABASE_URL_UNPOOLED": NEON}, "the same URL as DATABASE_URL_UNPOOLED"),
    ],
)
def test_pooled_url_missing(tmp_path, environ, says):
    [finding] = findings(context(tmp_path, environ=environ), "pooled-url")
    assert says in finding.message and "secret" not in finding.message


@pytest.mark.parametrize(
    "environ",
    [{}, {"DATABASE_URL": "postgresql://app@localhost/todo"}, {"DATABASE_URL": NEON_POOLED, "DATABASE_URL_UNPOOLED": NEON}],
)
def test_pooled_url_present_or_local(tmp_path, environ):
    assert findings(context(tmp_path, environ=environ), "pooled-url") == []


def test_the_app_passes_all_these_rules_live_and_strict(migrated_db):
    from pathlib import Path

    from todoctl.core.review import app_context

    mine = SUGGESTIONS + ["sql-injection", "query-user-scope", "query-index", "index-column-order", "n-plus-one"]
    mine += ["pool-size", "pool-recycle", "query-timeout"]
    report = run(app_context(Path(__file__).resolve().parents[3], url=migrated_db, environ={}), only=mine, strict=True)

    assert report.skipped == []
    assert report.counts.critical == report.counts.warning == 0
    assert not report.failed

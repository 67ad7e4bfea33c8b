"""Seed core on a real PostgreSQL: determinism, realism, constraints, atomicity, bad input."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from todoctl.core import seed
from todoctl.core.seed import job as seed_job
from todoctl.core.seed import plan as seed_plan
from todoctl.core.seed import profile as seed_profile
from todoctl.errors import ExitCode, TodoctlError
from todoctl.todo.models import SEARCH_EXPRESSION

APP_TABLES = ("users", "task_lists", "tags", "tasks", "task_tags")
REFERENCE = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def second_db(pg, migrated_template):
    name = pg.create_database(template=migrated_template)
    yield pg.url_for(name)
    pg.drop_database(name)


def counts(pg, url) -> dict[str, int]:
    return {t: pg.execute(f"SELECT count(*) FROM {t}", database=url.database)[0][0] for t in APP_TABLES}


def schema_objects(pg, url) -> list[tuple]:
    """Every index and constraint definition on the app tables (to prove they come back intact)."""
    indexes = pg.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1", database=url.database
    )
    constraints = pg.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        database=url.database,
    )
    return indexes + constraints


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_databases(pg, migrated_db, second_db):
    first = seed.run(migrated_db, profile="small", seed=7)
    second = seed.run(second_db, profile="small", seed=7)

    assert first.fingerprint == second.fingerprint
    assert first.fingerprint == seed.fingerprint(migrated_db) == seed.fingerprint(second_db)
    # Not only the hash: ids and timestamps are equal row for row.
    query = "SELECT id, email, created_at FROM users ORDER BY id"
    assert pg.execute(query, database=migrated_db.database) == pg.execute(query, database=second_db.database)
    query = "SELECT id, user_id, list_id, title, due_date, completed_at, updated_at FROM tasks ORDER BY id"
    assert pg.execute(query, database=migrated_db.database) == pg.execute(query, database=second_db.database)


def test_different_seed_gives_different_fingerprint(migrated_db, second_db):
    first = seed.run(migrated_db, profile="small", seed=7)
    second = seed.run(second_db, profile="small", seed=8)
    assert first.fingerprint != second.fingerprint


def test_timestamps_follow_the_reference_time(pg, migrated_db, second_db):
    later = REFERENCE + timedelta(days=10)
    seed.run(migrated_db, profile="small", seed=7, now=REFERENCE)
    seed.run(second_db, profile="small", seed=7, now=later)
    query = "SELECT max(created_at), max(updated_at) FROM users"
    (first_created, _), = pg.execute(query, database=migrated_db.database)
    (second_created, _), = pg.execute(query, database=second_db.database)
    assert first_created < REFERENCE
    assert second_created - first_created == timedelta(days=10)


def test_fingerprint_ignores_row_order(pg, migrated_db):
    seed.run(migrated_db, profile="small", seed=3)
    before = seed.fingerprint(migrated_db)
    # Rewrite tasks in another physical order: same content, same fingerprint.
    pg.execute(
        "BEGIN; CREATE TEMP TABLE t AS SELECT * FROM task_tags ORDER BY tag_id DESC; DELETE FROM task_tags; "
        "INSERT INTO task_tags SELECT * FROM t; COMMIT",
        database=migrated_db.database,
    )
    assert seed.fingerprint(migrated_db) == before


# ---------------------------------------------------------------- realistic and consistent data


def test_every_table_is_filled_consistently(pg, migrated_db):
    report = seed.run(migrated_db, profile="demo", users=60, seed=11)

    got = counts(pg, migrated_db)
    assert got == {t.table: t.rows for t in report.tables}
    assert got["users"] == 60 and got["tasks"] == 60 * 20
    assert all(got[t] > 0 for t in APP_TABLES)
    db = migrated_db.database
    q = lambda sql: pg.execute(sql, database=db)[0][0]  # noqa: E731
    ref = f"'{REFERENCE.isoformat()}'::timestamptz"
    # Statuses agree with dates.
    assert q(f"SELECT count(*) FROM tasks WHERE status = 'pending' AND due_date <= {ref}") == 0
    assert q(f"SELECT count(*) FROM tasks WHERE status = 'overdue' AND (due_date IS NULL OR due_date >= {ref})") == 0
    assert q("SELECT count(*) FROM tasks WHERE status = 'overdue' AND due_date < created_at") == 0
    assert q("SELECT count(*) FROM tasks WHERE (status = 'completed') <> (completed_at IS NOT NULL)") == 0
    assert q(f"SELECT count(*) FROM tasks WHERE completed_at < created_at OR completed_at > {ref}") == 0
    # Time flows forward: user, then their lists, tags and tasks; updates after creation.
    for table in ("task_lists", "tags", "tasks"):
        assert q(f"SELECT count(*) FROM {table} x JOIN users u ON u.id = x.user_id WHERE x.created_at < u.created_at") == 0
    for table in ("users", "task_lists", "tags", "tasks"):
        assert q(f"SELECT count(*) FROM {table} WHERE updated_at < created_at OR created_at > {ref}") == 0
    # A task's list and tags belong to the task's user.
    assert q("SELECT count(*) FROM tasks t JOIN task_lists l ON l.id = t.list_id WHERE l.user_id <> t.user_id") == 0
    assert q("SELECT count(*) FROM task_tags x JOIN tasks t ON t.id = x.task_id JOIN tags g ON g.id = x.tag_id "
             "WHERE g.user_id <> t.user_id") == 0  # fmt: skip
    # Every status, priority and theme occurs; some optional fields are set and some are not.
    assert q("SELECT count(DISTINCT status) FROM tasks") == 3
    assert q("SELECT count(DISTINCT priority) FROM tasks") == 3
    assert q("SELECT count(DISTINCT theme) FROM users") == 3
    for column in ("description", "due_date", "estimated_hours", "list_id"):
        assert 0 < q(f"SELECT count({column}) FROM tasks") < got["tasks"]
    # Every task is findable: the expression ix_tasks_search indexes has lexemes for each.
    assert q(f"SELECT count(*) FROM tasks WHERE length({SEARCH_EXPRESSION}) = 0") == 0
    # Emails are unique and of the reserved example domains; hashes are bcrypt.
    assert q("SELECT count(DISTINCT lower(email)) FROM users") == 60
    assert q(r"SELECT count(*) FROM users WHERE email !~ '^[a-z]+\.[a-z]+\.[0-9]+@example\.(com|org|net)$'") == 0
    assert q(r"SELECT count(*) FROM users WHERE password_hash !~ '^\$2b\$12\$'") == 0


def test_load_profile_is_skewed_towards_a_few_heavy_users():
    plan = seed_plan.build(seed_profile.load("load"))
    assert plan.counts["users"] == 50_000 and plan.counts["tasks"] == 1_000_000
    counts_ = [int(c) for c in (plan.by_name("tasks").starts[1:] - plan.by_name("tasks").starts[:-1])]
    assert sum(counts_) == 1_000_000 and len(counts_) == 50_000
    assert max(counts_) >= 100 * statistics.median(counts_)


def test_big_load_rebuilds_indexes_and_constraints_exactly(pg, migrated_db, monkeypatch):
    before = schema_objects(pg, migrated_db)
    monkeypatch.setattr(seed_job, "REBUILD_INDEXES_FROM_ROWS", 1)
    report = seed.run(migrated_db, profile="small")
    assert report.rebuilt_indexes
    assert schema_objects(pg, migrated_db) == before


def test_fast_path_and_plain_path_give_the_same_fingerprint(migrated_db, second_db, monkeypatch):
    plain = seed.run(migrated_db, profile="small", seed=5)
    monkeypatch.setattr(seed_job, "REBUILD_INDEXES_FROM_ROWS", 1)
    rebuilt = seed.run(second_db, profile="small", seed=5)
    assert not plain.rebuilt_indexes and rebuilt.rebuilt_indexes
    assert plain.fingerprint == rebuilt.fingerprint


# ---------------------------------------------------------------- modes


def test_refuses_tables_that_hold_rows(migrated_db):
    seed.run(migrated_db, profile="small")
    before = seed.fingerprint(migrated_db)
    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile="small", seed=99)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "--append" in caught.value.hint
    assert seed.fingerprint(migrated_db) == before


def test_append_adds_rows_and_keeps_emails_unique(pg, migrated_db):
    first = seed.run(migrated_db, profile="small", seed=1)
    second = seed.run(migrated_db, profile="small", seed=1, mode="append")
    got = counts(pg, migrated_db)
    for table in APP_TABLES:
        assert got[table] == next(t.rows for t in first.tables if t.table == table) + next(
            t.rows for t in second.tables if t.table == table
        )
    assert pg.execute("SELECT count(DISTINCT lower(email)) FROM users", database=migrated_db.database)[0][0] == 20


def test_truncate_replaces_the_contents(migrated_db, second_db):
    seed.run(migrated_db, profile="small", seed=1)
    replaced = seed.run(migrated_db, profile="small", seed=2, mode="truncate")
    fresh = seed.run(second_db, profile="small", seed=2)
    assert replaced.fingerprint == fresh.fingerprint


# ---------------------------------------------------------------- atomicity


@pytest.mark.parametrize("rebuild, at", [(False, "tasks"), (True, "tasks"), (True, "indexes")])
def test_ctrl_c_mid_load_leaves_the_database_as_it_was(pg, migrated_db, monkeypatch, rebuild, at):
    if rebuild:
        monkeypatch.setattr(seed_job, "REBUILD_INDEXES_FROM_ROWS", 1)
    before = schema_objects(pg, migrated_db)

    def interrupt(table, done, total):
        if table == at and done > 1:  # indexes: some are rebuilt already, others still dropped
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seed.run(migrated_db, profile="small", progress=interrupt)
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)
    assert schema_objects(pg, migrated_db) == before


def test_interrupted_truncate_keeps_the_old_rows(migrated_db):
    seed.run(migrated_db, profile="small", seed=1)
    before = seed.fingerprint(migrated_db)

    def interrupt(table, done, total):
        if table == "task_tags":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seed.run(migrated_db, profile="small", seed=2, mode="truncate", progress=interrupt)
    assert seed.fingerprint(migrated_db) == before


def test_constraint_error_rolls_everything_back(pg, migrated_db):
    # A rule the seed's data breaks (some tasks are high priority): the whole seed fails.
    pg.execute("ALTER TABLE tasks ADD CONSTRAINT no_high CHECK (priority <> 'high')", database=migrated_db.database)
    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile="small")
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "no_high" in caught.value.message and "nothing was written" in caught.value.message
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


def test_lost_connection_rolls_everything_back(pg, migrated_db):
    def kill_backend(table, done, total):
        if table == "tasks":
            pg.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{migrated_db.database}' AND application_name = 'todoctl seed'"
            )

    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile="small", progress=kill_backend)
    assert caught.value.exit_code == ExitCode.CONNECTION
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


# ---------------------------------------------------------------- bad input and missing schema


@pytest.mark.parametrize(
    "options",
    [
        {"users": -1},
        {"users": 0},
        {"users": 10**9},
        {"rows": ["tasks=-5"]},
        {"rows": ["tasks=nan"]},
        {"rows": ["tasks=30000000"]},
        {"rows": ["=5"]},
        {"rows": ["no_such_table=5"]},
        {"locale": "xx_XX"},
        {"seed": -7},
        {"profile": "no-such-profile"},
        {"mode": "replace"},
    ],
)
def test_bad_options_are_usage_errors_and_touch_nothing(pg, migrated_db, options):
    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, **options)
    assert caught.value.exit_code == ExitCode.USAGE
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


@pytest.mark.parametrize(
    "content, message",
    [
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.users\nrows = 3\n", "malformed"),
        ("[tables.users]\nrows = 3\n", "reference_time is required"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.users]\nrwos = 3\n", "tables.users.rwos"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.users]\nrows = -3\n", "tables.users.rows"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.tasks.columns]\nstatus = { weights = { done = 1 } }\n", "done"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.tasks.columns]\ndescription = { null = 1.5 }\n", "description.null"),
        ("reference_time = 'yesterday'\n", "reference_time"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.task_lists]\nper_parent = { min = 3, max = 1 }\n", "per_parent"),
        ("reference_time = 2026-06-01T09:00:00Z\n[users]\ncount = 3\n", "users"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.userz]\nrows = 3\n", "userz"),
        ("reference_time = 2026-06-01T09:00:00Z\n[tables.users.columns.emial]\nnull = 0.1\n", "emial"),
    ],
)
def test_malformed_profile_files_are_usage_errors(tmp_path: Path, pg, migrated_db, content, message):
    path = tmp_path / "broken.toml"
    path.write_text(content)
    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile=path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert message in caught.value.message
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


def test_profile_from_a_path(tmp_path: Path, pg, migrated_db):
    path = tmp_path / "mine.toml"
    path.write_text(
        "reference_time = 2026-01-01T00:00:00Z\n[tables.users]\nrows = 4\n[tables.tasks]\nper_parent = { mean = 2, skew = 0 }\n"
    )
    report = seed.run(migrated_db, profile=str(path))
    assert report.profile == "mine"
    assert counts(pg, migrated_db)["users"] == 4
    assert counts(pg, migrated_db)["tasks"] == 8


def test_shipped_profiles_load():
    assert {"small", "demo", "load"} <= set(seed_profile.available())
    assert seed_profile.load("demo").spec("users").rows == 100


def test_unmigrated_database_is_reported(empty_db):
    with pytest.raises(TodoctlError) as caught:
        seed.run(empty_db, profile="small")
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "migrate up" in caught.value.hint


def test_database_behind_head_is_refused_before_writing(pg, migrated_db):
    from todoctl.core import migrate

    migrate.downgrade(migrated_db, "-1")
    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile="small")
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert caught.value.hint == "run `todoctl migrate up`"
    assert pg.execute("SELECT count(*) FROM users", database=migrated_db.database) == [(0,)]


@pytest.mark.parametrize(
    "body,message",
    [
        ("[tables.task_tags]\nper_parent = { weights = [inf, 1] }\n", "per_parent.weights"),
        ("[tables.task_tags]\nper_parent = { weights = [1e308, 1e308] }\n", "per_parent.weights"),
        ("[tables.tasks.columns]\nstatus = { weights = { pending = 1e308, completed = 1e308 } }\n", "status.weights.pending"),
        ("[tables.users.columns]\ntheme = { weights = { dark = nan } }\n", "theme.weights.dark"),
    ],
)
def test_weights_that_would_overflow_are_usage_errors(tmp_path: Path, body, message):
    path = tmp_path / "p.toml"
    path.write_text("reference_time = 2026-06-01T09:00:00Z\n" + body)
    with pytest.raises(TodoctlError) as caught:
        seed.run(None, profile=path, dry_run=True)
    assert caught.value.exit_code == ExitCode.USAGE
    assert message in caught.value.message


def test_dry_run_touches_nothing(pg, migrated_db):
    report = seed.run(migrated_db, profile="load", dry_run=True)
    assert report.dry_run and report.fingerprint == ""
    rows = {t.table: t.rows for t in report.tables}
    assert rows["users"] == 50_000 and rows["tasks"] == 1_000_000 and rows["task_tags"] > 0
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


def test_dry_run_counts_match_a_real_run_exactly(migrated_db):
    planned = {t.table: t.rows for t in seed.run(migrated_db, profile="demo", dry_run=True).tables}
    loaded = {t.table: t.rows for t in seed.run(migrated_db, profile="demo").tables}
    assert planned == loaded


def test_protected_database_is_refused_unless_overridden(pg, migrated_db, monkeypatch):
    import todoctl.core.safety.protect as protect

    protect.protect(migrated_db, reason="production")
    for mode in ("refuse", "truncate"):
        with pytest.raises(TodoctlError) as caught:
            seed.run(migrated_db, profile="small", mode=mode)
        assert caught.value.exit_code == ExitCode.REFUSED
        assert "protected" in caught.value.message
    monkeypatch.delenv("TODOCTL_ALLOW_PRODUCTION", raising=False)
    with pytest.raises(TodoctlError):
        seed.run(migrated_db, profile="small", yes=True)  # --yes alone is not enough
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)
    monkeypatch.setenv("TODOCTL_ALLOW_PRODUCTION", "1")
    assert seed.run(migrated_db, profile="small", yes=True).rows > 0


def test_statement_canceled_by_the_server_rolls_everything_back(pg, migrated_db):
    def cancel(table, done, total):
        if table == "tasks":
            pg.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{migrated_db.database}' AND application_name = 'todoctl seed'"
            )

    with pytest.raises(TodoctlError) as caught:
        seed.run(migrated_db, profile="small", progress=cancel)
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "canceled" in caught.value.message
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)


# ---------------------------------------------------------------- rows drawn on a producer thread


def test_a_failure_while_drawing_rows_rolls_everything_back(pg, migrated_db, monkeypatch):
    """The producer thread's error reaches the caller; the one transaction leaves nothing behind."""
    import itertools
    import threading

    from todoctl.core.seed.rows import Run

    class Broken(Run):
        def rows(self, table):
            drawn = super().rows(table)
            if table != "tasks":
                return drawn

            def rows():
                yield from itertools.islice(drawn, 1)
                raise RuntimeError("drawing failed")

            return rows()

    monkeypatch.setattr(seed_job, "REBUILD_INDEXES_FROM_ROWS", 1)  # users' indexes are rebuilt before tasks
    before = schema_objects(pg, migrated_db)
    with pytest.raises(RuntimeError, match="drawing failed"):
        seed.run(migrated_db, profile="small", source=lambda plan, offsets: Broken(plan, offsets).prepare())
    assert counts(pg, migrated_db) == dict.fromkeys(APP_TABLES, 0)
    assert schema_objects(pg, migrated_db) == before
    assert not [t for t in threading.enumerate() if t.name == "todoctl-seed-rows"]


def test_the_seed_holds_one_connection_while_rows_are_drawn_ahead(pg, migrated_db):
    seen: list[int] = []

    def watch(table, done, total):
        seen.append(
            pg.execute(
                "SELECT count(*) FROM pg_stat_activity "
                f"WHERE datname = '{migrated_db.database}' AND application_name = 'todoctl seed'"
            )[0][0]
        )

    seed.run(migrated_db, profile="small", progress=watch)
    assert seen and set(seen) == {1}

"""Schema core on a real PostgreSQL: show, diff (models, history, live), dump, ERD, lint.

Every difference and every lint finding is produced for real: an ALTER TABLE by hand, a
table or index added to the models with no migration, a database rolled back behind head,
scratch tables for each lint rule.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Index, Integer, String, Table
from todoctl.todo.models import metadata as todo_metadata

from todoctl.core import migrate
from todoctl.core.schema import diff as schema_diff
import todoctl.core.schema.lint_report as schema_lint
from todoctl.core.schema import mermaid as schema_erd
from todoctl.core.schema import pgdump as schema_dump
from todoctl.core.schema import show as schema_show
from todoctl.errors import ExitCode, TodoctlError

ALL = [r.revision for r in migrate.history()]
HEAD = ALL[-1]
BCRYPT = "$2b$12$" + "a" * 53


def run(pg, url, sql: str) -> None:
    pg.execute(sql, database=url.database)


def found(differences, category=None) -> set[tuple[str, str, str]]:
    return {(d.kind, d.table, d.name) for d in differences if category is None or d.category == category}


@pytest.fixture
def model_change():
    """A table and an index that exist in the models only: a model change with no migration."""
    metadata = todo_metadata
    reminders = Table(
        "reminders",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("note", String(200), nullable=False),
    )
    tasks = metadata.tables["tasks"]
    title_index = Index("ix_tasks_title", tasks.c.title)
    yield
    tasks.indexes.discard(title_index)
    metadata.remove(reminders)


# ---------------------------------------------------------------- show


def test_overview_lists_every_table_with_estimated_rows_and_size(pg, migrated_db):
    run(pg, migrated_db, "INSERT INTO users (email, password_hash) SELECT 'u' || g || '@x.io', "
        f"'{BCRYPT}' FROM generate_series(1, 3) g; ANALYZE users")
    result = schema_show.overview(migrated_db)
    tables = {t.name: t for t in result.tables}
    assert set(tables) == {"alembic_version", "users", "task_lists", "tasks", "tags", "task_tags"}
    assert tables["users"].estimated_rows == 3
    assert tables["users"].total_bytes > 0 and tables["users"].total_size.endswith(("bytes", "kB", "MB"))


def test_table_detail_has_columns_indexes_constraints_and_foreign_keys_both_ways(migrated_db):
    detail = schema_show.table_detail(migrated_db, "tasks")
    columns = {c.name: c for c in detail.columns}
    assert columns["title"].type == "character varying(255)" and not columns["title"].nullable
    assert columns["status"].default == "'pending'::character varying"
    assert columns["list_id"].nullable
    assert "search_vector" not in columns  # an expression index since 0008, not a stored column
    indexes = {i.name: i for i in detail.indexes}
    assert set(indexes) == {"pk_tasks", "ix_tasks_user_status_due", "ix_tasks_list_due", "ix_tasks_search", "ix_tasks_pending_due"}
    assert indexes["ix_tasks_search"].method == "gin" and indexes["ix_tasks_pending_due"].predicate
    assert "to_tsvector" in indexes["ix_tasks_search"].definition
    assert indexes["pk_tasks"].primary and indexes["pk_tasks"].size_bytes > 0
    assert indexes["ix_tasks_user_status_due"].columns == ("user_id", "status", "due_date", "id")
    assert indexes["ix_tasks_user_status_due"].key_options[:2] == ("uuid_ops", 'text_ops COLLATE "default"')
    assert all(isinstance(i.scans, int) and i.scans >= 0 for i in indexes.values())
    kinds = {c.name: c.kind for c in detail.constraints}
    assert kinds["pk_tasks"] == "primary key" and kinds["ck_tasks_priority"] == "check"
    assert kinds["fk_tasks_list_id_task_lists"] == "foreign key"
    out = {k.name: k for k in detail.foreign_keys_out}
    assert set(out) == {"fk_tasks_user_id_users", "fk_tasks_list_id_task_lists"}
    assert out["fk_tasks_list_id_task_lists"].references_table == "task_lists"
    assert out["fk_tasks_list_id_task_lists"].on_delete == "SET NULL"
    assert [(k.table, k.columns) for k in detail.foreign_keys_in] == [("task_tags", ("task_id",))]


def test_bookkeeping_tables_can_be_shown_too(migrated_db):
    detail = schema_show.table_detail(migrated_db, "alembic_version")
    assert [c.name for c in detail.columns] == ["version_num"]


def test_unknown_table_is_a_usage_error_listing_the_tables(migrated_db):
    with pytest.raises(TodoctlError) as caught:
        schema_show.table_detail(migrated_db, "taks")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "tasks" in caught.value.hint


# ---------------------------------------------------------------- diff against the models


def test_database_at_head_matches_the_models(migrated_db):
    result = schema_diff.against_models(migrated_db)
    assert result.in_sync and result.differences == [] and result.notes == []
    assert result.current == [HEAD] and result.heads == [HEAD]


def test_hand_changes_are_each_explained_against_the_models(pg, migrated_db):
    run(
        pg,
        migrated_db,
        "ALTER TABLE tasks ADD COLUMN notes text; "
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(200); "
        "ALTER TABLE tasks ALTER COLUMN description SET NOT NULL; "
        "DROP INDEX ix_tasks_list_due; "
        "CREATE INDEX ix_tags_name ON tags (name); "
        "ALTER TABLE tasks DROP CONSTRAINT ck_tasks_priority; "
        "ALTER TABLE task_tags DROP CONSTRAINT fk_task_tags_tag_id_tags; "
        "CREATE TABLE audit_log (id bigint PRIMARY KEY); "
        "DROP TABLE task_tags",
    )
    result = schema_diff.against_models(migrated_db)
    assert not result.in_sync
    kinds = found(result.differences)
    assert ("extra_column", "tasks", "notes") in kinds
    assert ("type_mismatch", "users", "name") in kinds
    assert ("nullability_mismatch", "tasks", "description") in kinds
    assert ("missing_index", "tasks", "ix_tasks_list_due") in kinds
    assert ("extra_index", "tags", "ix_tags_name") in kinds
    assert ("missing_check_constraint", "tasks", "ck_tasks_priority") in kinds
    assert ("extra_table", "audit_log", "audit_log") in kinds
    assert ("missing_table", "task_tags", "task_tags") in kinds
    messages = {(d.kind, d.name): d.message for d in result.differences}
    assert messages[("extra_column", "notes")] == "column tasks.notes (TEXT) is in the database but not in the models"
    assert "VARCHAR(200) in the database but VARCHAR(100) in the models" in messages[("type_mismatch", "name")]
    assert messages[("nullability_mismatch", "description")].endswith("NOT NULL in the database but nullable in the models")
    assert {d.category for d in result.differences} == {schema_diff.MODELS_VS_LIVE}


def test_a_database_behind_head_is_behind_not_drift(migrated_db):
    # Its missing index is the pending revision, not a difference from the models.
    migrate.downgrade(migrated_db, "-1")
    result = schema_diff.against_models(migrated_db)
    assert [(d.category, d.kind, d.name) for d in result.differences] == [
        (schema_diff.BEHIND_HISTORY, "pending_revision", HEAD)
    ]
    assert result.hints == {schema_diff.BEHIND_HISTORY: "run `todoctl migrate up`"}
    assert result.current == [ALL[-2]] and "not compared with the models" in result.notes[0]


def test_a_database_at_base_is_behind_by_every_revision_against_the_models(empty_db):
    result = schema_diff.against_models(empty_db)
    assert [d.name for d in result.differences] == ALL
    assert {d.category for d in result.differences} == {schema_diff.BEHIND_HISTORY}


def test_an_unknown_revision_is_reported_against_the_models_too(pg, migrated_db):
    run(pg, migrated_db, "UPDATE alembic_version SET version_num = 'ffff'")
    result = schema_diff.against_models(migrated_db)
    assert found(result.differences) == {("unknown_revision", "", "ffff")}
    assert set(result.hints) == {schema_diff.UNKNOWN_REVISION}


def test_models_with_no_migration_differ_from_a_database_at_head(migrated_db, model_change):
    result = schema_diff.against_models(migrated_db)
    assert found(result.differences) == {
        ("missing_table", "reminders", "reminders"),
        ("missing_index", "tasks", "ix_tasks_title"),
    }


# ---------------------------------------------------------------- diff against the history


def test_history_models_and_database_at_head_agree(migrated_db):
    result = schema_diff.against_history(migrated_db)
    assert result.in_sync, result.differences
    assert result.against == "history" and result.notes == []


def test_hand_changes_are_blamed_on_the_live_database(pg, migrated_db):
    run(
        pg,
        migrated_db,
        "ALTER TABLE tasks ADD COLUMN notes text; "
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(200); "
        "ALTER TABLE tasks ALTER COLUMN description SET NOT NULL; "
        "ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 'high'; "
        "DROP INDEX ix_tasks_list_due; "
        "ALTER TABLE tasks DROP CONSTRAINT ck_tasks_priority; "
        "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_hours CHECK (estimated_hours < 1000); "
        "CREATE TABLE audit_log (id bigint PRIMARY KEY); "
        "ALTER TABLE tags DROP CONSTRAINT fk_tags_user_id_users, ADD CONSTRAINT fk_tags_user_id_users "
        "FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT",
    )
    result = schema_diff.against_history(migrated_db)
    assert {d.category for d in result.differences} == {schema_diff.CHANGED_BY_HAND}
    assert found(result.differences) == {
        ("extra_column", "tasks", "notes"),
        ("type_mismatch", "users", "name"),
        ("nullability_mismatch", "tasks", "description"),
        ("default_mismatch", "tasks", "priority"),
        ("missing_index", "tasks", "ix_tasks_list_due"),
        ("missing_check_constraint", "tasks", "ck_tasks_priority"),
        ("extra_check_constraint", "tasks", "ck_tasks_hours"),
        ("extra_table", "audit_log", "audit_log"),
        ("foreign_key_mismatch", "tags", "fk_tags_user_id_users"),
    }
    messages = {d.name: d.message for d in result.differences}
    assert messages["fk_tags_user_id_users"] == (
        "foreign key fk_tags_user_id_users on tags is "
        "`FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE RESTRICT` in the live database "
        "but `FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE` in the migration history"
    )
    assert messages["notes"] == "column tasks.notes is in the live database but not in the migration history"
    assert messages["name"] == (
        "column users.name is character varying(200) in the live database "
        "but character varying(100) in the migration history"
    )
    assert messages["description"] == "column tasks.description is NOT NULL in the live database but nullable in the migration history"
    assert messages["ck_tasks_priority"] == (
        "check constraint ck_tasks_priority on tasks is in the migration history but not in the live database"
    )
    assert result.differences[0].label == "live database changed by hand"
    assert set(result.hints) == {schema_diff.CHANGED_BY_HAND}


def test_a_model_change_without_a_migration_is_blamed_on_the_models(migrated_db, model_change):
    result = schema_diff.against_history(migrated_db)
    assert {d.category for d in result.differences} == {schema_diff.MODEL_WITHOUT_MIGRATION}
    assert found(result.differences) == {
        ("missing_table", "reminders", "reminders"),
        ("missing_index", "tasks", "ix_tasks_title"),
    }


def test_a_migration_directory_without_the_last_revision_is_a_model_change_without_a_migration(tmp_path, empty_db):
    # The history lacks its last revision (0008), so the models' search index (over an expression,
    # not the stored column) has no migration.
    import shutil

    from todoctl import paths

    copy = tmp_path / "migrations"
    shutil.copytree(paths.migrations_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    next((copy / "versions").glob(f"{HEAD}_*.py")).unlink()
    migrate.upgrade(empty_db, "head", migrations=copy)
    result = schema_diff.against_history(empty_db, migrations=copy)
    assert found(result.differences) == {
        ("extra_column", "tasks", "search_vector"),
        ("missing_index", "tasks", "ix_tasks_search"),
        ("extra_index", "tasks", "ix_tasks_search"),
    }
    assert {d.category for d in result.differences} == {schema_diff.MODEL_WITHOUT_MIGRATION}


def test_a_database_behind_its_history_is_not_also_changed_by_hand(migrated_db):
    migrate.downgrade(migrated_db, "-2")
    result = schema_diff.against_history(migrated_db)
    assert [(d.category, d.kind, d.name) for d in result.differences] == [
        (schema_diff.BEHIND_HISTORY, "pending_revision", ALL[-2]),
        (schema_diff.BEHIND_HISTORY, "pending_revision", ALL[-1]),
    ]
    assert result.differences[0].message.startswith(f"revision {ALL[-2]} is not applied: list-tasks reads one list by due date")
    assert result.current == [ALL[-3]]
    assert "up to its own revision" in result.notes[0]


def test_behind_and_changed_by_hand_are_told_apart(pg, migrated_db):
    migrate.downgrade(migrated_db, "-1")
    run(pg, migrated_db, "ALTER TABLE tags ADD COLUMN colour text; DROP INDEX ix_task_tags_tag_id")
    result = schema_diff.against_history(migrated_db)
    assert found(result.differences, schema_diff.BEHIND_HISTORY) == {("pending_revision", "", HEAD)}
    assert found(result.differences, schema_diff.CHANGED_BY_HAND) == {
        ("extra_column", "tags", "colour"),
        ("missing_index", "task_tags", "ix_task_tags_tag_id"),
    }
    assert found(result.differences, schema_diff.MODEL_WITHOUT_MIGRATION) == set()


def test_an_empty_database_is_behind_by_every_revision(empty_db):
    result = schema_diff.against_history(empty_db)
    assert [d.name for d in result.differences] == ALL
    assert {d.category for d in result.differences} == {schema_diff.BEHIND_HISTORY}


def test_a_revision_unknown_to_the_scripts_is_reported(pg, migrated_db):
    run(pg, migrated_db, "UPDATE alembic_version SET version_num = 'ffff'")
    result = schema_diff.against_history(migrated_db)
    assert found(result.differences) == {("unknown_revision", "", "ffff")}


def test_the_throwaway_database_is_dropped(pg, migrated_db):
    schema_diff.against_history(migrated_db)
    left = pg.execute("SELECT datname FROM pg_database WHERE datname LIKE 'todoctl_history_%'")
    assert left == []


# ---------------------------------------------------------------- dump


def test_dump_is_the_schema_ddl_without_data(pg, migrated_db):
    run(pg, migrated_db, f"INSERT INTO users (email, password_hash) VALUES ('a@x.io', '{BCRYPT}')")
    result = schema_dump.dump(migrated_db)
    assert result.pg_dump_version.startswith("18")
    assert "CREATE TABLE public.tasks (" in result.ddl
    assert "CREATE INDEX ix_tasks_search ON public.tasks USING gin (((setweight(to_tsvector(" in result.ddl
    assert "ck_tasks_priority" in result.ddl
    assert "a@x.io" not in result.ddl and "COPY public.users" not in result.ddl
    assert "OWNER TO" not in result.ddl and "GRANT " not in result.ddl


def test_dump_of_some_tables(migrated_db):
    result = schema_dump.dump(migrated_db, tables=["tags"])
    assert "CREATE TABLE public.tags (" in result.ddl
    assert "CREATE TABLE public.tasks (" not in result.ddl


def test_dump_of_a_missing_table_is_a_usage_error(migrated_db):
    with pytest.raises(TodoctlError) as caught:
        schema_dump.dump(migrated_db, tables=["nope"])
    assert caught.value.exit_code == ExitCode.USAGE


def test_the_password_goes_to_the_environment_not_the_command_line():
    from todoctl.db.url import normalise

    url = normalise("postgresql://me:s3cret-Pw@db.example.com:5432/app?sslmode=require", source="test")
    dbname, env = schema_dump.libpq_arguments(url)
    assert dbname == "postgresql://me@db.example.com:5432/app?sslmode=require"
    assert env == {"PGPASSWORD": "s3cret-Pw"}


def test_dump_of_an_unreachable_server_is_exit_3_without_the_password():
    from todoctl.db.url import normalise

    url = normalise("postgresql://me:s3cret-Pw@127.0.0.1:1/app", source="test")
    with pytest.raises(TodoctlError) as caught:
        schema_dump.dump(url)
    assert caught.value.exit_code == ExitCode.CONNECTION
    assert "s3cret-Pw" not in str(caught.value.to_dict())


def test_a_pg_dump_of_the_server_s_major_is_used_and_its_output_kept_whole(migrated_db):
    result = schema_dump.dump(migrated_db)
    assert result.server_version.split(".")[0] == result.pg_dump_version.split(".")[0]
    assert result.dropped_settings == [] and "SET transaction_timeout = 0;" in result.ddl


def test_settings_the_server_lacks_are_left_out_of_a_newer_pg_dump_s_output(migrated_db):
    # What pg_dump 18 writes, read against the settings of a server without transaction_timeout
    # (PostgreSQL 16 and older; the matrix tier restores such dumps on real 14, 15 and 16).
    import dataclasses

    facts = schema_dump.server_facts(migrated_db)
    older = dataclasses.replace(facts, major=16, settings=facts.settings - {"transaction_timeout"})
    ddl = (
        # pg_dump's key is random: one starting with a digit is not a valid SQL token.
        "--\n-- PostgreSQL database dump\n--\n\\restrict 2Hz4TmQNOvKL9aF5cu97\n\n"
        "SET transaction_timeout = 0;\nSET statement_timeout = 0;\nSET lock_timeout = 0;\n"
        "SET client_encoding = 'UTF8';\n"
        "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql\n    AS $$\nBEGIN\n"
        "SET transaction_timeout = 0;\nEND$$;\n"
        "SET default_table_access_method = heap;\n\\unrestrict 2Hz4TmQNOvKL9aF5cu97\n"
    )
    kept, dropped = schema_dump.restorable_on(ddl, older)
    assert dropped == ["SET transaction_timeout = 0;"]
    assert kept == ddl.replace("SET transaction_timeout = 0;\n", "", 1)
    assert "BEGIN\nSET transaction_timeout = 0;\nEND$$" in kept  # a function body is not a setting of the dump
    assert schema_dump.restorable_on(ddl, facts) == (ddl, [])


def test_a_newer_server_needs_a_matching_pg_dump():
    # pg_dump's own words when the server is newer than it (cannot be produced with one server).
    from todoctl.db.url import normalise

    stderr = (
        "pg_dump: error: aborting because of server version mismatch\n"
        "pg_dump: detail: server version: 19.1; pg_dump version: 18.4\n"
    )
    error = schema_dump._explain_failure(normalise("postgresql://u@h/db", source="test"), "18.4", stderr)
    assert error.exit_code == ExitCode.CHECK_FAILED
    assert "PostgreSQL 19.1" in error.message and "matching pg_dump" in error.hint


# ---------------------------------------------------------------- ERD


def test_erd_draws_the_app_tables_and_their_relations(migrated_db):
    result = schema_erd.erd(migrated_db)
    lines = [line.strip() for line in result.mermaid.splitlines()]
    assert lines[0] == "erDiagram"
    assert 'users ||..o{ tasks : "user_id (ON DELETE CASCADE)"' in lines
    assert 'task_lists |o..o{ tasks : "list_id (ON DELETE SET NULL)"' in lines  # list_id is nullable
    assert 'tasks ||--o{ task_tags : "task_id (ON DELETE CASCADE)"' in lines  # part of task_tags' key: identifying
    assert 'tags ||--o{ task_tags : "tag_id (ON DELETE CASCADE)"' in lines
    assert "uuid id PK" in lines and "varchar(255) email" in lines and "timestamptz created_at" in lines
    assert "uuid task_id PK, FK" in lines and "numeric(6,2) estimated_hours" in lines
    assert {e.name for e in result.entities} == {"users", "task_lists", "tasks", "tags", "task_tags"}
    assert "alembic_version" not in result.mermaid
    assert len(result.relations) == 6


def test_erd_one_to_one_and_unusual_names(pg, migrated_db):
    run(
        pg,
        migrated_db,
        'CREATE TABLE profiles (user_id uuid PRIMARY KEY REFERENCES users(id), "Bio Text" text); '
        'CREATE TABLE "user settings" (id int PRIMARY KEY, owner uuid UNIQUE NOT NULL REFERENCES users(id), tags text[])',
    )
    lines = [line.strip() for line in schema_erd.erd(migrated_db).mermaid.splitlines()]
    assert 'users ||--o| profiles : "user_id (ON DELETE NO ACTION)"' in lines
    assert 'users ||..o| "user settings" : "owner (ON DELETE NO ACTION)"' in lines
    assert '"user settings" {' in lines and "text `Bio Text`" in lines and "text[] tags" in lines
    assert "uuid owner FK, UK" in lines


def test_mermaid_types_are_single_words():
    assert schema_erd.mermaid_type("character varying(255)") == "varchar(255)"
    assert schema_erd.mermaid_type("timestamp(3) with time zone") == "timestamp(3)_with_time_zone"
    assert schema_erd.mermaid_type("timestamp without time zone") == "timestamp"
    assert schema_erd.mermaid_type("double precision[]") == "float8[]"


# ---------------------------------------------------------------- lint


def test_the_app_schema_at_head_is_lint_clean(migrated_db):
    result = schema_lint.lint(migrated_db)
    assert result.findings == [] and result.clean
    assert result.rules == list(schema_lint.RULES)


LINT_TABLES = """
CREATE TABLE parents (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz);
CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents (id),
                       created_at timestamptz, updated_at timestamptz);
CREATE TABLE covered (id int PRIMARY KEY, parent_id int REFERENCES parents (id), kind text,
                      created_at timestamptz, updated_at timestamptz);
CREATE INDEX covered_parent_kind ON covered (parent_id, kind);
CREATE TABLE partial_cover (id int PRIMARY KEY, parent_id int REFERENCES parents (id),
                            created_at timestamptz, updated_at timestamptz);
CREATE INDEX partial_cover_parent ON partial_cover (parent_id) WHERE id > 0;
CREATE TABLE keyless (name text, created_at timestamptz, updated_at timestamptz);
CREATE TABLE naive (id int PRIMARY KEY, happened_at timestamp, created_at timestamptz, updated_at timestamptz);
CREATE TABLE twins (id int PRIMARY KEY, code text, created_at timestamptz, updated_at timestamptz);
CREATE INDEX twins_code_a ON twins (code);
CREATE INDEX twins_code_b ON twins (code);
CREATE TABLE twin_keys (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz);
CREATE UNIQUE INDEX twin_keys_id ON twin_keys (id);
CREATE TABLE events (id int PRIMARY KEY, kind text, at timestamptz, code text,
                     created_at timestamptz, updated_at timestamptz);
CREATE INDEX events_kind ON events (kind);
CREATE INDEX events_kind_at ON events (kind, at);
CREATE UNIQUE INDEX events_code ON events (code);
CREATE INDEX events_code_at ON events (code, at);
CREATE INDEX events_at_desc ON events (at DESC);
CREATE INDEX events_at_kind ON events (at, kind);
CREATE TABLE bare (id int PRIMARY KEY);
CREATE TABLE half (id int PRIMARY KEY, created_at timestamptz);
CREATE TABLE placed (id int PRIMARY KEY, placed_at timestamptz NOT NULL, modified_at timestamptz);
CREATE TABLE maybe_placed (id int PRIMARY KEY, placed_at timestamptz, updated_at timestamptz);
CREATE TABLE links (a int REFERENCES parents (id), b int REFERENCES parents (id), PRIMARY KEY (a, b));
CREATE INDEX links_b ON links (b);
CREATE TABLE todoctl_bookkeeping (x timestamp);
"""

EXPECTED_FINDINGS = {
    ("fk-without-index", "children", "parent_id"),
    ("fk-without-index", "partial_cover", "parent_id"),
    ("no-primary-key", "keyless", "keyless"),
    ("timestamp-without-time-zone", "naive", "happened_at"),
    ("duplicate-index", "twins", "twins_code_b"),
    ("duplicate-index", "twin_keys", "twin_keys_id"),
    ("redundant-index", "events", "events_kind"),
    ("missing-timestamps", "bare", "created_at, updated_at"),
    ("missing-timestamps", "half", "updated_at"),
    # placed (placed_at NOT NULL: its creation time, modified_at: its update) has both;
    # a placed_at that may be NULL says nothing about when the row was made.
    ("missing-timestamps", "maybe_placed", "created_at"),
}


def test_each_lint_rule_finds_its_scratch_table(pg, migrated_db):
    # Next to the app's tables, which are lint-clean at head (lint needs the schema at head).
    run(pg, migrated_db, LINT_TABLES)
    result = schema_lint.lint(migrated_db)
    assert {(f.rule, f.table, f.subject) for f in result.findings} == EXPECTED_FINDINGS
    by_subject = {(f.table, f.subject): f for f in result.findings}
    fk = by_subject[("children", "parent_id")]
    assert "deleting from parents scans children" in fk.message
    assert fk.hint == "CREATE INDEX CONCURRENTLY ix_children_parent_id ON children (parent_id);"
    assert "events_kind_at" in by_subject[("events", "events_kind")].message
    assert by_subject[("events", "events_kind")].hint == "DROP INDEX CONCURRENTLY events_kind;"
    assert by_subject[("naive", "happened_at")].hint.startswith("ALTER TABLE naive ALTER COLUMN happened_at TYPE timestamptz")
    assert "twins_code_a" in by_subject[("twins", "twins_code_b")].message
    assert "duplicates twin_keys_pkey" in by_subject[("twin_keys", "twin_keys_id")].message  # the key is kept
    assert by_subject[("bare", "created_at, updated_at")].hint == (
        "ALTER TABLE bare ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(), "
        "ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();"
    )
    assert [f.table for f in result.findings] == sorted(f.table for f in result.findings)


def test_lint_rules_can_be_skipped(pg, migrated_db):
    run(pg, migrated_db, LINT_TABLES)
    result = schema_lint.lint(migrated_db, skip=["missing-timestamps", "duplicate-index"])
    assert {f.rule for f in result.findings} == {
        "fk-without-index",
        "no-primary-key",
        "timestamp-without-time-zone",
        "redundant-index",
    }
    assert "missing-timestamps" not in result.rules


def test_an_unknown_lint_rule_is_a_usage_error():
    with pytest.raises(TodoctlError) as caught:
        schema_lint.check_rules(["no-such-rule"])
    assert caught.value.exit_code == ExitCode.USAGE
    assert "fk-without-index" in caught.value.hint


# ---------------------------------------------------------------- which commands need head


@pytest.mark.parametrize("steps", ["base", "-1"])
def test_lint_and_erd_need_the_schema_at_head_show_and_dump_do_not(migrated_db, steps):
    migrate.downgrade(migrated_db, steps)
    for name, call in (("schema lint", schema_lint.lint), ("schema erd", schema_erd.erd)):
        with pytest.raises(TodoctlError) as caught:
            call(migrated_db)
        assert caught.value.exit_code == ExitCode.CHECK_FAILED
        assert f"{name} needs the schema at head" in caught.value.message
        assert caught.value.hint == "run `todoctl migrate up`"
    assert schema_show.overview(migrated_db).database == migrated_db.display
    assert "CREATE TABLE" in schema_dump.dump(migrated_db).ddl or steps == "base"


def test_erd_clusters_are_the_groups_foreign_keys_connect():
    def entity(name):
        return schema_erd.Entity(name, (schema_erd.Attribute("id", "int", ("PK",)),))

    def fk(parent, child):
        return schema_erd.Relation(parent, child, ("ref",), "exactly one", "zero or more", False, "CASCADE", ("id",))

    diagram = schema_erd.ErDiagram(
        "db",
        [entity(n) for n in ("a", "b", "c", "d", "e", "lonely", "self")],
        [fk("a", "b"), fk("b", "c"), fk("d", "e"), fk("self", "self")],
    )
    clusters = diagram.clusters()
    assert [[e.name for e in c.entities] for c in clusters] == [["a", "b", "c"], ["d", "e"], ["self"], ["lonely"]]
    assert [len(c.relations) for c in clusters] == [2, 1, 1, 0]
    assert sum(len(c.entities) for c in clusters) == len(diagram.entities)


def test_erd_names_mermaid_would_misread_use_its_entity_codes():
    diagram = schema_erd.ErDiagram(
        "db",
        [schema_erd.Entity('a "b" <c> #1', (schema_erd.Attribute("x`y", "int", ()),))],
        [],
    )
    assert '"a #quot;b#quot; #lt;c#gt; #35;1" {' in diagram.mermaid
    assert "int `x#96;y`" in diagram.mermaid

"""The schema review rules, each broken and followed: on a small model (a fresh MetaData) and on a
real database (empty_db), where the rule also reads the live schema."""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, Column, DateTime, Enum, ForeignKey, Integer, MetaData, String, Table

from tests.core.review.helpers import findings, locations


def _owners(md: MetaData) -> Table:
    return Table("owners", md, Column("id", Integer, primary_key=True))


# ---------------------------------------------------------------- fk-missing


def test_fk_missing_in_the_models(tmp_path):
    md = MetaData()
    _owners(md)
    Table("notes", md, Column("id", Integer, primary_key=True), Column("owner_id", Integer))
    found = findings("fk-missing", tmp_path, md)
    assert locations(found) == {"notes.owner_id"}
    assert "no foreign key (in the models)" in found[0].message
    # The parent is the table the column is named after: the statement is complete, and in the hint.
    assert found[0].sql == (
        "ALTER TABLE notes ADD CONSTRAINT notes_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES owners (id) "
        "ON DELETE RESTRICT NOT VALID; ALTER TABLE notes VALIDATE CONSTRAINT notes_owner_id_fkey;"
    )
    assert found[0].sql in found[0].hint


def test_fk_missing_is_quiet_when_every_id_column_has_its_key(tmp_path):
    md = MetaData()
    _owners(md)
    Table("notes", md, Column("id", Integer, primary_key=True),
          Column("owner_id", ForeignKey("owners.id", ondelete="CASCADE")))
    assert findings("fk-missing", tmp_path, md) == []


def test_fk_missing_in_the_database(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE owners (id int PRIMARY KEY); "
               "CREATE TABLE notes (id int PRIMARY KEY, owner_id int, kept_id int REFERENCES owners ON DELETE CASCADE)",
               database=empty_db.database)
    found = findings("fk-missing", tmp_path, url=empty_db)
    assert locations(found) == {"notes.owner_id"}
    assert "(in the database)" in found[0].message


def test_fk_missing_found_in_both_is_one_finding(pg, empty_db, tmp_path):
    md = MetaData()
    _owners(md)
    Table("notes", md, Column("id", Integer, primary_key=True), Column("owner_id", Integer))
    pg.execute("CREATE TABLE owners (id int PRIMARY KEY); CREATE TABLE notes (id int PRIMARY KEY, owner_id int)",
               database=empty_db.database)
    found = findings("fk-missing", tmp_path, md, url=empty_db)
    assert [f.location for f in found] == ["notes.owner_id"]
    assert "(in the models and the database)" in found[0].message


# ---------------------------------------------------------------- fk-delete-rule


def test_fk_delete_rule_in_the_models(tmp_path):
    md = MetaData()
    _owners(md)
    Table("notes", md, Column("id", Integer, primary_key=True), Column("owner_id", ForeignKey("owners.id")))
    found = findings("fk-delete-rule", tmp_path, md)
    assert locations(found) == {"notes.owner_id"}
    assert "no ON DELETE rule" in found[0].message and 'ondelete="CASCADE"' in found[0].hint


@pytest.mark.parametrize("ondelete", ["CASCADE", "SET NULL", "RESTRICT"])
def test_fk_delete_rule_is_quiet_when_the_rule_is_written(tmp_path, ondelete):
    md = MetaData()
    _owners(md)
    Table("notes", md, Column("id", Integer, primary_key=True),
          Column("owner_id", ForeignKey("owners.id", ondelete=ondelete)))
    assert findings("fk-delete-rule", tmp_path, md) == []


def test_fk_delete_rule_in_the_database(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE owners (id int PRIMARY KEY); "
               "CREATE TABLE notes (id int PRIMARY KEY, owner_id int REFERENCES owners); "
               "CREATE TABLE pins (id int PRIMARY KEY, owner_id int REFERENCES owners ON DELETE SET NULL); "
               "CREATE TABLE locks (id int PRIMARY KEY, owner_id int REFERENCES owners ON DELETE RESTRICT)",
               database=empty_db.database)
    found = findings("fk-delete-rule", tmp_path, url=empty_db)
    assert locations(found) == {"notes.owner_id"}
    assert "(in the database; NO ACTION by default)" in found[0].message


def test_no_action_is_a_warning_and_orphans_are_critical():
    # NO ACTION keeps the data whole (it refuses the delete): not a reason to fail every SQLModel
    # app's review. Rows whose parent is gone are data lost.
    from todoctl.core.review.engine import RULES, load_rules

    load_rules()
    assert (RULES["fk-delete-rule"].tier, RULES["fk-orphans"].tier) == ("warning", "critical")


def test_fk_orphans_counts_orphans_behind_a_not_valid_key(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE owners (id int PRIMARY KEY); "
               "CREATE TABLE notes (id int PRIMARY KEY, owner_id int); "
               "INSERT INTO owners VALUES (1); "
               "INSERT INTO notes VALUES (1, 1), (2, 7), (3, 8), (4, NULL); "
               "ALTER TABLE notes ADD CONSTRAINT notes_owner FOREIGN KEY (owner_id) REFERENCES owners "
               "ON DELETE CASCADE NOT VALID",
               database=empty_db.database)
    found = findings("fk-orphans", tmp_path, url=empty_db)
    assert len(found) == 1
    assert found[0].location == "notes.owner_id"
    assert found[0].message.startswith("2 row(s) of notes refer to a row of owners that does not exist")
    assert "VALIDATE CONSTRAINT notes_owner" in found[0].hint

    # The hint followed: the orphans go, the key is validated, the finding with them.
    pg.execute("DELETE FROM notes WHERE owner_id NOT IN (SELECT id FROM owners); "
               "ALTER TABLE notes VALIDATE CONSTRAINT notes_owner", database=empty_db.database)
    assert findings("fk-orphans", tmp_path, url=empty_db) == []


# ---------------------------------------------------------------- timestamp-mixed-tz


def test_timestamp_mixed_tz_in_the_models(tmp_path):
    md = MetaData()
    Table("events", md, Column("id", Integer, primary_key=True),
          Column("created_at", DateTime(timezone=True)), Column("happened_at", DateTime()))
    found = findings("timestamp-mixed-tz", tmp_path, md)
    assert locations(found) == {"events.happened_at"}
    assert "events.created_at is with time zone" in found[0].message


@pytest.mark.parametrize("timezone", [True, False])
def test_timestamp_mixed_tz_is_quiet_when_all_agree(tmp_path, timezone):
    md = MetaData()
    Table("events", md, Column("id", Integer, primary_key=True),
          Column("created_at", DateTime(timezone=timezone)), Column("happened_at", DateTime(timezone=timezone)))
    assert findings("timestamp-mixed-tz", tmp_path, md) == []


def test_timestamp_mixed_tz_in_the_database(pg, empty_db, tmp_path):
    pg.execute("CREATE TABLE events (id int PRIMARY KEY, created_at timestamptz, happened_at timestamp)",
               database=empty_db.database)
    assert locations(findings("timestamp-mixed-tz", tmp_path, url=empty_db)) == {"events.happened_at"}
    pg.execute("ALTER TABLE events ALTER COLUMN happened_at TYPE timestamptz USING happened_at AT TIME ZONE 'UTC'",
               database=empty_db.database)
    assert findings("timestamp-mixed-tz", tmp_path, url=empty_db) == []


# ---------------------------------------------------------------- enum-default


def test_enum_default_in_the_models(tmp_path):
    md = MetaData()
    Table("tickets", md, Column("id", Integer, primary_key=True),
          Column("state", String(10), nullable=False),
          Column("kind", Enum("bug", "idea", name="ticket_kind")),
          Column("tier", String(10), server_default="free"),
          CheckConstraint("state IN ('open', 'closed')", name="state"),
          CheckConstraint("tier IN ('free', 'paid')", name="tier"))
    found = findings("enum-default", tmp_path, md)
    assert locations(found) == {"tickets.state", "tickets.kind"}
    assert "SET DEFAULT" in found[0].hint


def test_enum_default_is_quiet_with_server_defaults(tmp_path):
    md = MetaData()
    Table("tickets", md, Column("id", Integer, primary_key=True),
          Column("state", String(10), nullable=False, server_default="open"),
          Column("kind", Enum("bug", "idea", name="ticket_kind"), server_default="bug"),
          CheckConstraint("state IN ('open', 'closed')", name="state"))
    assert findings("enum-default", tmp_path, md) == []


def test_enum_default_in_the_database(pg, empty_db, tmp_path):
    # pg_get_constraintdef writes IN as "= ANY (ARRAY[...])": the rule reads both.
    pg.execute("CREATE TYPE mood AS ENUM ('calm', 'busy'); "
               "CREATE TABLE tickets (id int PRIMARY KEY, mood mood, state varchar(10) CHECK (state IN ('open', 'closed')), "
               "tier text DEFAULT 'free' CHECK (tier IN ('free', 'paid')))",
               database=empty_db.database)
    assert locations(findings("enum-default", tmp_path, url=empty_db)) == {"tickets.mood", "tickets.state"}
    pg.execute("ALTER TABLE tickets ALTER COLUMN mood SET DEFAULT 'calm', ALTER COLUMN state SET DEFAULT 'open'",
               database=empty_db.database)
    assert findings("enum-default", tmp_path, url=empty_db) == []


# ---------------------------------------------------------------- the schema lint rules, as review warnings


def test_lint_rules_are_review_warnings_with_locations(pg, empty_db, tmp_path):
    from todoctl.core.review import run
    from tests.core.review.helpers import context

    pg.execute("CREATE TABLE parents (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz); "
               "CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents ON DELETE CASCADE, "
               "created_at timestamptz, updated_at timestamptz)",
               database=empty_db.database)
    report = run(context(tmp_path, url=empty_db), only=["fk-without-index", "missing-timestamps"])
    assert [(f.tier, f.finding.rule, f.finding.location) for f in report.findings] == [
        ("warning", "fk-without-index", "children.parent_id")
    ]
    assert report.findings[0].finding.hint == "CREATE INDEX CONCURRENTLY ix_children_parent_id ON children (parent_id);"
    assert not report.failed and run(context(tmp_path, url=empty_db), only=["fk-without-index"], strict=True).failed


def test_a_model_column_is_named_by_its_file_and_line():
    from tests.helpers import REPO
    from todoctl.core.review import app_context
    from todoctl.core.review.facts import in_the_models

    where = in_the_models(app_context(REPO), "tasks", "list_id")
    path, line = where.split(":")
    assert path == "todoctl/todo/models.py"
    assert (REPO / path).read_text().splitlines()[int(line) - 1].strip().startswith("list_id:")
    assert in_the_models(app_context(REPO), "no_such_table", "x") == "the models"

"""The seed follows the models (issue 31): every table and column of any app's metadata filled from
its types and constraints, on real PostgreSQL, with no seed code; what it cannot satisfy is exit 2
before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.core.seed.apps import write_app
from tests.helpers import copy_migrations, revision_source
from todoctl import paths, project
from todoctl.core import migrate, seed
from todoctl.errors import ExitCode, TodoctlError

REPO_SEEDS = paths.seeds_dir()


@pytest.fixture
def app_db(pg, tmp_path):
    """``app_db(models, seeds=None) -> (project, url)``: an app written from source, migrated into a
    fresh database, in use for the rest of the test."""
    made: list = []
    used: list = []

    def make(models: str, **kwargs):
        app = write_app(tmp_path / f"app{len(made)}", models, **kwargs)
        name = pg.create_database()
        made.append(name)
        manager = project.use(app)
        manager.__enter__()
        used.append(manager)
        migrate.upgrade(pg.url_for(name), "head")
        return app, pg.url_for(name)

    yield make
    for manager in reversed(used):
        manager.__exit__(None, None, None)
    for name in made:
        pg.drop_database(name)


def q(pg, url, sql: str):
    return pg.execute(sql, database=url.database)


def one(pg, url, sql: str):
    return q(pg, url, sql)[0][0]


# ---------------------------------------------------------------- the Todo app changes next week


COMMENTS = '''\
op.add_column("tasks", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
op.create_table(
    "comments",
    sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), primary_key=True),
    sa.Column("task_id", sa.Uuid(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("body", sa.String(2000), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
'''

COMMENT_MODEL = '''

class Comment(TodoModel, table=True):
    __tablename__ = "comments"

    id: uuid.UUID = _uuid_pk()
    task_id: uuid.UUID = Field(sa_column=Column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False))
    user_id: uuid.UUID = _owner()
    body: str = Field(max_length=2000)
    created_at: datetime | None = _timestamp()
'''


@pytest.fixture
def todo_next(pg, tmp_path):
    """A copy of the Todo app's models and migrations with a comments table (keys to tasks and
    users) and a nullable tasks.archived_at, as the Todo team would add them; its seed directory
    is the Todo app's (profiles, hooks, word lists), which say nothing of either."""
    root = tmp_path / "todo_next"
    package = root / "todo_next"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    models = (Path(paths.PACKAGE_DIR) / "todo" / "models.py").read_text()
    marker = "    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))\n"
    assert marker in models
    models = models.replace(marker, marker + marker.replace("completed_at", "archived_at"))
    models = models.replace("\n_users = User.__table__", COMMENT_MODEL + "\n\n_users = User.__table__")
    (package / "models.py").write_text(models)
    migrations = copy_migrations(root, {"0009_comments.py": revision_source("0009", "0008", COMMENTS)})
    (migrations / "env.py").write_text("from todoctl.alembic import run_migrations\nfrom todo_next.models import metadata\n\nrun_migrations(metadata)\n")
    import shutil

    shutil.copytree(REPO_SEEDS, root / "seeds", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[tool.todoctl]\nmetadata = "todo_next.models:metadata"\nmigrations = "migrations"\npython_path = ["."]\nseeds = "seeds"\n'
    )
    app = project.from_directory(root)
    name = pg.create_database()
    with project.use(app):
        migrate.upgrade(pg.url_for(name), "head")
        yield pg.url_for(name)
    pg.drop_database(name)


def test_a_new_table_and_a_new_column_are_filled_with_no_seed_code(pg, todo_next):
    url = todo_next
    report = seed.run(url, profile="small", users=50)
    rows = {t.table: t.rows for t in report.tables}
    assert rows["comments"] > 0 and one(pg, url, "SELECT count(*) FROM comments") == rows["comments"]
    tasks = one(pg, url, "SELECT count(*) FROM tasks")
    archived = one(pg, url, "SELECT count(archived_at) FROM tasks")
    assert 0 < archived < tasks  # filled, mostly NULL (a rare event), never silently all NULL
    # Realistic: a comment is made after its task, by an existing user, with text in it.
    assert one(pg, url, "SELECT count(*) FROM comments c JOIN tasks t ON t.id = c.task_id WHERE c.created_at < t.created_at") == 0
    assert one(pg, url, "SELECT count(*) FROM comments WHERE btrim(body) = ''") == 0
    assert one(pg, url, "SELECT count(*) FROM tasks WHERE archived_at < created_at") == 0
    # The Todo app's profile and hooks still hold for the tables they speak of.
    assert one(pg, url, "SELECT count(*) FROM tasks WHERE (status = 'completed') <> (completed_at IS NOT NULL)") == 0
    dry = seed.run(None, profile="small", users=50, dry_run=True)
    comments = next(t for t in dry.tables if t.table == "comments")
    assert comments.rows == rows["comments"] and "tasks" in comments.parent
    assert {c.column for c in comments.columns} == {"id", "task_id", "user_id", "body", "created_at"}


def test_the_cli_seeds_the_changed_app_with_users_and_truncate(pg, todo_next):
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    runner = CliRunner()
    first = runner.invoke(app, ["-d", todo_next.url, "seed", "--users", "50"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["-d", todo_next.url, "seed", "--users", "50", "--truncate", "--json"])
    assert again.exit_code == 0, again.output
    assert one(pg, todo_next, "SELECT count(*) FROM users") == 50
    assert one(pg, todo_next, "SELECT count(*) FROM comments") > 0


# ---------------------------------------------------------------- every kind of value and constraint

KINDS = '''\
import enum
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Identity, Index,
                        Integer, Interval, JSON, LargeBinary, MetaData, Numeric, SmallInteger, String, Table, Text, Time,
                        UniqueConstraint, Uuid, func, text, Enum)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, REAL

metadata = MetaData()


class Mood(enum.Enum):
    happy = "happy"
    calm = "calm"
    grumpy = "grumpy"


account = Table(
    "account", metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("email", String(120), nullable=False),
    Column("username", String(60), nullable=False, unique=True),
    Column("first_name", String(50)),
    Column("last_name", String(50)),
    Column("password_hash", String(200), nullable=False),
    Column("mood", Enum(Mood, name="mood"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("password_hash LIKE '$argon2id$%'", name="ck_account_argon2"),
)
Index("uq_account_email_lower", func.lower(account.c.email), unique=True)

category = Table(
    "category", metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("category.id")),
    Column("name", String(40), nullable=False),
    Column("slug", String(80), nullable=False, unique=True),
    UniqueConstraint("parent_id", "name"),
)

item = Table(
    "item", metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False),
    Column("category_id", Integer, ForeignKey("category.id")),
    Column("title", String(120), nullable=False),
    Column("code", String(8), nullable=False),
    Column("status", String(12), nullable=False),
    Column("qty", SmallInteger, nullable=False),
    Column("views", BigInteger, nullable=False),
    Column("price", Numeric(10, 2), nullable=False),
    Column("discount", Numeric),
    Column("weight", Float),
    Column("score", REAL),
    Column("is_active", Boolean, nullable=False),
    Column("published_on", Date),
    Column("opens_at", Time),
    Column("duration", Interval),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("meta", JSON),
    Column("settings", JSONB, nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("ratings", ARRAY(Integer)),
    Column("blob", LargeBinary),
    Column("ip_address", INET),
    Column("rank", Integer, nullable=False),
    CheckConstraint("qty BETWEEN 1 AND 20", name="ck_item_qty_range"),
    CheckConstraint("price > 0", name="ck_item_price_positive"),
    CheckConstraint("btrim(title) <> ''", name="ck_item_title_not_blank"),
    CheckConstraint("length(code) = 8", name="ck_item_code_length"),
    CheckConstraint("code ~ '^[A-Z0-9]+$'", name="ck_item_code_chars"),
    CheckConstraint("status IN ('draft', 'live', 'sold')", name="ck_item_status"),
    CheckConstraint("ends_at > starts_at", name="ck_item_ends_after_start"),
    UniqueConstraint("account_id", "rank"),
)

profile = Table(
    "profile", metadata,
    Column("account_id", Integer, ForeignKey("account.id"), primary_key=True),
    Column("bio", Text),
    Column("website", String(200)),
    Column("phone", String(40)),
)

item_category = Table(
    "item_category", metadata,
    Column("item_id", Uuid, ForeignKey("item.id"), primary_key=True),
    Column("category_id", Integer, ForeignKey("category.id"), primary_key=True),
)
'''


def test_every_kind_of_value_and_constraint_from_the_models_alone(pg, app_db):
    _, url = app_db(KINDS)
    report = seed.run(url, rows=["200"])
    rows = {t.table: t.rows for t in report.tables}
    assert rows["account"] == rows["category"] == 200
    assert rows["profile"] == 200  # one each: its key is the account's
    assert rows["item"] > 200 and rows["item_category"] > 0
    for table, count in rows.items():
        assert one(pg, url, f"SELECT count(*) FROM {table}") == count
    # No column is left all NULL: every one has values, and nullable ones some NULLs too.
    columns = q(pg, url, "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
                         "WHERE table_schema = 'public'")  # fmt: skip
    for table, column, nullable in columns:
        filled = one(pg, url, f'SELECT count("{column}") FROM "{table}"')
        assert filled > 0, f"{table}.{column} is all NULL"
        if nullable == "YES" and column != "parent_id":
            assert filled < rows[table], f"{table}.{column} has no NULL"
    # People: email, username and names agree and are unique as the indexes want.
    for email, username, first, last in q(pg, url, "SELECT email, username, first_name, last_name FROM account LIMIT 20"):
        assert re.fullmatch(r"[a-z]+\.[a-z]+\.\d+@example\.(com|org|net)", email), email
        assert username.startswith(email.split(".")[0])
    assert one(pg, url, "SELECT count(*) FROM account WHERE password_hash NOT LIKE '$argon2id$v=19$%'") == 0
    assert one(pg, url, "SELECT count(DISTINCT mood) FROM account") == 3
    assert one(pg, url, "SELECT count(*) FROM account WHERE updated_at < created_at") == 0
    # Items: after their account, within the CHECKs (the server checked them all), realistic codes.
    assert one(pg, url, "SELECT count(*) FROM item i JOIN account a ON a.id = i.account_id WHERE i.starts_at < a.created_at") == 0
    assert one(pg, url, "SELECT min(qty) >= 1 AND max(qty) <= 20 AND min(price) > 0 FROM item")
    assert one(pg, url, "SELECT count(DISTINCT code) FROM item") == rows["item"]
    assert one(pg, url, "SELECT count(DISTINCT status) FROM item") == 3
    # Ranks count each account's items from 0.
    assert one(pg, url, "SELECT count(*) FROM (SELECT account_id, max(rank) + 1 = count(*) AS ok FROM item GROUP BY 1) x WHERE NOT ok") == 0
    # The category tree has several levels, and no more than four.
    depth = one(pg, url, "WITH RECURSIVE t(id, depth) AS (SELECT id, 1 FROM category WHERE parent_id IS NULL UNION ALL "
                         "SELECT c.id, t.depth + 1 FROM category c JOIN t ON c.parent_id = t.id) SELECT max(depth) FROM t")  # fmt: skip
    assert 2 <= depth <= 4
    assert one(pg, url, "SELECT count(*) FROM category WHERE parent_id IS NULL") >= 1
    # JSON, arrays, intervals and addresses are of their types (the server read them).
    assert one(pg, url, "SELECT count(*) FROM item WHERE jsonb_typeof(settings) <> 'object'") == 0
    assert one(pg, url, "SELECT count(*) FROM item WHERE cardinality(tags) > 0") > 0
    assert one(pg, url, "SELECT max(duration) <= interval '8 hours' FROM item")
    # Identity and serial keys: the sequences moved past the seeded rows.
    pg.execute("INSERT INTO account (email, username, password_hash, mood, created_at, updated_at) "
               "VALUES ('new@example.com', 'new', '$argon2id$x', 'calm', now(), now())", database=url.database)  # fmt: skip
    pg.execute("INSERT INTO category (name, slug) VALUES ('new', 'new')", database=url.database)
    # Same seed, same rows.
    assert seed.fingerprint(url) != report.fingerprint  # the rows just inserted count


def test_the_same_models_and_seed_give_the_same_fingerprint(pg, app_db):
    _, first = app_db(KINDS)
    a = seed.run(first, rows=["50"])
    b = seed.run(first, rows=["50"], mode="truncate")
    assert a.fingerprint == b.fingerprint == seed.fingerprint(first)
    c = seed.run(first, rows=["50"], seed=7, mode="truncate")
    assert c.fingerprint != a.fingerprint


def test_dry_run_lists_every_table_and_every_column_with_its_generator(app_db):
    _, url = app_db(KINDS)
    report = seed.run(url, rows=["200"], dry_run=True)
    tables = {t.table: t for t in report.tables}
    assert set(tables) == {"account", "category", "item", "profile", "item_category"}
    item = {c.column: c.generator for c in tables["item"].columns}
    assert len(item) == 25 and all(item.values())
    assert "one of draft" in item["status"] and "CHECK" in item["status"]
    assert "1..20" in item["qty"] and "ISBN" not in item["code"]
    assert "the parent account row" in item["account_id"]
    assert "position" in item["rank"]
    assert "per account row" in tables["item"].parent
    assert "tree" in {c.column: c.generator for c in tables["category"].columns}["parent_id"]


# ---------------------------------------------------------------- never silent


def _problem(app_db, models: str, **options) -> TodoctlError:
    _, url = app_db(models)
    with pytest.raises(TodoctlError) as caught:
        seed.run(url, **options)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value


HEADER = '''\
from sqlalchemy import Boolean, CheckConstraint, Column, Integer, MetaData, String, Table, text, UniqueConstraint, Enum
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData()
'''


def test_a_check_the_seed_cannot_read_stops_it_before_writing(pg, app_db):
    error = _problem(app_db, HEADER + '''
thing = Table("thing", metadata, Column("id", Integer, primary_key=True), Column("a", Integer), Column("b", Integer),
              CheckConstraint("(a IS NULL) <> (b IS NULL)", name="ck_thing_one_of_a_b"))
''')
    assert "thing.a, thing.b" in error.message and "ck_thing_one_of_a_b" in error.message
    assert "trust" in error.hint and "satisfies" in error.hint


def test_a_type_the_seed_does_not_know_stops_it_unless_the_server_fills_it(pg, app_db):
    error = _problem(app_db, HEADER + '''
doc = Table("doc", metadata, Column("id", Integer, primary_key=True), Column("words", TSVECTOR, nullable=False))
''')
    assert "doc.words" in error.message and "TSVECTOR" in error.message and "values" in error.hint
    _, url = app_db(HEADER + '''
doc = Table("doc", metadata, Column("id", Integer, primary_key=True),
            Column("words", TSVECTOR, nullable=False, server_default=text("to_tsvector('hello')")))
''')
    report = seed.run(url, rows=["5"])
    assert "server default" in next(c.generator for c in report.tables[0].columns if c.column == "words")
    assert one(pg, url, "SELECT count(*) FROM doc") == 5


def test_a_unique_constraint_too_tight_for_the_count_stops_it(pg, app_db):
    models = HEADER + '''
flag = Table("flag", metadata, Column("id", Integer, primary_key=True), Column("on", Boolean, nullable=False),
             Column("colour", String(10), nullable=False), UniqueConstraint("colour"),
             CheckConstraint("colour IN ('red', 'green', 'blue')", name="ck_flag_colour"))
'''
    error = _problem(app_db, models, rows=["flag=10"])
    assert "flag" in error.message and "at most 3" in error.message
    _, url = app_db(models)
    report = seed.run(url)  # the default count gives way to the constraint, and says so
    assert report.tables[0].rows == 3 and "at most 3" in report.tables[0].parent


def test_a_profile_setting_the_constraints_refuse_is_named(pg, app_db):
    models = HEADER + '''
flag = Table("flag", metadata, Column("id", Integer, primary_key=True),
             Column("colour", String(10), nullable=False),
             CheckConstraint("colour IN ('red', 'green', 'blue')", name="ck_flag_colour"))
'''
    seeds = {"bad.toml": 'reference_time = 2026-01-01T00:00:00Z\n[tables.flag.columns]\ncolour = { values = ["red", "pink"] }\n'}
    _, url = app_db(models, seeds=seeds)
    with pytest.raises(TodoctlError) as caught:
        seed.run(url, profile="bad")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "flag.colour" in caught.value.message and "'pink'" in caught.value.message and "ck_flag_colour" in caught.value.message


# ---------------------------------------------------------------- profiles and hooks


PROFILE_MODELS = '''\
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, Text

metadata = MetaData()

customer = Table("customer", metadata, Column("id", Integer, primary_key=True), Column("name", String(100), nullable=False),
                 Column("city", String(80)), Column("created_at", DateTime(timezone=True), nullable=False))
orders = Table("orders", metadata, Column("id", Integer, primary_key=True),
               Column("customer_id", Integer, ForeignKey("customer.id"), nullable=False),
               Column("state", String(10), nullable=False), Column("total", Numeric(10, 2), nullable=False),
               Column("note", Text), Column("shipped_at", DateTime(timezone=True)),
               Column("created_at", DateTime(timezone=True), nullable=False),
               CheckConstraint("(state = 'shipped') = (shipped_at IS NOT NULL)", name="ck_orders_shipped"))
'''

PROFILE = """\
reference_time = 2026-03-01T12:00:00Z
seed = 5
locale = "de_DE"

[tables.customer]
rows = 40

[tables.customer.columns]
city = { words = "cities", null = 0 }

[tables.orders]
per_parent = { mean = 10, skew = 1.5 }

[tables.orders.columns]
state = { weights = { open = 1, shipped = 3 } }
total = { min = 5, max = 50, distribution = "normal" }
note = { null = 0.9 }
"""

HOOKS = '''\
import numpy as np
from todoctl.core.seed import hooks


@hooks.rows("orders", satisfies=["ck_orders_shipped"])
def shipped_orders_have_a_date(rows):
    shipped = rows["state"] == "shipped"
    rows["shipped_at"] = np.where(shipped, rows["created_at"] + np.timedelta64(2, "D"), np.datetime64("NaT"))
'''


def test_a_profile_and_a_hook_shape_the_rows(pg, app_db):
    seeds = {"shop.toml": PROFILE, "hooks.py": HOOKS, "words/cities.txt": "Bremen\nKiel\nUlm\n"}
    _, url = app_db(PROFILE_MODELS, seeds=seeds)
    report = seed.run(url, profile="shop")
    assert report.locale == "de_DE"
    assert one(pg, url, "SELECT count(*) FROM customer") == 40
    assert one(pg, url, "SELECT count(*) FROM orders") == 400  # 10 per customer on average, exactly in all
    assert {r[0] for r in q(pg, url, "SELECT DISTINCT city FROM customer")} <= {"Bremen", "Kiel", "Ulm"}
    assert one(pg, url, "SELECT count(*) FROM customer WHERE city IS NULL") == 0
    assert one(pg, url, "SELECT min(total) >= 5 AND max(total) <= 50 FROM orders")
    shipped = one(pg, url, "SELECT count(*) FROM orders WHERE state = 'shipped'")
    assert 0.6 * 400 < shipped < 0.9 * 400
    assert one(pg, url, "SELECT count(*) FROM orders WHERE shipped_at <> created_at + interval '2 days'") == 0
    assert one(pg, url, "SELECT count(note) FROM orders") < 0.2 * 400
    # Heavy customers: the busiest has several times the median.
    counts = sorted(r[0] for r in q(pg, url, "SELECT count(*) FROM orders GROUP BY customer_id"))
    assert counts[-1] >= 4 * counts[len(counts) // 2]
    # German names from Faker's de_DE provider (umlauts and all), in ASCII in their emails.
    import faker

    german = set(faker.Faker("de_DE").provider("faker.providers.person").last_names)
    last_names = [r[0].split()[-1] for r in q(pg, url, "SELECT name FROM customer")]
    assert sum(name in german for name in last_names) >= 0.9 * len(last_names)


def test_without_the_hook_the_cross_column_check_is_named(pg, app_db):
    _, url = app_db(PROFILE_MODELS, seeds={"shop.toml": PROFILE, "words/cities.txt": "Kiel\n"})
    with pytest.raises(TodoctlError) as caught:
        seed.run(url, profile="shop")
    assert "orders.state, orders.shipped_at" in caught.value.message and "ck_orders_shipped" in caught.value.message


def test_a_hook_that_breaks_stops_the_seed_and_writes_nothing(pg, app_db):
    broken = HOOKS.replace('rows["state"] == "shipped"', 'rows["no_such_column"] == 1')
    _, url = app_db(PROFILE_MODELS, seeds={"shop.toml": PROFILE, "hooks.py": broken, "words/cities.txt": "Kiel\n"})
    with pytest.raises(TodoctlError) as caught:
        seed.run(url, profile="shop")
    assert "shipped_orders_have_a_date" in caught.value.message and "no_such_column" in caught.value.message
    assert one(pg, url, "SELECT count(*) FROM customer") == 0


# ---------------------------------------------------------------- the second app, as it is


def test_shelf_is_seeded_from_its_models_alone(pg, shelf_db, shelf_project):
    with project.use(shelf_project):
        report = seed.run(shelf_db, mode="truncate")  # its data migration files a "General" category
        again = seed.fingerprint(shelf_db)
    rows = {t.table: t.rows for t in report.tables}
    assert set(rows) == {"user", "category", "author", "book", "bookauthorlink", "loan"}
    assert all(count > 0 for count in rows.values())
    assert report.fingerprint == again
    url = shelf_db
    assert one(pg, url, "SELECT count(*) FROM loan WHERE due_at <= borrowed_at") == 0
    assert one(pg, url, "SELECT count(*) FROM book WHERE length(isbn) <> 13 OR isbn !~ '^978[0-9]{10}$'") == 0
    assert one(pg, url, 'SELECT count(DISTINCT role) FROM "user"') == 3
    assert one(pg, url, "SELECT count(*) FROM (SELECT book_id, author_id FROM bookauthorlink GROUP BY 1, 2 HAVING count(*) > 1) d") == 0
    assert one(pg, url, "SELECT count(*) FROM category WHERE parent_id IS NOT NULL") > 0
    pg.execute("INSERT INTO \"user\" (email, hashed_password, role, is_active, created_at) "
               "VALUES ('x@example.com', 'h', 'reader', true, now())", database=url.database)  # fmt: skip


def test_appending_continues_keys_and_sequences_after_the_rows_there(pg, shelf_db, shelf_project):
    """shelf's migration leaves a "General" category: --append numbers after it and moves the sequences."""
    with project.use(shelf_project):
        first = seed.run(shelf_db, rows=["20"], mode="append")
        second = seed.run(shelf_db, rows=["20"], mode="append")
    url = shelf_db
    categories = next(t.rows for t in first.tables if t.table == "category")
    assert one(pg, url, "SELECT count(*) FROM category") == 1 + 2 * categories
    assert one(pg, url, "SELECT count(*) FROM category WHERE name = 'General'") == 1
    assert one(pg, url, 'SELECT count(DISTINCT email) FROM "user"') == 40
    assert first.fingerprint != second.fingerprint
    pg.execute("INSERT INTO category (name) VALUES ('after the seed')", database=url.database)  # the sequence moved


CYCLE = '''\
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

metadata = MetaData()
team = Table("team", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False),
             Column("captain_id", Integer, ForeignKey("player.id", use_alter=True), nullable={nullable}))
player = Table("player", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False),
               Column("team_id", Integer, ForeignKey("team.id"), nullable=False))
'''


def test_a_cycle_of_keys_is_broken_at_its_nullable_key_or_named(pg, app_db):
    _, url = app_db(CYCLE.format(nullable=True))
    report = seed.run(url, rows=["10"])
    team = next(t for t in report.tables if t.table == "team")
    assert "cycle" in next(c.generator for c in team.columns if c.column == "captain_id")
    assert [t.table for t in report.tables] == ["team", "player"]
    assert one(pg, url, "SELECT count(*) FROM player") > 0
    error = _problem(app_db, CYCLE.format(nullable=False))
    assert "cycle" in error.message and "team" in error.message and "player" in error.message


def test_users_needs_a_users_table(app_db):
    error = _problem(app_db, CYCLE.format(nullable=True), users=5)
    assert "--users" in error.message and "users_table" in error.hint


def test_the_cli_dry_run_shows_counts_and_generators(app_db):
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    _, url = app_db(KINDS)
    result = CliRunner().invoke(app, ["-d", url.url, "seed", "--rows", "30", "--dry-run"])
    assert result.exit_code == 0, result.output
    for word in ("account", "item_category", "30", "one of draft", "tree of up to 4 levels"):
        assert word in result.stdout, word
    as_json = CliRunner().invoke(app, ["-d", url.url, "seed", "--rows", "30", "--dry-run", "--json"])
    import json

    document = json.loads(as_json.stdout)
    item = next(t for t in document["tables"] if t["table"] == "item")
    assert {c["column"] for c in item["columns"]} >= {"code", "settings", "tags", "ip_address"}


def test_a_text_model_that_fails_stops_the_seed_and_writes_nothing(pg, app_db):
    hooks = HOOKS + '''

@hooks.text("notes")
def notes(ctx, count):
    raise RuntimeError("no notes today")
'''
    profile = PROFILE.replace('note = { null = 0.9 }', 'note = { text = "notes", null = 0.9 }')
    _, url = app_db(PROFILE_MODELS, seeds={"shop.toml": profile, "hooks.py": hooks, "words/cities.txt": "Kiel\n"})
    with pytest.raises(TodoctlError) as caught:
        seed.run(url, profile="shop")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "notes" in caught.value.message and "no notes today" in caught.value.message
    assert one(pg, url, "SELECT count(*) FROM customer") == 0


def test_the_fingerprint_is_the_same_in_a_database_whose_enum_has_other_oids(pg, shelf_project, shelf_template):
    """An enum's values are OIDs each database assigns: the fingerprint hashes their labels."""
    first = pg.create_database(template=shelf_template)
    other = pg.create_database()
    try:
        pg.execute("CREATE TYPE unrelated AS ENUM ('a', 'b', 'c')", database=other)  # other enum OIDs from here on
        with project.use(shelf_project):
            migrate.upgrade(pg.url_for(other), "head")
            a = seed.run(pg.url_for(first), rows=["30"], mode="truncate")
            b = seed.run(pg.url_for(other), rows=["30"], mode="truncate")
        assert a.fingerprint == b.fingerprint
    finally:
        pg.drop_database(first)
        pg.drop_database(other)


# ---------------------------------------------------------------- keys over a parent and a time; times after the parent's


CLINIC = '''\
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, UniqueConstraint

metadata = MetaData()
ts = lambda name, **kw: Column(name, DateTime(timezone=True), nullable=False, **kw)

clinician = Table("clinician", metadata, Column("id", Integer, primary_key=True), Column("name", String(80), nullable=False))
service = Table("service", metadata, Column("id", Integer, primary_key=True), Column("title", String(80), nullable=False))
# The parent is service (loaded last): the unique key pairs another table's row with a time.
appointment = Table("appointment", metadata, Column("id", Integer, primary_key=True),
                    Column("clinician_id", Integer, ForeignKey("clinician.id"), nullable=False),
                    Column("service_id", Integer, ForeignKey("service.id"), nullable=False),
                    ts("starts_at"), ts("ends_at"), ts("created_at"),
                    UniqueConstraint("clinician_id", "starts_at", name="uq_appointment_clinician_start"),
                    CheckConstraint("ends_at > starts_at", name="ck_appointment_ends_after_start"))
# The parent is clinician: its rows' times are kept apart among each clinician's shifts.
shift = Table("shift", metadata, Column("id", Integer, primary_key=True),
              Column("clinician_id", Integer, ForeignKey("clinician.id"), nullable=False), ts("starts_at"), ts("created_at"),
              UniqueConstraint("clinician_id", "starts_at", name="uq_shift_clinician_start"))
orders = Table("orders", metadata, Column("id", Integer, primary_key=True), Column("total", Numeric(10, 2), nullable=False),
               ts("placed_at"))
payment = Table("payment", metadata, Column("id", Integer, primary_key=True),
                Column("order_id", Integer, ForeignKey("orders.id"), nullable=False), ts("paid_at"))
'''


def test_a_unique_key_over_a_foreign_key_and_a_time_allows_many_rows_per_parent(pg, app_db):
    _, url = app_db(CLINIC)
    report = seed.run(url, rows=["clinician=5", "service=4", "appointment=2000", "shift=600"])
    assert one(pg, url, "SELECT count(*) FROM appointment") == 2000
    assert one(pg, url, "SELECT count(DISTINCT clinician_id) FROM appointment") == 5
    assert one(pg, url, "SELECT count(*) FROM shift") == 600
    assert one(pg, url, "SELECT max(n) FROM (SELECT count(*) AS n FROM shift GROUP BY clinician_id) s") > 1
    columns = {t.table: {c.column: c.generator for c in t.columns} for t in report.tables}
    assert "distinct" in columns["appointment"]["starts_at"] and "distinct" in columns["shift"]["starts_at"]
    again = seed.run(url, rows=["clinician=5", "service=4", "appointment=2000", "shift=600"], mode="truncate")
    assert again.fingerprint == report.fingerprint


def test_a_childs_times_follow_its_parent_and_the_dry_run_says_how(pg, app_db):
    _, url = app_db(CLINIC)
    report = seed.run(url, rows=["200"])
    # ends_at counts from starts_at (not mirrored above it from created_at across the whole window).
    assert one(pg, url, "SELECT max(ends_at - starts_at) <= interval '60 days' FROM appointment")
    assert one(pg, url, "SELECT count(*) FROM appointment WHERE starts_at < created_at OR ends_at <= starts_at") == 0
    assert one(pg, url, "SELECT count(*) FROM payment p JOIN orders o ON o.id = p.order_id WHERE p.paid_at < o.placed_at") == 0
    columns = {t.table: {c.column: c.generator for c in t.columns} for t in report.tables}
    assert "60 days after starts_at" in columns["appointment"]["ends_at"]
    assert "after its orders row" in columns["payment"]["paid_at"]

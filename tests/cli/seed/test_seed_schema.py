"""`todoctl seed` on an app whose tables live in a schema of their own, with reserved-word table
names, a nullable cycle of keys, short varchar columns and an array in the first table (attack F9,
F8). Every run is a real process with a bound, so a seed that hangs fails the test instead."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.core.seed.apps import write_app
from todoctl import project
from todoctl.core import migrate, seed
from todoctl.errors import ExitCode, TodoctlError

SHOP = """\
import enum
from sqlalchemy import (ARRAY, CheckConstraint, Column, DateTime, Enum, Float, ForeignKey, ForeignKeyConstraint, Integer,
                        MetaData, String, Table, text)

metadata = MetaData()


class Status(enum.Enum):
    new = "new"
    paid = "paid"


Table("user", metadata,
      Column("id", Integer, primary_key=True),
      Column("email", String(200), nullable=False),
      Column("tags", ARRAY(String), nullable=False, server_default=text("'{}'")),
      schema="shop")
Table("order", metadata,
      Column("region", String(2), primary_key=True),
      Column("number", Integer, primary_key=True),
      Column("user_id", Integer, ForeignKey("shop.user.id"), nullable=False),
      Column("status", Enum(Status, name="order_status", schema="shop"), nullable=False),
      Column("qty", Integer, nullable=False),
      Column("created", DateTime(timezone=True), nullable=False),
      Column("note", String(100)),
      CheckConstraint("qty > 0 AND qty < 1000", name="ck_order_qty"),
      schema="shop")
Table("product", metadata,
      Column("sku", String(20), primary_key=True),
      Column("price", Float, nullable=False),
      Column("featured_region", String(2)),
      schema="shop")
# A cycle of nullable keys: group.leader_id -> member, member.group_id -> group.
Table("group", metadata,
      Column("id", Integer, primary_key=True),
      Column("name", String, nullable=False),
      Column("leader_id", Integer, ForeignKey("shop.member.id", use_alter=True, name="fk_group_leader")),
      schema="shop")
Table("member", metadata,
      Column("id", Integer, primary_key=True),
      Column("group_id", Integer, ForeignKey("shop.group.id")),
      Column("user_id", Integer, ForeignKey("shop.user.id"), nullable=False),
      schema="shop")
"""

TABLES = ("user", "order", "product", "group", "member")


@pytest.fixture
def shop(pg, tmp_path):
    """(app root, url): the shop app migrated into a fresh database (schema ``shop`` made first)."""
    app = write_app(tmp_path / "shop", SHOP)
    name = pg.create_database()
    pg.execute("CREATE SCHEMA shop", database=name)
    with project.use(app):
        migrate.upgrade(pg.url_for(name), "head")
    # A table of the same name in public: the seed must neither fill nor count it.
    pg.execute('CREATE TABLE public."order" (id int)', database=name)
    try:
        yield app.root, pg.url_for(name)
    finally:
        pg.drop_database(name)


def todoctl(root, url, *args: str) -> subprocess.CompletedProcess:
    """A real `todoctl seed` process in the app's directory; a hang is a TimeoutExpired failure."""
    env = {**os.environ, "TODOCTL_PROJECT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "todoctl", "-d", url.url, *args], cwd=root, env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def count(pg, url, table: str) -> int:
    return pg.execute(f'SELECT count(*) FROM shop."{table}"', database=url.database)[0][0]


def test_a_failure_before_the_rows_are_bound_ends_the_seed_instead_of_hanging(pg, shop):
    """F9: the main thread failed (a column the models have is not in the database) while the
    drawing thread waited for the first table's array element types; both waited forever."""
    root, url = shop
    pg.execute('ALTER TABLE shop."order" DROP COLUMN note', database=url.database)
    result = todoctl(root, url, "seed")
    assert result.returncode == ExitCode.CHECK_FAILED, result.stderr
    assert "lacks what the seed writes: shop.order.note" in result.stderr
    assert all(count(pg, url, t) == 0 for t in TABLES if t != "order")


def test_a_constraint_violated_during_copy_is_exit_1_and_writes_nothing(pg, shop):
    root, url = shop
    pg.execute("ALTER TABLE shop.product ADD CONSTRAINT ck_db_only CHECK (price < 0)", database=url.database)
    result = todoctl(root, url, "seed")
    assert result.returncode == ExitCode.CHECK_FAILED, result.stderr
    assert "ck_db_only" in result.stderr and "nothing was written" in result.stderr
    assert all(count(pg, url, t) == 0 for t in TABLES)


def test_tables_in_a_schema_of_their_own_are_seeded_appended_and_truncated(pg, shop):
    root, url = shop
    result = todoctl(root, url, "seed", "--json")
    assert result.returncode == 0, result.stderr
    for table in TABLES:
        assert count(pg, url, table) > 0, table
    db = url.database
    assert pg.execute('SELECT count(*) FROM public."order"', database=db)[0][0] == 0
    assert pg.execute('SELECT max(length(region)) FROM shop."order"', database=db)[0][0] <= 2
    assert pg.execute("SELECT count(*) FROM shop.product WHERE length(featured_region) > 2", database=db)[0][0] == 0
    last = pg.execute("SELECT last_value FROM shop.user_id_seq", database=db)[0][0]
    assert last == pg.execute('SELECT max(id) FROM shop."user"', database=db)[0][0]
    assert pg.execute("SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'shop' AND last_analyze IS NULL",
                      database=db)[0][0] == 0  # fmt: skip
    import json

    report = json.loads(result.stdout)
    with project.use(project.from_directory(root)):
        assert report["fingerprint"] == seed.fingerprint(url)
    users = count(pg, url, "user")
    again = todoctl(root, url, "seed", "--append", "--rows", "user=5")
    assert again.returncode == 0, again.stderr
    assert count(pg, url, "user") == users + 5
    emptied = todoctl(root, url, "seed", "--truncate")
    assert emptied.returncode == 0, emptied.stderr
    assert count(pg, url, "user") == users


def test_a_generator_whose_values_do_not_fit_the_column_is_exit_2_before_writing(pg, shop):
    """2 letter codes are 676 values; 2,000 distinct ones would be numbered past them ("AB 2"), which
    a varchar(2) cannot hold: named with the profile key that fixes it, nothing written."""
    root, url = shop
    with project.use(project.from_directory(root)):
        with pytest.raises(TodoctlError) as raised:
            seed.run(None, rows=["order=2000"], dry_run=True)
    assert raised.value.exit_code == ExitCode.USAGE
    assert "order.region" in raised.value.message and "VARCHAR(2)" in raised.value.message
    assert "[tables.order.columns.region] values" in raised.value.hint
    result = todoctl(root, url, "seed", "--rows", "order=2000")
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "order.region" in result.stderr
    assert all(count(pg, url, t) == 0 for t in TABLES)


def test_a_foreign_key_over_several_columns_is_refused_with_one_clear_line(tmp_path):
    models = SHOP + """
Table("order_line", metadata,
      Column("id", Integer, primary_key=True),
      Column("region", String(2), nullable=False),
      Column("number", Integer, nullable=False),
      ForeignKeyConstraint(["region", "number"], ["shop.order.region", "shop.order.number"]),
      schema="shop")
"""
    app = write_app(tmp_path / "lines", models)
    with project.use(app), pytest.raises(TodoctlError) as raised:
        seed.run(None, dry_run=True)
    assert raised.value.exit_code == ExitCode.USAGE
    assert "order_line.region, order_line.number: foreign key over several columns (region, number)" in raised.value.message
    assert "docs/seed.md" in raised.value.hint

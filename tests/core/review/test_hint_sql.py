"""Every statement a review or lint hint prints runs, on a schema whose names PostgreSQL reserves:
tables "user", "order", "group", "select", columns "order" and "check". Each finding's SQL is run on a
fresh copy of the broken schema (one finding, one copy), and the rule, run again, no longer finds it."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, create_engine, select

from todoctl.core.review import ReviewContext, run
from todoctl.core.review.engine import RULES, load_rules
from todoctl.named_queries import NamedQuery, Param

BROKEN = """
CREATE TABLE "user" (id int PRIMARY KEY, email text NOT NULL, hashed_password text NOT NULL,
                     role text NOT NULL CHECK (role IN ('reader', 'admin')), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE "order" (id int PRIMARY KEY, user_id int, "check" text, placed timestamp,
                      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE "group" (id int NOT NULL, name text);
CREATE TABLE "select" (id int PRIMARY KEY, order_id int, created_at timestamptz NOT NULL DEFAULT now(),
                       updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO "user" VALUES (1, 'a@example.com', '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', 'reader');
INSERT INTO "order" (id, user_id, placed) VALUES (1, 1, now()), (2, 1, now());
INSERT INTO "select" (id, order_id) VALUES (1, 1), (2, 99);
ALTER TABLE "select" ADD CONSTRAINT select_order_id_fkey FOREIGN KEY (order_id) REFERENCES "order" NOT VALID;
CREATE INDEX "Order_check" ON "order" ("check");
CREATE INDEX order_check_again ON "order" ("check");
"""


@pytest.fixture
def broken(pg, empty_db):
    pg.execute(BROKEN, database=empty_db.database)
    return empty_db


def _metadata(url) -> MetaData:
    """The models as an app would declare these tables: reflected from the database."""
    engine = create_engine(url.url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        return metadata
    finally:
        engine.dispose()


def _queries(metadata: MetaData) -> dict:
    user, order = metadata.tables["user"], metadata.tables["order"]
    return {
        "by-check": NamedQuery("by-check", "filters and sorts order without an index", lambda c: (
            select(order.c.id).where(order.c.user_id == 1, order.c.placed > c).order_by(order.c.placed)
        ), (Param(name="c", type=str),), cross_user=True),
        "user-search": NamedQuery("user-search", "searches users", lambda q: (
            select(user.c.id).where(user.c.email.ilike(q))
        ), (Param(name="q", type=str),), cross_user=True),
    }


def _context(url, metadata, tmp_path) -> ReviewContext:
    return ReviewContext(root=tmp_path, metadata=metadata, queries=_queries(metadata), environ={}, url=url)


def _run_sql(pg, database: str, sql: str) -> None:
    from pglast import split

    for statement in split(sql):
        pg.execute(statement, database=database)


def test_every_hint_with_sql_runs_on_reserved_names_and_fixes_what_it_found(pg, broken, tmp_path):
    load_rules()
    metadata = _metadata(broken)
    report = run(_context(broken, metadata, tmp_path), only=list(RULES))
    with_sql = [f.finding for f in report.findings if f.finding.sql]
    rules = {f.rule for f in with_sql}
    # Each kind of statement a rule writes, on these names:
    assert {
        "fk-missing", "fk-delete-rule", "fk-orphans", "enum-default", "timestamp-mixed-tz", "password-hash", "fk-without-index",
        "no-primary-key", "timestamp-without-time-zone", "duplicate-index", "missing-timestamps", "query-index",
        "soft-delete",
    } <= rules, sorted(rules)
    for finding in with_sql:
        assert finding.sql in finding.hint, finding  # the statement printed is the statement tested
        for reserved in ("user", "order", "group", "select", "check"):
            assert f" {reserved} " not in f" {finding.sql} ".replace("(", " ").replace(")", " ").replace(",", " "), finding.sql
    template = broken.database
    for finding in with_sql:
        copy = pg.create_database(template=template)
        try:
            _run_sql(pg, copy, finding.sql)
            url = pg.url_for(copy)
            again = run(_context(url, _metadata(url), tmp_path), only=[finding.rule])
            same = [f.finding for f in again.findings if (f.finding.location, f.finding.sql) == (finding.location, finding.sql)]
            assert same == [], (finding.rule, finding.location, finding.sql)
        finally:
            pg.drop_database(copy)


# The same kinds of statement on tables outside the default schema (shop's schema `shop`, whose
# "user" and "order" tables the app has): each part of a name quoted on its own, `shop."order"`.
BROKEN_IN_SCHEMA = """
CREATE TABLE shop."select" (id int PRIMARY KEY, order_id int, user_id int, hashed_password text,
                            role text NOT NULL CHECK (role IN ('reader', 'admin')), placed timestamp,
                            created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE shop."group" (id int NOT NULL, name text);
INSERT INTO shop."user" (id, email) VALUES (1, 'a@example.com');
INSERT INTO shop."select" (id, order_id, user_id, role, placed) VALUES (1, 99, 1, 'reader', now());
ALTER TABLE shop."select" ADD CONSTRAINT select_order_id_fkey FOREIGN KEY (order_id) REFERENCES shop."order" NOT VALID;
CREATE INDEX "Order_status" ON shop."order" (status);
CREATE INDEX order_status_again ON shop."order" (status);
"""


def _shop_metadata(url) -> MetaData:
    engine = create_engine(url.url)
    try:
        metadata = MetaData()
        metadata.reflect(engine, schema="shop")
        return metadata
    finally:
        engine.dispose()


def test_every_hint_with_sql_runs_on_a_table_outside_the_default_schema(pg, use_app, shop_project, shop_db, tmp_path):
    use_app(shop_project)
    pg.execute(BROKEN_IN_SCHEMA, database=shop_db.database)
    load_rules()
    context = ReviewContext(root=tmp_path, metadata=_shop_metadata(shop_db), queries={}, environ={}, url=shop_db)
    with_sql = [f.finding for f in run(context, only=list(RULES)).findings if f.finding.sql]
    assert {
        "fk-missing", "fk-delete-rule", "fk-orphans", "enum-default", "timestamp-mixed-tz", "password-hash", "fk-without-index",
        "no-primary-key", "timestamp-without-time-zone", "duplicate-index",
    } <= {f.rule for f in with_sql}, sorted({f.rule for f in with_sql})
    for finding in with_sql:
        assert finding.sql in finding.hint, finding
        assert '"shop.' not in finding.sql, finding.sql  # never the schema quoted into the table's name
        if finding.table:  # and never the table left to the search path
            assert "shop." in finding.sql, finding.sql
    for finding in with_sql:
        copy = pg.create_database(template=shop_db.database)
        try:
            _run_sql(pg, copy, finding.sql)
            url = pg.url_for(copy)
            again = run(ReviewContext(root=tmp_path, metadata=_shop_metadata(url), queries={}, environ={}, url=url),
                        only=[finding.rule])
            same = [f.finding for f in again.findings if (f.finding.location, f.finding.sql) == (finding.location, finding.sql)]
            assert same == [], (finding.rule, finding.location, finding.sql)
        finally:
            pg.drop_database(copy)


def test_a_key_in_the_models_and_the_database_outside_the_default_schema_is_one_finding(use_app, shop_project, shop_db, tmp_path):
    project = use_app(shop_project)
    context = ReviewContext(root=tmp_path, metadata=project.metadata(), queries={}, environ={}, url=shop_db)
    findings = [f.finding for f in run(context, only=["fk-delete-rule"]).findings]
    locations = [f.location for f in findings]
    assert len(locations) == len(set(locations)), locations
    [user_key] = [f for f in findings if f.location == "shop.order.user_id"]
    assert "the database" in user_key.message and "models" in user_key.message, user_key.message
    assert user_key.sql.startswith('ALTER TABLE shop."order" DROP CONSTRAINT'), user_key.sql


def test_the_argon2_hashes_in_use_get_an_argon2_check_that_validates(pg, broken, tmp_path):
    report = run(_context(broken, _metadata(broken), tmp_path), only=["password-hash"])
    [finding] = [f.finding for f in report.findings]
    assert "argon2" in finding.hint.lower() and "$2" not in finding.sql  # not bcrypt's format
    assert "VALIDATE CONSTRAINT" in finding.sql  # every stored row matches: it is validated at once
    _run_sql(pg, broken.database, finding.sql)

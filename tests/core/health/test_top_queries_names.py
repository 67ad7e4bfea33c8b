"""top-queries names the app's queries by libpg_query fingerprint: every named query has a shape of its
own, and the text the server records for it (constants as $n) is recognised. Matching on a real
pg_stat_statements is in the topology tier (tests/test_topology.py)."""

from __future__ import annotations

from collections import Counter

from todoctl.core.health.top_queries import named_fingerprints, named_query
from todoctl.named_queries import app_queries


def test_every_named_query_has_a_fingerprint_of_its_own():
    names = named_fingerprints()
    assert set(names.values()) == set(app_queries())
    shapes = Counter(names.values())
    assert shapes["task-list"] == 2  # the first page, and a keyset page with its row comparison


def test_the_servers_normalised_text_is_recognised_and_other_sql_is_not():
    recorded = (
        "SELECT users.id, users.email, users.name, users.password_hash, users.theme, users.created_at, "
        "users.updated_at \nFROM users \nWHERE lower(users.email) = lower($1::VARCHAR)"
    )
    assert named_query(recorded) == "user-by-email"
    # The same statement with its constant written in, as pg_stat_statements keeps a literal it could not normalise.
    assert named_query(recorded.replace("$1::VARCHAR", "'a@example.com'")) == "user-by-email"
    assert named_query("SELECT users.id FROM users WHERE lower(users.email) = lower($1)") is None
    assert named_query("<insufficient privilege>") is None and named_query(None) is None


def test_the_second_apps_queries_are_named_by_their_own_text(use_app, shelf_project):
    use_app(shelf_project)
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from todoctl.named_queries import placeholders

    names = named_fingerprints()
    assert set(names.values()) == set(app_queries()) == {
        "reader-loans", "overdue-loans", "category-books", "book-search", "book-history", "return-loan"
    }
    named = app_queries()["overdue-loans"]  # joins "user": the server records the quoted name
    sql = str(named.build(**placeholders(named.params)).compile(dialect=PGDialect_psycopg(paramstyle="numeric_dollar")))
    assert 'JOIN "user"' in sql and named_query(sql) == "overdue-loans"

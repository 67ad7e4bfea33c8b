"""Fixtures for the hostile classes statements, protection, waits and interrupts (imported by name
from their test files; tests/hostile/conftest.py is left to the other classes).

``arena``: a seeded database copied from a template that holds every trap the statement cases
need: user-defined functions of every volatility and language (each leaves a durable mark, a
sequence step, if it ever runs), SECURITY DEFINER, a user operator, views, a rule, a policy, a
column default, a domain CHECK, a cast, and a schema that shadows pg_catalog's names. Plus what
a rollback would not restore, read from a separate session before and after each case, and the
server's own statement log, which shows whether an EXPLAIN was ever sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from tests.helpers import libpq
from todoctl.db.url import DatabaseURL

APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")

# Every trap leaves the same durable mark when it runs: hostile_seq advances (a sequence step is
# never rolled back), so "the sequence did not move" proves the function never ran.
TRAPS = r"""
CREATE SEQUENCE hostile_seq;
CREATE TABLE hostile_log (id int, what text);
CREATE FUNCTION hostile_volatile() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_stable() RETURNS int LANGUAGE sql STABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_immutable() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_plpgsql(x int DEFAULT 0) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM nextval('hostile_seq'); RETURN x; END $$;
CREATE FUNCTION hostile_definer() RETURNS int LANGUAGE sql VOLATILE SECURITY DEFINER
    AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_writes() RETURNS int LANGUAGE sql VOLATILE
    AS $$ INSERT INTO hostile_log VALUES (nextval('hostile_seq'), 'ran') RETURNING 1 $$;
CREATE FUNCTION hostile_resets() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 FROM pg_stat_reset() $$;
CREATE FUNCTION hostile_variadic(VARIADIC int[]) RETURNS int LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_title(tasks) RETURNS text LANGUAGE sql STABLE AS $$ SELECT nextval('hostile_seq')::text $$;
CREATE FUNCTION "Hostile Quoted"() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_agg_step(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE AGGREGATE hostile_sum(int) (SFUNC = hostile_agg_step, STYPE = int, INITCOND = '0');
CREATE FUNCTION hostile_rows() RETURNS SETOF int LANGUAGE sql STABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE FUNCTION hostile_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('hostile_seq') > 0 AND $1 = $2 $$;
CREATE FUNCTION hostile_neg(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('hostile_seq')::int $$;
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = hostile_eq);
CREATE OPERATOR !!! (RIGHTARG = int, FUNCTION = hostile_neg);
CREATE VIEW hostile_view AS SELECT hostile_volatile() AS n;
CREATE VIEW hostile_view_nested AS SELECT * FROM hostile_view;
CREATE VIEW hostile_view_builtin AS SELECT query_to_xml('SELECT pg_stat_reset()', true, true, '') AS x;
CREATE VIEW hostile_view_operator AS SELECT id FROM tasks WHERE 1 === 1;
CREATE VIEW harmless_view AS SELECT id, lower(title) AS title FROM tasks WHERE status = 'pending';
CREATE MATERIALIZED VIEW harmless_matview AS SELECT count(*) AS n FROM tasks;
CREATE DOMAIN hostile_domain AS int CHECK (hostile_eq(VALUE, VALUE));
CREATE TYPE hostile_mood AS ENUM ('calm', 'angry');
CREATE FUNCTION hostile_mood_text(hostile_mood) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('hostile_seq')::text $$;
CREATE CAST (hostile_mood AS text) WITH FUNCTION hostile_mood_text(hostile_mood);
CREATE TYPE hostile_pair AS (a int, b hostile_domain);
CREATE TABLE hostile_defaults (id int, n int DEFAULT hostile_volatile());
CREATE TABLE hostile_serial (id serial, v text);
CREATE TABLE hostile_rls (id int);
ALTER TABLE hostile_rls ENABLE ROW LEVEL SECURITY;
ALTER TABLE hostile_rls FORCE ROW LEVEL SECURITY;
CREATE POLICY hostile_policy ON hostile_rls USING (hostile_stable() > 0);
CREATE TABLE hostile_ruled (id int);
CREATE RULE hostile_rule AS ON INSERT TO hostile_ruled DO ALSO SELECT hostile_volatile();
CREATE FUNCTION hostile_rdiff(a float8, b float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM nextval('public.hostile_seq'); RETURN a - b; END $$;
CREATE TYPE hostile_range AS RANGE (subtype = float8, subtype_diff = hostile_rdiff);
CREATE TABLE hostile_ranges (r hostile_range) WITH (autovacuum_enabled = off);
INSERT INTO hostile_ranges SELECT hostile_range(g, g + 1) FROM generate_series(1, 2000) AS g;
ANALYZE hostile_ranges;
CREATE TABLE hostile_domained (d hostile_domain);
CREATE TABLE hostile_moods (m hostile_mood);
INSERT INTO hostile_moods VALUES ('calm');
CREATE FUNCTION hostile_mood_json(hostile_mood) RETURNS json LANGUAGE sql IMMUTABLE
    AS $$ SELECT to_json(nextval('hostile_seq')) $$;
CREATE CAST (hostile_mood AS json) WITH FUNCTION hostile_mood_json(hostile_mood);
CREATE TABLE hostile_rowcast (a int);
INSERT INTO hostile_rowcast VALUES (1);
CREATE FUNCTION hostile_rowcast_text(hostile_rowcast) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('hostile_seq')::text $$;
CREATE CAST (hostile_rowcast AS text) WITH FUNCTION hostile_rowcast_text(hostile_rowcast) AS IMPLICIT;
CREATE VIEW hostile_rowview AS SELECT 1 AS a;
CREATE FUNCTION hostile_rowview_text(hostile_rowview) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('hostile_seq')::text $$;
CREATE CAST (hostile_rowview AS text) WITH FUNCTION hostile_rowview_text(hostile_rowview) AS IMPLICIT;
CREATE SCHEMA shadow;
CREATE FUNCTION shadow.lower(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('public.hostile_seq')::text $$;
CREATE FUNCTION shadow.now() RETURNS timestamptz LANGUAGE sql STABLE
    AS $$ SELECT pg_catalog.now() + nextval('public.hostile_seq') * interval '0 s' $$;
CREATE FUNCTION shadow.count(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT nextval('public.hostile_seq')::int $$;
CREATE FUNCTION shadow.int_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT nextval('public.hostile_seq') > 0 AND $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR shadow.= (LEFTARG = int, RIGHTARG = int, FUNCTION = shadow.int_eq);
CREATE VIEW shadow.tasks AS SELECT hostile_volatile() AS id, 'x'::text AS title;
CREATE VIEW shadow.pg_proc AS SELECT * FROM pg_catalog.pg_proc WHERE false;
"""

# What a rollback does not restore, read from a separate session before and after.
OBSERVE = {
    "sequence": "SELECT last_value, is_called FROM hostile_seq",
    "stats": "SELECT (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), "
    "(SELECT stats_reset FROM pg_stat_bgwriter)",
    "conf": "SELECT pg_conf_load_time()",
    "slots": "SELECT count(*) FROM pg_replication_slots",
    "locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
    "largeobjects": "SELECT count(*) FROM pg_largeobject_metadata",
    "log": "SELECT count(*) FROM hostile_log",
    "setting": "SELECT setting FROM pg_settings WHERE name = 'work_mem'",
}


@dataclass
class Arena:
    """One hostile database, its observers, and the server's statement log."""

    url: DatabaseURL
    pg: object
    other: psycopg.Connection  # a second live session: must survive every case
    log: Path | None  # the server's log file, when this test process can read it
    roles: list[str] = field(default_factory=list)

    def snapshot(self) -> list:
        counts = [self.pg.execute(f"SELECT count(*) FROM {t}", database=self.url.database)[0][0] for t in APP_TABLES]
        return counts + [self.pg.execute(sql, database=self.url.database) for sql in OBSERVE.values()]

    def log_position(self) -> int:
        return self.log.stat().st_size if self.log else 0

    def explains_sent_since(self, position: int) -> list[str]:
        """Lines of the server log, since ``position``, in which this database received an EXPLAIN
        (log_statement = all on it): empty when the statement never reached the planner."""
        if self.log is None:
            return []
        with self.log.open("rb") as handle:
            handle.seek(position)
            text = handle.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if "EXPLAIN (" in line]

    def role(self, *, select_all: bool = True) -> DatabaseURL:
        """A login role without superuser (granted SELECT on the tables unless ``select_all`` is off)."""
        name = f"hostile_{uuid.uuid4().hex[:8]}"
        self.pg.execute(f"CREATE ROLE {name} LOGIN", database=self.url.database)
        if select_all:
            self.pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}", database=self.url.database)
        self.roles.append(name)
        return as_role(self.url, name)

    def with_options(self, options: str) -> DatabaseURL:
        """The same database with libpq ``options`` (e.g. ``-c search_path=shadow,pg_catalog``)."""
        return with_query(self.url, options=options)


def as_role(url: DatabaseURL, role: str) -> DatabaseURL:
    """The same server and database, as another user (the embedded server trusts local sockets)."""
    parts = urlsplit(url.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return DatabaseURL(urlunsplit(parts._replace(netloc=f"{role}@{host}")), "test")


def with_query(url: DatabaseURL, **extra: str) -> DatabaseURL:
    parts = urlsplit(url.url)
    query = dict(parse_qsl(parts.query))
    query.update(extra)
    # %20, not +: libpq does not read + as a space (SQLAlchemy does).
    return DatabaseURL(urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="/"))), "test")


def _server_log(pg) -> Path | None:
    try:
        directory = pg.execute("SHOW data_directory")[0][0]
    except Exception:
        return None
    path = Path(directory) / "log"
    try:
        path.stat()
        with path.open("rb"):
            return path
    except OSError:
        return None


@pytest.fixture(scope="session")
def hostile_template(pg, seeded_template):
    name = pg.create_database(template=seeded_template("small"))
    pg.execute(TRAPS, database=name)
    yield name
    pg.drop_database(name)


@pytest.fixture
def arena(pg, hostile_template):
    name = pg.create_database(template=hostile_template)
    url = pg.url_for(name)
    # Per database, so not copied with the template: every statement this database receives is
    # logged, and a case can tell whether an EXPLAIN ever reached the server.
    pg.execute(f'ALTER DATABASE "{name}" SET log_statement = \'all\'')
    other = psycopg.connect(libpq(url), autocommit=True)
    made = Arena(url, pg, other, _server_log(pg))
    yield made
    other.close()
    pg.drop_database(name)
    for role in made.roles:
        pg.execute(f"DROP ROLE IF EXISTS {role}")

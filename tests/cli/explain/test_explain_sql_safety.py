"""`todoctl explain sql` against hostile input, through the CLI on a real seeded server: each case
exits with its code, one Error line and one Hint line, no traceback, and leaves the data (and the
server state a rollback cannot restore) as it was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import libpq
from todoctl.cli.app import app
from todoctl.db.url import DatabaseURL

runner = CliRunner()

APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")
ALLOW = "--allow-side-effects"
NO_ANALYZE = "--no-analyze"
REFUSED, USAGE = 4, 2


@dataclass(frozen=True)
class Case:
    sql: str  # "{pid}" is replaced by the pid of a second, live session
    code: int
    says: str  # in the Error line
    args: tuple[str, ...] = ()
    watch: tuple[str, ...] = ()  # server state that must not change (see OBSERVE)
    mode: str = "plain"  # plain | protected (todoctl db protect) | role (a non-superuser)



# What a rollback does not restore, read from a separate session before and after.
OBSERVE = {
    "conf": "SELECT pg_conf_load_time()",
    "stats": "SELECT (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), "
    "(SELECT stats_reset FROM pg_stat_bgwriter)",
    "slots": "SELECT count(*) FROM pg_replication_slots",
    "locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
    "sequence": "SELECT last_value, is_called FROM hostile_seq",
}

MULTI = "statements given; explain takes exactly one"
TXN = "is transaction control"
SETTING = "is a session setting"
UTILITY = "is a utility statement"
SIDE = "refusing to run"
PROTECTED = "is a protected production database"

CASES = [
    # Quoting tricks that fooled the hand-written lexer: PostgreSQL's parser counts the statements.
    Case("SELECT 1 AS a$b$ ; COMMIT; DELETE FROM tasks; --", USAGE, "3 " + MULTI),
    Case("SELECT 1 AS a$b$ ; COMMIT; DELETE FROM tasks; --", USAGE, "3 " + MULTI, (NO_ANALYZE,), mode="role"),
    Case("SELECT $$;$$ ; DELETE FROM tasks", USAGE, "2 " + MULTI),
    Case("SELECT $t$ $$ ; $t$ ; DELETE FROM task_tags", USAGE, "2 " + MULTI),
    Case("SELECT E'\\'' ; DELETE FROM tasks; --'", USAGE, "2 " + MULTI),
    Case('SELECT U&"d\\0061t\\+000061" FROM tasks; DROP TABLE task_tags', USAGE, "2 " + MULTI),
    Case("SELECT 1 /* /* */ */ ; DELETE FROM tasks", USAGE, "2 " + MULTI),
    Case("SELECT 1 -- ;\n; TRUNCATE tasks CASCADE", USAGE, "2 " + MULTI),
    Case("SELECT 'it''s' ; UPDATE users SET email = 'x' ; --", USAGE, "2 " + MULTI, (NO_ANALYZE,)),
    # Transaction control and session settings.
    Case("COMMIT", USAGE, "COMMIT " + TXN),
    Case("ROLLBACK", USAGE, "ROLLBACK " + TXN),
    Case("BEGIN", USAGE, "BEGIN " + TXN),
    Case("SAVEPOINT s", USAGE, "SAVEPOINT " + TXN, (NO_ANALYZE,)),
    Case("START TRANSACTION READ WRITE", USAGE, "START " + TXN, mode="role"),
    Case("SET default_transaction_read_only = off", USAGE, "SET " + SETTING),
    Case("RESET ALL", USAGE, "RESET " + SETTING),
    Case("SET ROLE postgres", USAGE, "SET " + SETTING, mode="role"),
    # Utility statements.
    Case("DROP TABLE tasks CASCADE", USAGE, "DROP TABLE " + UTILITY),
    Case("TRUNCATE tasks CASCADE", USAGE, "TRUNCATE " + UTILITY, (NO_ANALYZE,)),
    Case("ALTER ROLE no_such_role VALID UNTIL 'epoch'", USAGE, "ALTER ROLE " + UTILITY),
    Case("GRANT ALL ON tasks TO PUBLIC", USAGE, "GRANT " + UTILITY),
    Case("COPY tasks TO STDOUT", USAGE, "COPY " + UTILITY),
    Case("COPY (SELECT 1) TO PROGRAM 'true'", USAGE, "COPY " + UTILITY, mode="protected"),
    Case("DO $$ BEGIN DELETE FROM tasks; END $$", USAGE, "DO " + UTILITY),
    Case("CALL no_such_procedure()", USAGE, "CALL " + UTILITY),
    Case("VACUUM FULL tasks", USAGE, "VACUUM " + UTILITY),
    Case("CHECKPOINT", USAGE, "CHECKPOINT " + UTILITY),
    Case("LISTEN hostile", USAGE, "LISTEN " + UTILITY),
    Case("NOTIFY hostile, 'x'", USAGE, "NOTIFY " + UTILITY),
    # What EXPLAIN accepts but todoctl will not run.
    Case("SELECT * INTO stolen FROM users", USAGE, "SELECT INTO creates a table"),
    Case("CREATE TABLE stolen AS SELECT * FROM users", USAGE, "creates an object"),
    Case("CREATE MATERIALIZED VIEW stolen AS SELECT 1", USAGE, "creates an object", (NO_ANALYZE,)),
    Case("EXECUTE prepared_elsewhere(1)", USAGE, "EXECUTE runs a prepared statement"),
    Case("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM users", USAGE, "DECLARE creates a cursor"),
    Case("EXPLAIN ANALYZE DELETE FROM tasks", USAGE, "already an EXPLAIN"),
    # Writes, hidden or not: the READ ONLY transaction refuses them under ANALYZE.
    Case("WITH gone AS (DELETE FROM tasks RETURNING id) SELECT count(*) FROM gone", REFUSED, "READ ONLY"),
    Case("DELETE FROM task_tags", REFUSED, "READ ONLY", mode="role"),
    # Calls a rollback cannot undo: every family, schema-qualified and quoted, in any position.
    Case("SELECT pg_terminate_backend({pid})", REFUSED, SIDE),
    Case('SELECT pg_catalog."pg_terminate_backend"({pid})', REFUSED, SIDE, (NO_ANALYZE,)),
    Case("SELECT * FROM tasks WHERE EXISTS (SELECT PG_CANCEL_BACKEND({pid}))", REFUSED, SIDE, mode="role"),
    Case("INSERT INTO tags (name, user_id) SELECT pg_terminate_backend({pid})::text, id FROM users", REFUSED, SIDE,
         (NO_ANALYZE,)),
    Case("SELECT pg_terminate_backend({pid})", REFUSED, PROTECTED, (ALLOW,), mode="protected"),
    Case("SELECT pg_reload_conf()", REFUSED, SIDE, watch=("conf",)),
    Case("SELECT pg_rotate_logfile()", REFUSED, SIDE),
    Case("SELECT pg_stat_reset()", REFUSED, SIDE, watch=("stats",)),
    Case("SELECT pg_catalog.pg_stat_reset_shared('bgwriter')", REFUSED, SIDE, watch=("stats",)),
    Case("SELECT pg_stat_reset()", REFUSED, PROTECTED, (ALLOW,), watch=("stats",), mode="protected"),
    Case("SELECT * FROM pg_create_physical_replication_slot('hostile')", REFUSED, SIDE, watch=("slots",)),
    Case("SELECT pg_catalog.pg_create_logical_replication_slot('h', 'test_decoding')", REFUSED, SIDE, watch=("slots",)),
    Case("SELECT pg_create_physical_replication_slot('hostile')", REFUSED, PROTECTED, (ALLOW,), watch=("slots",),
         mode="protected"),
    Case("SELECT pg_drop_replication_slot('any')", REFUSED, SIDE),
    Case("SELECT pg_replication_slot_advance('any', '0/0')", REFUSED, SIDE),
    Case("SELECT * FROM pg_logical_slot_get_changes('any', NULL, NULL)", REFUSED, SIDE),
    Case("SELECT pg_logical_emit_message(false, 'p', 'x')", REFUSED, SIDE),
    Case("SELECT pg_advisory_lock(1)", REFUSED, SIDE, watch=("locks",)),
    Case('WITH l AS (SELECT "pg_try_advisory_lock"(2)) SELECT * FROM l', REFUSED, SIDE, watch=("locks",)),
    Case("SELECT id FROM users ORDER BY pg_advisory_lock_shared(3)", REFUSED, SIDE, watch=("locks",), mode="role"),
    Case("SELECT pg_advisory_unlock_all()", REFUSED, SIDE),
    Case("SELECT pg_read_file('postgresql.conf')", REFUSED, SIDE),
    Case("SELECT pg_read_binary_file('postgresql.conf')", REFUSED, SIDE, (NO_ANALYZE,)),
    Case("SELECT * FROM pg_ls_dir('.')", REFUSED, SIDE),
    Case("SELECT (pg_stat_file('postgresql.conf')).size", REFUSED, SIDE),
    Case("SELECT lo_import('/etc/hostname')", REFUSED, SIDE),
    Case("SELECT lo_export(1, '/tmp/todoctl-hostile')", REFUSED, SIDE),
    Case("SELECT pg_file_write('x', 'y', false)", REFUSED, SIDE),
    Case("SELECT dblink_exec('dbname=postgres', 'DROP TABLE tasks')", REFUSED, SIDE),
    Case("SELECT * FROM public.dblink('dbname=postgres', 'SELECT 1') AS t(x int)", REFUSED, SIDE),
    Case("VALUES (nextval('hostile_seq'))", REFUSED, SIDE, (NO_ANALYZE,), watch=("sequence",)),
    Case("UPDATE tasks SET position = setval('hostile_seq', 100)", REFUSED, SIDE, watch=("sequence",)),
    Case("SELECT pg_switch_wal()", REFUSED, SIDE),
    Case("SELECT pg_create_restore_point('hostile')", REFUSED, SIDE),
    Case("SELECT pg_promote()", REFUSED, SIDE),
    Case("SELECT pg_backup_start('hostile')", REFUSED, SIDE),
    Case("SELECT pg_wal_replay_pause()", REFUSED, SIDE),
]


def _id(case: Case) -> str:
    return f"{case.mode}-{' '.join(case.args) or 'analyze'}-{case.sql[:40]}"


@pytest.fixture
def hostile(pg, seeded_db):
    """A seeded database with a sequence to watch, a second live session, and the roles/protection
    a case asks for; everything it made is removed after the test."""
    url = seeded_db("small")
    pg.execute("CREATE SEQUENCE hostile_seq", database=url.database)
    other = psycopg.connect(libpq(url), autocommit=True)
    roles: list[str] = []

    def role_url() -> DatabaseURL:
        name = f"reader_{uuid.uuid4().hex[:8]}"
        pg.execute(f"CREATE ROLE {name} LOGIN", database=url.database)
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}", database=url.database)
        roles.append(name)
        return role_url_for(url, name)

    yield url, other, role_url
    other.close()
    for name in roles:
        pg.execute(f"DROP OWNED BY {name}", database=url.database)
        pg.execute(f"DROP ROLE {name}")


def role_url_for(url: DatabaseURL, role: str) -> DatabaseURL:
    """The same server and database, as another user (the embedded server trusts local sockets)."""
    parts = urlsplit(url.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return DatabaseURL(urlunsplit(parts._replace(netloc=f"{role}@{host}")), "test")


def snapshot(pg, url: DatabaseURL, watch) -> list:
    counts = [pg.execute(f"SELECT count(*) FROM {t}", database=url.database)[0][0] for t in APP_TABLES]
    return counts + [pg.execute(OBSERVE[w], database=url.database) for w in watch]


def assert_one_error(result, code: int, says: str) -> None:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    hints = [line for line in result.stderr.splitlines() if line.startswith("Hint: ")]
    assert len(errors) == 1 and len(hints) == 1, result.stderr
    assert says in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_hostile_statement_is_refused_and_changes_nothing(pg, hostile, case: Case):
    url, other, role_url = hostile
    target = url
    if case.mode == "protected":
        assert runner.invoke(app, ["-d", url.url, "db", "protect", "--reason", "test"]).exit_code == 0
    elif case.mode == "role":
        target = role_url()
    before = snapshot(pg, url, case.watch)

    sql = case.sql.replace("{pid}", str(other.info.backend_pid))
    result = runner.invoke(
        app, ["-d", target.url, "explain", "sql", sql, *case.args], env={"TODOCTL_ALLOW_PRODUCTION": "1"}
    )

    assert_one_error(result, case.code, case.says)
    if case.code == REFUSED and "READ ONLY" not in case.says:
        assert ALLOW in result.stderr.split("Hint: ", 1)[1]
    if case.mode == "protected" and ALLOW in case.args:
        assert "never allowed on a protected database" in result.stderr
    assert snapshot(pg, url, case.watch) == before
    assert other.execute("SELECT 1").fetchone() == (1,)  # the second session was not terminated


def test_the_table_holds_enough_hostile_cases():
    assert len(CASES) >= 30
    assert {c.mode for c in CASES} == {"plain", "protected", "role"}
    assert any(NO_ANALYZE in c.args for c in CASES)


# ---------------------------------------------------------------- what must keep working


def invoke(url: DatabaseURL, *args: str):
    return runner.invoke(app, ["-d", url.url, "explain", "sql", *args])


@pytest.mark.parametrize(
    "sql, args, node",
    [
        ("SELECT $$a;b$$ AS s, count(*) FROM tasks", (), "Aggregate"),
        ("SELECT count(*) FROM tasks /* /* */ ; DELETE FROM tasks; /* */ */", (), "Aggregate"),
        ("SELECT count(*) FROM tasks WHERE title LIKE '%a%' -- trailing ; comment", (), "Aggregate"),
        ("WITH mine AS (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id) SELECT * FROM mine ORDER BY n", (), "Sort"),
        ("TABLE tags;", (), "Seq Scan"),
        ("VALUES (1), (2)", (), "Values Scan"),
        ("SELECT pg_advisory_xact_lock(11)", (ALLOW,), "Result"),  # asked for; released by the rollback
        ("UPDATE users SET email = 'x'", (NO_ANALYZE,), "Update on users"),
        ("WITH gone AS (DELETE FROM tasks RETURNING id) SELECT count(*) FROM gone", (NO_ANALYZE,), "Aggregate"),
        ("VALUES (nextval('hostile_seq'))", (NO_ANALYZE, ALLOW), "Values Scan"),
        ("SELECT pg_try_advisory_lock(7), pg_advisory_unlock(7)", (ALLOW,), "Result"),
    ],
)
def test_legitimate_statements_still_work(pg, hostile, sql, args, node):
    url, _, _ = hostile
    before = snapshot(pg, url, ("sequence", "locks"))
    result = invoke(url, sql, *args)
    assert result.exit_code == 0, result.output
    assert node in result.stdout
    assert snapshot(pg, url, ("sequence", "locks")) == before


def test_a_non_superuser_explains_a_select(pg, hostile):
    url, _, role_url = hostile
    result = invoke(role_url(), "SELECT count(*) FROM tasks")
    assert result.exit_code == 0, result.output
    assert "Aggregate" in result.stdout


def test_an_unreadable_protection_mark_is_refused_saying_so(pg, hostile):
    url, _, role_url = hostile
    reader = role_url()  # granted SELECT before the mark's table existed
    assert runner.invoke(app, ["-d", url.url, "db", "protect"]).exit_code == 0
    result = invoke(reader, "SELECT pg_try_advisory_lock(7), pg_advisory_unlock(7)", ALLOW)
    assert_one_error(result, REFUSED, "cannot read the protection mark")


def test_allowed_nextval_still_meets_the_read_only_transaction(pg, hostile):
    url, _, _ = hostile
    before = snapshot(pg, url, ("sequence",))
    result = invoke(url, "VALUES (nextval('hostile_seq'))", ALLOW)
    assert_one_error(result, REFUSED, "READ ONLY")
    assert snapshot(pg, url, ("sequence",)) == before


def test_json_error_document_for_a_refusal(hostile):
    import json

    url, _, _ = hostile
    result = invoke(url, "SELECT pg_advisory_lock(1)", "--json")
    assert result.exit_code == REFUSED, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["error"]["exit_code"] == REFUSED and document["error"]["kind"] == "refused"
    assert ALLOW in document["error"]["hint"]


@pytest.mark.parametrize("args", [("--help",), ("explain", "sql", "--help")])
def test_help_does_not_import_pglast(args):
    from tests.cli.test_startup import imported_modules

    assert not any(m.split(".")[0] == "pglast" for m in imported_modules(*args))

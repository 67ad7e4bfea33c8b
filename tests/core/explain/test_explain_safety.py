"""`explain sql` runs exactly one EXPLAIN-able statement: PostgreSQL's grammar (pglast) decides what
the text holds, the extended protocol carries it, and work a rollback cannot undo is refused."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import libpq
from todoctl.core import explain
from todoctl.core.explain import adhoc as adhoc_sql
from todoctl.core.explain import transaction as explain_transaction
from todoctl.errors import ExitCode, TodoctlError

APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")


def counts(pg, url) -> list[int]:
    return [pg.execute(f"SELECT count(*) FROM {t}", database=url.database)[0][0] for t in APP_TABLES]


def test_a_dollar_in_an_identifier_cannot_smuggle_a_commit_and_a_delete(pg, seeded_db):
    url = seeded_db("small")
    before = counts(pg, url)
    assert before[2] > 0
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(url, "SELECT 1 AS a$b$ ; COMMIT; DELETE FROM tasks; --")
    assert caught.value.exit_code == ExitCode.USAGE
    assert counts(pg, url) == before



# ---------------------------------------------------------------- one statement, by PostgreSQL's grammar


@pytest.mark.parametrize(
    "sql, text",
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT 1;", "SELECT 1"),
        ("  SELECT ';' AS a; ", "SELECT ';' AS a"),
        ("SELECT $$a;b$$, 'it''s;' -- c;\n", "SELECT $$a;b$$, 'it''s;' -- c;"),
        ("SELECT 1 /* /* */ ; DELETE FROM tasks; */", "SELECT 1 /* /* */ ; DELETE FROM tasks; */"),
        ("/* lead */ SELECT 'é' AS e", "SELECT 'é' AS e"),
        ('SELECT U&"d\\0061t\\+000061" FROM tasks', 'SELECT U&"d\\0061t\\+000061" FROM tasks'),
        ("SELECT E'\\';' AS q", "SELECT E'\\';' AS q"),
    ],
)
def test_one_statement_is_read_as_postgresql_reads_it(sql, text):
    assert adhoc_sql.parse_statement(sql).text == text


@pytest.mark.parametrize(
    "sql, says",
    [
        ("SELECT 1 AS a$b$ ; COMMIT; DELETE FROM tasks; --", "3 statements"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT 1 /* ; */; DELETE FROM tasks", "2 statements"),
        ("SELECT $q$ $$ $q$; DELETE FROM tasks", "2 statements"),
        ("  ; ", "no SQL statement"),
        ("-- only a comment", "no SQL statement"),
        ("SELECT 1\x00; DELETE FROM tasks", "NUL"),
        ("SELEC 1", "not valid SQL"),
        ("SELECT 1 INTO t", "SELECT INTO"),
        ("COMMIT", "COMMIT is transaction control"),
        ("END", "END is transaction control"),
        ("SET statement_timeout = 0", "SET is a session setting"),
        ("ALTER ROLE x SUPERUSER", "ALTER ROLE is a utility"),
        ("EXPLAIN SELECT 1", "already an EXPLAIN"),
    ],
)
def test_anything_but_one_explainable_statement_is_a_usage_error(sql, says):
    with pytest.raises(TodoctlError) as caught:
        adhoc_sql.parse_statement(sql)
    assert caught.value.exit_code == ExitCode.USAGE
    assert says in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    "sql, function",
    [
        ("SELECT pg_terminate_backend(1)", "pg_catalog.pg_terminate_backend("),
        ('SELECT pg_catalog."pg_terminate_backend"(1)', "pg_catalog.pg_terminate_backend("),
        ("SELECT PG_CANCEL_BACKEND(1)", "pg_catalog.pg_cancel_backend("),
        ("SELECT * FROM pg_ls_dir('.')", "pg_catalog.pg_ls_dir("),
        ("SELECT * FROM tasks WHERE id::text = pg_read_file('x')", "pg_catalog.pg_read_file("),
        ("WITH l AS (SELECT pg_advisory_lock(1)) SELECT * FROM l", "pg_catalog.pg_advisory_lock("),
        ("SELECT * FROM tasks t WHERE EXISTS (SELECT 1 WHERE nextval('s') > 0)", "pg_catalog.nextval("),
        ("VALUES (1, public.setval('s', 1))", "public.setval"),  # no such function: unknown, refused
        ("SELECT * FROM tasks ORDER BY pg_try_advisory_lock_shared(1)", "pg_catalog.pg_try_advisory_lock_shared("),
        ("SELECT CASE WHEN true THEN abs(pg_stat_reset_shared('io')::int) END", "pg_catalog.pg_stat_reset_shared("),
        ("SELECT * FROM tasks, LATERAL pg_logical_slot_get_changes('s', NULL, NULL) c", "pg_catalog.pg_logical_slot_get_changes("),
        ("INSERT INTO tags (name) SELECT dblink_exec('x', 'y')", "dblink_exec"),
        ("UPDATE tasks SET title = pg_switch_wal()::text", "pg_catalog.pg_switch_wal("),
        ("DELETE FROM tasks WHERE title = pg_backup_start('x')::text", "pg_catalog.pg_backup_start("),
        (
            "MERGE INTO tags t USING (SELECT lo_export(1, '/tmp/x') AS n) s ON false WHEN NOT MATCHED THEN DO NOTHING",
            "pg_catalog.lo_export(",
        ),
        ("SELECT (SELECT pg_create_physical_replication_slot('x'))", "pg_catalog.pg_create_physical_replication_slot("),
        ("SELECT count(*) FILTER (WHERE pg_reload_conf()) FROM tasks", "pg_catalog.pg_reload_conf("),
        ("SELECT query_to_xml('SELECT pg_stat_reset()', true, true, '')", "pg_catalog.query_to_xml("),
        ("SELECT pg_advisory_xact_lock(1), pg_try_advisory_xact_lock(2)", "pg_catalog.pg_advisory_xact_lock("),
        ("SELECT currval('s'), lastval()", "pg_catalog.currval("),
        ("SELECT pg_notify('c', 'x')", "pg_catalog.pg_notify("),
        ("SELECT set_config('search_path', 'x', false)", "pg_catalog.set_config("),
    ],
)
def test_calls_not_proven_harmless_are_found_in_any_position(migrated_db, sql, function):
    from todoctl.core.explain import harmless

    statement = adhoc_sql.parse_statement(sql)
    with psycopg.connect(libpq(migrated_db)) as conn, conn.cursor() as cur:
        found = harmless.refusals(cur, statement.reach)
    assert any(r.function.startswith(function) for r in found), found
    with pytest.raises(TodoctlError) as caught:
        harmless.refuse(found, allowed=False, protected=False, database="db")
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "--allow-side-effects" in caught.value.hint
    harmless.refuse(found, allowed=True, protected=False, database="db")  # asked for: allowed
    with pytest.raises(TodoctlError) as caught:
        harmless.refuse(found, allowed=True, protected=True, database="db")
    assert "never allowed on a protected database" in caught.value.hint


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT now(), pg_backend_pid(), current_setting('work_mem')",
        "SELECT * FROM pg_stat_activity",
        "SELECT random(), gen_random_uuid(), clock_timestamp()",  # VOLATILE, but only compute a value
        "SELECT count(*), max(title), lower(title) FROM tasks GROUP BY 3 ORDER BY 1 DESC",
        "SELECT * FROM tasks TABLESAMPLE BERNOULLI (10)",
    ],
)
def test_harmless_built_ins_are_not_refused(migrated_db, sql):
    from todoctl.core.explain import harmless

    with psycopg.connect(libpq(migrated_db)) as conn, conn.cursor() as cur:
        assert harmless.refusals(cur, adhoc_sql.parse_statement(sql).reach) == []


def test_every_denied_family_says_why():
    from todoctl.core.explain import harmless

    for family in harmless.DENIED:
        assert family.why and (family.names or family.prefixes or family.contains or family.signatures)
    assert all(harmless.PURE_VOLATILE.values())


def test_the_second_fence_refuses_an_explain_the_statement_escaped():
    forged = adhoc_sql.AdhocStatement("SELECT 1; DELETE FROM tasks", "SelectStmt", adhoc_sql.Reach())
    with pytest.raises(TodoctlError) as caught:
        adhoc_sql.check_explain_text("EXPLAIN (FORMAT JSON) " + forged.text, forged)
    assert caught.value.exit_code == ExitCode.REFUSED
    statement = adhoc_sql.parse_statement("SELECT 1 -- trailing")
    adhoc_sql.check_explain_text(explain_transaction._explain_sql(statement.text, True), statement)


# ---------------------------------------------------------------- the extended protocol carries one statement


def test_psycopg_sends_a_parameterless_query_with_the_simple_protocol(pg, migrated_db):
    """Why execute_one forces the extended protocol: without it, psycopg runs both statements."""
    import psycopg

    with psycopg.connect(libpq(migrated_db)) as conn:
        conn.execute("CREATE TEMP TABLE probe (x int)")
        conn.cursor().execute("SELECT 1; INSERT INTO probe VALUES (1)", [])  # params=[] is still simple
        assert conn.execute("SELECT count(*) FROM probe").fetchone()[0] == 1


@pytest.mark.parametrize("prepare_threshold", [5, None])  # None: as on pooled URLs
def test_the_server_refuses_a_second_statement_on_the_execution_path(migrated_db, prepare_threshold):
    import psycopg

    with psycopg.connect(libpq(migrated_db), prepare_threshold=prepare_threshold) as conn:
        conn.execute("CREATE TEMP TABLE probe (x int)")
        with pytest.raises(psycopg.errors.SyntaxError) as caught, conn.cursor() as cur:
            explain_transaction.execute_one(cur, "SELECT 1; INSERT INTO probe VALUES (1)")
        assert "cannot insert multiple commands into a prepared statement" in str(caught.value)
        conn.rollback()
        conn.execute("CREATE TEMP TABLE probe (x int)")
        with conn.cursor() as cur:
            assert explain_transaction.execute_one(cur, "SELECT count(*) FROM probe") == 0
            assert explain_transaction.execute_one(cur, "EXPLAIN (FORMAT JSON) SELECT 1")[0]["Plan"]["Node Type"] == "Result"


# ---------------------------------------------------------------- through explain_sql on a real server


def test_the_verdict_comes_from_the_catalog_not_the_name(pg, migrated_db):
    """A user function named like a harmless built-in, on a schema the search path puts first, is refused."""
    pg.execute("CREATE SCHEMA shadow; CREATE FUNCTION shadow.lower(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1'",
               database=migrated_db.database)
    assert explain.explain_sql(migrated_db, "SELECT lower('A')", analyze=False).root.node_type == "Result"
    pg.execute("ALTER DATABASE \"%s\" SET search_path = shadow, public" % migrated_db.database)
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(migrated_db, "SELECT lower('A')", analyze=False)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "shadow.lower(text)" in caught.value.message


def test_allowed_side_effects_run_but_never_on_a_protected_database(pg, migrated_db, monkeypatch):
    import todoctl.core.safety.protect as protect

    sql = "SELECT pg_try_advisory_lock(7), pg_advisory_unlock(7)"
    result = explain.explain_sql(migrated_db, sql, allow_side_effects=True)
    assert result.root.node_type == "Result"
    protect.protect(migrated_db, "test")
    monkeypatch.setenv(protect.ALLOW_ENV, "1")  # the production override does not apply here
    with pytest.raises(TodoctlError) as caught:
        explain.explain_sql(migrated_db, sql, allow_side_effects=True)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert "protected" in caught.value.message
    assert explain.explain_sql(migrated_db, "SELECT 1").root.node_type == "Result"  # plain SQL still explains


def test_a_terminate_through_the_old_trick_leaves_the_other_session_alive(pg, migrated_db):
    import psycopg

    with psycopg.connect(libpq(migrated_db), autocommit=True) as other:
        pid = other.info.backend_pid
        for sql in (f"SELECT 1 AS a$b$ ; SELECT pg_terminate_backend({pid}); --", f"SELECT pg_terminate_backend({pid})"):
            with pytest.raises(TodoctlError):
                explain.explain_sql(migrated_db, sql, analyze=False)
        assert other.execute("SELECT 1").fetchone() == (1,)


def test_the_second_fence_sees_the_same_calls():
    statement = adhoc_sql.parse_statement("SELECT 1")
    with pytest.raises(TodoctlError) as caught:
        adhoc_sql.check_explain_text("EXPLAIN SELECT pg_terminate_backend(1)", statement)
    assert caught.value.exit_code == ExitCode.REFUSED

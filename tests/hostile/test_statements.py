"""Hostile class "statements": what `explain sql` runs, tried as an attacker would.

README promise (Guarantees, "No ad-hoc statement escapes"): `explain sql` runs only functions
proven harmless — built-in, IMMUTABLE or STABLE, not running SQL given as text, not acting
outside the transaction — found wherever the statement can reach them; anything else is refused
with exit 4 naming it, unless --allow-side-effects, and never on a protected database. Text that
is not exactly one statement EXPLAIN accepts is exit 2. Every case runs through the CLI against a
real server and checks, from another session, that nothing happened: rows, sequences, statistics,
slots, locks, large objects, settings, a second live session, and the server's own statement log
(which shows that no EXPLAIN was ever sent for a refused statement).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from tests.hostile.conftest_statements import arena, hostile_template  # noqa: F401  (fixtures)
from todoctl.cli.app import app

runner = CliRunner()

ALLOW = "--allow-side-effects"
NO_ANALYZE = "--no-analyze"
REFUSED, USAGE = 4, 2
SIDE = "refusing to run"
PROTECTED = "is a protected production database: refusing to run"
READ_ONLY = "READ ONLY"
MIGRATION_LOCK = 6945445922939726218  # todoctl/core/migrate/lock.py LOCK_KEY
SHADOW_FIRST = "-csearch_path=shadow,pg_catalog,public"  # shadow's names win over pg_catalog's
SHADOW_AFTER = "-csearch_path=shadow,public"  # pg_catalog still first, implicitly


@dataclass(frozen=True)
class Case:
    promise: str  # what the README promises, in a few words (the test id)
    sql: str  # "{pid}" is the pid of a second live session
    says: str  # in the Error line: the function refused, or the reason
    code: int = REFUSED
    args: tuple[str, ...] = ()
    mode: str = "plain"  # plain | protected | role | shadow-first | shadow-after
    sent: bool = False  # the server refuses it (READ ONLY) after an EXPLAIN was sent


def refused(promise, sql, says, *args, mode="plain", code=REFUSED, sent=False):
    return Case(promise, sql, says, code, tuple(args), mode, sent)


CASES = [
    # ---- SQL given as text: the attacks of issue 26, and their relatives.
    refused("query_to_xml runs SQL text: stats reset", "SELECT query_to_xml('SELECT pg_stat_reset()', true, true, '')",
            "pg_catalog.query_to_xml("),
    refused("query_to_xml terminate on a protected db", "SELECT query_to_xml('SELECT pg_terminate_backend({pid})', true, true, '')",
            PROTECTED, ALLOW, mode="protected"),
    refused("query_to_xml terminate without flags", "SELECT query_to_xml('SELECT pg_terminate_backend({pid})', true, true, '')",
            "pg_catalog.query_to_xml("),
    refused("query_to_xml creates a replication slot",
            "SELECT query_to_xml('SELECT pg_create_physical_replication_slot(''hostile'')', true, true, '')", "query_to_xml("),
    refused("query_to_xml takes the migration lock",
            f"SELECT query_to_xml('SELECT pg_advisory_lock({MIGRATION_LOCK}), pg_sleep(2)', true, true, '')", "query_to_xml("),
    refused("query_to_xml_and_xmlschema runs SQL text",
            "SELECT query_to_xml_and_xmlschema('SELECT nextval(''hostile_seq'')', true, true, '')", "query_to_xml_and_xmlschema("),
    refused("query_to_xmlschema runs SQL text", "SELECT query_to_xmlschema('SELECT pg_stat_reset()', true, true, '')",
            "query_to_xmlschema("),
    refused("cursor_to_xml reads a cursor", "SELECT cursor_to_xml('c', 1, true, true, '')", "cursor_to_xml("),
    refused("table_to_xml (STABLE) reads a view that calls a function",
            "SELECT table_to_xml('hostile_view', true, true, '')", "pg_catalog.table_to_xml("),
    refused("table_to_xmlschema is in the family", "SELECT table_to_xmlschema('tasks', true, true, '')", "table_to_xmlschema("),
    refused("schema_to_xml (STABLE) reads every view", "SELECT schema_to_xml('public', true, true, '')", "schema_to_xml("),
    refused("database_to_xml (STABLE) reads everything", "SELECT database_to_xml(true, true, '')", "database_to_xml("),
    refused("ts_stat runs SQL text", "SELECT * FROM ts_stat('SELECT to_tsvector(title) FROM tasks WHERE pg_stat_reset() IS NULL')",
            "pg_catalog.ts_stat("),
    refused("ts_rewrite with a query runs SQL text",
            "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, (nextval(''hostile_seq''))::text::tsquery')",
            "pg_catalog.ts_rewrite("),
    refused("pg_input_is_valid runs a domain check named as text", "SELECT pg_input_is_valid('1', 'hostile_domain')",
            "pg_input_is_valid("),
    refused("pg_input_error_info likewise", "SELECT * FROM pg_input_error_info('1', 'hostile_domain')", "pg_input_error_info("),
    refused("dblink_exec (not installed) is unknown, refused", "SELECT dblink_exec('dbname=postgres', 'SELECT pg_stat_reset()')",
            "dblink_exec"),
    refused("dblink in FROM is unknown, refused",
            "SELECT * FROM dblink('dbname=postgres', 'SELECT pg_stat_reset()') AS t(x text)", "dblink"),
    # ---- built-ins acting outside the transaction.
    refused("set_config changes the session", "SELECT set_config('work_mem', '1MB', false)", "pg_catalog.set_config("),
    refused("nextval is never rolled back", "SELECT nextval('hostile_seq')", "pg_catalog.nextval("),
    refused("setval is never rolled back", "SELECT setval('hostile_seq', 99)", "pg_catalog.setval(", NO_ANALYZE),
    refused("currval is in the sequence family", "SELECT currval('hostile_seq')", "pg_catalog.currval("),
    refused("lastval is in the sequence family", "VALUES (lastval())", "pg_catalog.lastval("),
    refused("session advisory lock", "SELECT pg_advisory_lock(1)", "pg_catalog.pg_advisory_lock("),
    refused("transaction advisory lock blocks migrate too", "SELECT pg_advisory_xact_lock(1)", "pg_advisory_xact_lock("),
    refused("try advisory lock", "SELECT pg_try_advisory_lock(2)", "pg_try_advisory_lock("),
    refused("advisory unlock all", "SELECT pg_advisory_unlock_all()", "pg_advisory_unlock_all("),
    refused("lo_import reads a server file", "SELECT lo_import('/etc/hostname')", "pg_catalog.lo_import("),
    refused("lo_create makes a large object", "SELECT lo_create(0)", "pg_catalog.lo_create("),
    refused("lo_from_bytea makes a large object", "SELECT lo_from_bytea(0, 'x')", "lo_from_bytea("),
    refused("txid_current assigns an xid", "SELECT txid_current()", "txid_current("),
    refused("pg_current_xact_id assigns an xid", "SELECT pg_current_xact_id()", "pg_current_xact_id("),
    refused("pg_notify", "SELECT pg_notify('hostile', 'x')", "pg_catalog.pg_notify("),
    refused("terminate another session", "SELECT pg_terminate_backend({pid})", "pg_catalog.pg_terminate_backend("),
    refused("cancel another session", "SELECT pg_cancel_backend({pid})", "pg_catalog.pg_cancel_backend("),
    refused("reload configuration", "SELECT pg_reload_conf()", "pg_reload_conf("),
    refused("reset shared statistics", "SELECT pg_stat_reset_shared('bgwriter')", "pg_stat_reset_shared("),
    refused("logical slot", "SELECT pg_create_logical_replication_slot('hostile', 'pgoutput')", "pg_create_logical_replication_slot("),
    refused("WAL message", "SELECT pg_logical_emit_message(false, 'p', 'x')", "pg_logical_emit_message("),
    refused("read a server file", "SELECT pg_read_file('postgresql.conf')", "pg_read_file("),
    refused("list a server directory", "SELECT * FROM pg_ls_dir('.')", "pg_ls_dir("),
    refused("switch WAL", "SELECT pg_switch_wal()", "pg_switch_wal("),
    refused("setseed changes the session", "SELECT setseed(0.5)", "setseed("),
    refused("export a snapshot", "SELECT pg_export_snapshot()", "pg_export_snapshot("),
    # ---- user-defined functions, whatever they declare.
    refused("user function VOLATILE", "SELECT hostile_volatile()", "public.hostile_volatile()"),
    refused("user function STABLE", "SELECT hostile_stable()", "public.hostile_stable()"),
    refused("user function IMMUTABLE folded at planning", "SELECT hostile_immutable()", "public.hostile_immutable()", NO_ANALYZE),
    refused("plpgsql IMMUTABLE folded at planning", "SELECT hostile_plpgsql(1)", "public.hostile_plpgsql(", NO_ANALYZE),
    refused("SECURITY DEFINER", "SELECT hostile_definer()", "SECURITY DEFINER"),
    refused("SQL function that inserts", "SELECT hostile_writes()", "public.hostile_writes()"),
    refused("IMMUTABLE function that resets statistics", "SELECT hostile_resets()", "public.hostile_resets()", NO_ANALYZE),
    refused("VARIADIC call", "SELECT hostile_variadic(1, 2, 3)", "public.hostile_variadic("),
    refused("named notation and defaults", "SELECT hostile_plpgsql(x => 5)", "public.hostile_plpgsql("),
    refused("default argument left out", "SELECT hostile_plpgsql()", "public.hostile_plpgsql(", NO_ANALYZE),
    refused("quoted name", 'SELECT "Hostile Quoted"()', '"Hostile Quoted"'),
    refused("qualified, upper case", "SELECT PUBLIC.HOSTILE_VOLATILE()", "public.hostile_volatile()"),
    refused("qualified and quoted", 'SELECT "public"."hostile_immutable"()', "public.hostile_immutable()", NO_ANALYZE),
    refused("attribute notation t.f is f(t)", "SELECT t.hostile_title FROM tasks t", "public.hostile_title("),
    refused("attribute notation (t).f", "SELECT (t).hostile_title FROM tasks t", "public.hostile_title("),
    refused("user aggregate", "SELECT hostile_sum(1) FROM tasks", "public.hostile_sum("),
    refused("set-returning function in FROM", "SELECT * FROM hostile_rows()", "public.hostile_rows()"),
    refused("ROWS FROM", "SELECT * FROM ROWS FROM (hostile_rows(), generate_series(1, 2))", "public.hostile_rows()"),
    # ---- operators: a user operator is its function.
    refused("user operator", "SELECT 1 === 1", "public.hostile_eq(", NO_ANALYZE),
    refused("user prefix operator", "SELECT !!! 1", "public.hostile_neg(", NO_ANALYZE),
    refused("OPERATOR() syntax", "SELECT 1 OPERATOR(public.===) 1", "public.hostile_eq("),
    refused("operator with ANY", "SELECT 1 === ANY (ARRAY[1, 2])", "public.hostile_eq("),
    refused("operator with ALL over a subquery", "SELECT 1 WHERE 1 === ALL (SELECT 1)", "public.hostile_eq("),
    refused("ORDER BY USING a user operator", "SELECT id FROM tasks ORDER BY estimated_hours USING ===", "public.hostile_eq("),
    # ---- reached through relations: views, rules, policies, defaults.
    refused("view calling a user function", "SELECT * FROM hostile_view", "public.hostile_volatile()"),
    refused("view over a view", "SELECT * FROM hostile_view_nested", "public.hostile_volatile()"),
    refused("view calling query_to_xml (a built-in)", "SELECT * FROM hostile_view_builtin", "pg_catalog.query_to_xml("),
    refused("view using a user operator", "SELECT count(*) FROM hostile_view_operator", "public.hostile_eq("),
    refused("row-level security policy", "SELECT * FROM hostile_rls", "public.hostile_stable()"),
    refused("column default on INSERT", "INSERT INTO hostile_defaults (id) VALUES (1)", "public.hostile_volatile()", NO_ANALYZE),
    refused("DEFAULT in VALUES", "INSERT INTO hostile_defaults VALUES (1, DEFAULT)", "public.hostile_volatile()", NO_ANALYZE),
    refused("UPDATE SET DEFAULT", "UPDATE hostile_defaults SET n = DEFAULT", "public.hostile_volatile()", NO_ANALYZE),
    refused("serial default calls nextval", "INSERT INTO hostile_serial (v) VALUES ('x')", "pg_catalog.nextval(", NO_ANALYZE),
    refused("rule on INSERT", "INSERT INTO hostile_ruled VALUES (1)", "public.hostile_volatile()", NO_ANALYZE),
    refused("MERGE that inserts a default",
            "MERGE INTO hostile_defaults d USING (VALUES (1)) v(id) ON d.id = v.id WHEN NOT MATCHED THEN INSERT (id) VALUES (v.id)",
            "public.hostile_volatile()", NO_ANALYZE),
    refused("data-modifying CTE with a default",
            "WITH i AS (INSERT INTO hostile_defaults (id) VALUES (1) RETURNING n) SELECT * FROM i",
            "public.hostile_volatile()", NO_ANALYZE),
    # ---- anywhere in the tree.
    refused("in a CTE", "WITH x AS (SELECT hostile_volatile()) SELECT * FROM x", "public.hostile_volatile()"),
    refused("in LATERAL", "SELECT * FROM tasks, LATERAL (SELECT hostile_volatile()) l", "public.hostile_volatile()"),
    refused("in ORDER BY", "SELECT id FROM tasks ORDER BY hostile_stable()", "public.hostile_stable()"),
    refused("in FILTER", "SELECT count(*) FILTER (WHERE hostile_stable() > 0) FROM tasks", "public.hostile_stable()"),
    refused("in a window", "SELECT row_number() OVER (ORDER BY hostile_stable()) FROM tasks", "public.hostile_stable()"),
    refused("in EXISTS", "SELECT * FROM tasks WHERE EXISTS (SELECT hostile_immutable())", "public.hostile_immutable()"),
    refused("in VALUES", "VALUES (hostile_immutable())", "public.hostile_immutable()", NO_ANALYZE),
    refused("in a dead CASE branch", "SELECT CASE WHEN false THEN hostile_volatile() END", "public.hostile_volatile()"),
    refused("in GROUP BY", "SELECT count(*) FROM tasks GROUP BY hostile_stable()", "public.hostile_stable()"),
    refused("in DELETE's subquery", "DELETE FROM tasks WHERE id IN (SELECT NULL::uuid WHERE hostile_volatile() > 0)",
            "public.hostile_volatile()", NO_ANALYZE),
    refused("in UPDATE's SET", "UPDATE tasks SET title = hostile_immutable()::text", "public.hostile_immutable()", NO_ANALYZE),
    refused("in RETURNING", "DELETE FROM task_tags RETURNING hostile_volatile()", "public.hostile_volatile()", NO_ANALYZE),
    refused("after a leading comment", "\n-- just a comment\nSELECT pg_stat_reset()", "pg_stat_reset("),
    refused("hidden by nested comments", "SELECT /* /* */ */ pg_stat_reset()", "pg_stat_reset("),
    # ---- types: casts and domain checks.
    refused("domain CHECK calls a user function", "SELECT '1'::hostile_domain", "public.hostile_eq("),
    refused("CAST to the domain", "SELECT CAST(1 AS hostile_domain)", "public.hostile_eq("),
    refused("user cast function", "SELECT 'calm'::hostile_mood::text", "public.hostile_mood_text("),
    refused("composite with a domain field", "SELECT (ROW(1, 1)::hostile_pair).a", "public.hostile_eq("),
    refused("column definition list type", "SELECT * FROM json_to_record('{\"a\": 1}') AS x(a hostile_domain)",
            "public.hostile_eq("),
    refused("range compared by the planner runs its subtype_diff", "SELECT * FROM hostile_ranges WHERE r && '[1,5)'::hostile_range",
            "public.hostile_rdiff(", NO_ANALYZE),
    refused("range column read, no cast", "SELECT * FROM hostile_ranges WHERE r @> 3.0::float8", "public.hostile_rdiff(", NO_ANALYZE),
    refused("domain_in names the type by OID", "SELECT domain_in('5'::cstring, 'hostile_domain'::regtype, -1)", "pg_catalog.domain_in("),
    refused("record_in names the type by OID", "SELECT record_in('(1,5)'::cstring, 'hostile_pair'::regtype, -1)", "pg_catalog.record_in("),
    refused("array_in names the type by OID", "SELECT array_in('{5}'::cstring, 'hostile_domain'::regtype, -1)", "pg_catalog.array_in("),
    refused("a row with a domain column rebuilt without a cast",
            "SELECT jsonb_populate_record(t, '{\"d\": 5}') FROM hostile_domained t", "public.hostile_eq("),
    # ---- casts reached without being written (attack pass 2, F1 and F2).
    refused("a table's row type cast implicitly to text", "SELECT upper(c) FROM hostile_rowcast c",
            "public.hostile_rowcast_text("),
    refused("a table's row type cast explicitly", "SELECT c::text FROM hostile_rowcast c", "public.hostile_rowcast_text("),
    refused("a view's row type cast, folded while planning", "SELECT upper(v) FROM hostile_rowview v",
            "public.hostile_rowview_text(", NO_ANALYZE),
    refused("to_json calls a type's explicit cast to json", "SELECT to_json(m) FROM hostile_moods", "public.hostile_mood_json("),
    refused("json_agg calls it too", "SELECT json_agg(m) FROM hostile_moods", "public.hostile_mood_json("),
    refused("row_to_json through a row holding the type", "SELECT row_to_json(t) FROM hostile_moods t",
            "public.hostile_mood_json("),
    refused("json_build_object", "SELECT json_build_object('m', m) FROM hostile_moods", "public.hostile_mood_json("),
    # ---- a schema shadowing pg_catalog on the search path.
    refused("shadowed lower()", "SELECT lower('A')", "shadow.lower(", mode="shadow-first"),
    refused("shadowed now()", "SELECT now()", "shadow.now()", mode="shadow-first"),
    refused("shadowed count(int)", "SELECT count(1)", "shadow.count(", mode="shadow-first"),
    refused("shadowed = operator", "SELECT 1 = 1", "shadow.int_eq(", mode="shadow-first"),
    refused("shadowed IN list (implied =)", "SELECT 1 IN (1, 2)", "shadow.int_eq(", mode="shadow-first"),
    refused("shadowed relation is a view", "SELECT * FROM tasks", "public.hostile_volatile()", mode="shadow-first"),
    refused("shadow.pg_proc cannot blind the judge", "SELECT hostile_volatile()", "public.hostile_volatile()",
            mode="shadow-first"),
    refused("a shadow after pg_catalog is still a candidate", "SELECT lower('A')", "shadow.lower(", mode="shadow-after"),
    # ---- not one statement EXPLAIN accepts: exit 2, never sent.
    refused("two statements", "SELECT 1; SELECT pg_stat_reset()", "2 statements given", code=USAGE),
    refused("a parameter with no value", "SELECT $1 + 1", "has a parameter ($1)", code=USAGE),
    refused("dollar quoting hides a second statement", "SELECT 1 AS a$b$ ; SELECT pg_stat_reset(); --", "2 statements given",
            code=USAGE),
    refused("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'touch /tmp/todoctl-hostile'", "COPY is a utility statement", code=USAGE),
    refused("DO block", "DO $$ BEGIN PERFORM pg_stat_reset(); END $$", "DO is a utility statement", code=USAGE),
    refused("CALL", "CALL hostile_proc()", "CALL is a utility statement", code=USAGE),
    refused("SET", "SET search_path = shadow", "SET is a session setting", code=USAGE),
    refused("SELECT INTO", "SELECT * INTO hostile_new FROM tasks", "SELECT INTO creates a table", code=USAGE),
    refused("CREATE TABLE AS", "CREATE TABLE hostile_new AS SELECT hostile_volatile()", "creates an object", code=USAGE),
    refused("EXECUTE", "EXECUTE hostile_prepared", "EXECUTE runs a prepared statement", code=USAGE),
    refused("LOCK", "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE", "LOCK is a utility statement", code=USAGE),
    refused("LISTEN", "LISTEN hostile", "LISTEN is a utility statement", code=USAGE),
    refused("VACUUM", "VACUUM tasks", "VACUUM is a utility statement", code=USAGE),
    refused("EXPLAIN inside", "EXPLAIN ANALYZE SELECT hostile_volatile()", "already an EXPLAIN", code=USAGE),
    # ---- writes meet the READ ONLY transaction (the statement is sent; the server refuses it).
    refused("FOR UPDATE locks rows", "SELECT id FROM tasks FOR UPDATE", READ_ONLY, sent=True),
    refused("FOR SHARE locks rows", "SELECT id FROM tasks FOR SHARE", READ_ONLY, sent=True),
    refused("data-modifying CTE", "WITH d AS (DELETE FROM tasks RETURNING 1) SELECT count(*) FROM d", READ_ONLY, sent=True),
    refused("plain INSERT", "INSERT INTO tags (user_id, name) SELECT id, 'x' FROM users", READ_ONLY, sent=True),
    # ---- as a non-superuser.
    refused("role: user function", "SELECT hostile_volatile()", "public.hostile_volatile()", mode="role"),
    refused("role: query_to_xml", "SELECT query_to_xml('SELECT 1', true, true, '')", "query_to_xml(", mode="role"),
    refused("role: view", "SELECT * FROM hostile_view", "public.hostile_volatile()", mode="role"),
    # ---- a protected database: never, whatever the flags.
    refused("protected: user function", "SELECT hostile_volatile()", PROTECTED, ALLOW, mode="protected"),
    refused("protected: terminate", "SELECT pg_terminate_backend({pid})", PROTECTED, ALLOW, mode="protected"),
    refused("protected: view", "SELECT * FROM hostile_view", PROTECTED, ALLOW, mode="protected"),
    refused("protected: nextval", "SELECT nextval('hostile_seq')", PROTECTED, ALLOW, NO_ANALYZE, mode="protected"),
    refused("protected: replication slot", "SELECT pg_create_physical_replication_slot('hostile')", PROTECTED, ALLOW,
            mode="protected"),
]


def _id(case: Case) -> str:
    return case.promise.replace(" ", "-")


def target_for(arena, mode: str):
    if mode == "protected":
        result = runner.invoke(app, ["-d", arena.url.url, "db", "protect", "--reason", "hostile suite"])
        assert result.exit_code == 0, result.output
    if mode == "role":
        return arena.role()
    if mode == "shadow-first":
        return arena.with_options(SHADOW_FIRST)
    if mode == "shadow-after":
        return arena.with_options(SHADOW_AFTER)
    return arena.url


def explain(url, sql: str, *args: str, json_output: bool = False):
    extra = ("--json",) if json_output else ()
    return runner.invoke(app, ["-d", url.url, "explain", "sql", sql, *args, *extra], env={"TODOCTL_ALLOW_PRODUCTION": "1"})


def assert_one_error(result, code: int, says: str) -> None:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    hints = [line for line in result.stderr.splitlines() if line.startswith("Hint: ")]
    assert len(errors) == 1 and len(hints) == 1, result.stderr
    assert says in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_hostile_statement_is_refused_and_changes_nothing(arena, case: Case):
    target = target_for(arena, case.mode)
    before = arena.snapshot()
    position = arena.log_position()

    result = explain(target, case.sql.replace("{pid}", str(arena.other.info.backend_pid)), *case.args)

    assert_one_error(result, case.code, case.says)
    if case.code == REFUSED and case.says not in (PROTECTED, READ_ONLY):
        assert ALLOW in result.stderr.split("Hint: ", 1)[1]
    if case.mode == "protected":
        assert "never allowed on a protected database" in result.stderr
    assert arena.snapshot() == before, "a refused statement changed something"
    assert arena.other.execute("SELECT 1").fetchone() == (1,), "the second session was ended"
    if not case.sent:
        assert arena.explains_sent_since(position) == [], "the statement reached the server"


def test_the_suite_covers_every_way_in():
    modes = {c.mode for c in CASES}
    assert modes == {"plain", "protected", "role", "shadow-first", "shadow-after"}
    assert sum(1 for c in CASES if NO_ANALYZE in c.args) >= 10  # planning alone runs IMMUTABLE functions
    assert len(CASES) >= 100


def test_the_statement_log_is_read(arena):
    """The "never sent" checks above mean something: an explained statement does show in the log."""
    if arena.log is None:
        pytest.skip("the server's log is not readable here (an external TODOCTL_TEST_DATABASE_URL)")
    position = arena.log_position()
    assert explain(arena.url, "SELECT 42 AS hostile_marker").exit_code == 0
    assert any("hostile_marker" in line for line in arena.explains_sent_since(position))


def test_the_refusal_names_every_function_in_json(arena):
    result = explain(arena.url, "SELECT hostile_volatile(), 1 === 1 FROM hostile_view", json_output=True)
    assert result.exit_code == REFUSED, result.output
    document = json.loads(result.stdout)
    refused_functions = {r["function"] for r in document["error"]["details"]["refused"]}
    assert {"public.hostile_volatile()", "public.hostile_eq(integer, integer)"} <= refused_functions
    reached = {r["reached"] for r in document["error"]["details"]["refused"]}
    assert any("view public.hostile_view" in r for r in reached) and any("operator" in r for r in reached)


def test_the_migration_lock_attack_leaves_migrate_up_free(arena):
    """Issue 26: query_to_xml took the migration lock and a real `migrate up` exited 5."""
    attack = f"SELECT query_to_xml('SELECT pg_advisory_lock({MIGRATION_LOCK}), pg_sleep(3)', true, true, '')"
    assert explain(arena.url, attack).exit_code == REFUSED
    up = runner.invoke(app, ["-d", arena.url.url, "migrate", "up", "--lock-wait", "0"])
    assert up.exit_code == 0, up.output


def test_allowed_side_effects_still_meet_read_only_and_the_rollback(arena):
    """--allow-side-effects on an unprotected database lets the statement be planned and run, in a
    READ ONLY transaction that is rolled back: a user function's write still cannot commit."""
    count = "SELECT count(*) FROM hostile_log"
    before = arena.pg.execute(count, database=arena.url.database)
    result = explain(arena.url, "SELECT hostile_writes()", ALLOW)
    assert result.exit_code == REFUSED and READ_ONLY in result.stderr, result.output
    assert arena.pg.execute(count, database=arena.url.database) == before


# ---------------------------------------------------------------- what must keep working

HEALTHY = [
    ("now() and friends", "SELECT now(), current_date, statement_timestamp(), pg_backend_pid()", "Result"),
    ("lower, upper, coalesce", "SELECT lower(title), upper(coalesce(description, '')) FROM tasks", "Seq Scan"),
    ("count and GROUP BY", "SELECT status, count(*) FROM tasks GROUP BY status", "Aggregate"),
    ("to_tsvector and @@", "SELECT id FROM tasks WHERE to_tsvector('english', title) @@ plainto_tsquery('english', 'call')",
     "Seq Scan"),
    ("jsonb operators", "SELECT '{\"a\": {\"b\": 1}}'::jsonb -> 'a' ->> 'b', '{\"a\": 1}'::jsonb @> '{\"a\": 1}'", "Result"),
    ("jsonb_build_object and agg", "SELECT jsonb_agg(jsonb_build_object('id', id)) FROM tags", "Aggregate"),
    ("date_trunc and intervals", "SELECT date_trunc('day', created_at) + interval '1 day' FROM tasks", "Seq Scan"),
    ("extract, age, to_char", "SELECT extract(year FROM created_at), age(created_at), to_char(created_at, 'YYYY') FROM users",
     "Seq Scan"),
    ("generate_series", "SELECT * FROM generate_series(1, 10) AS g(i)", "Function Scan"),
    ("string and array aggregates", "SELECT string_agg(name, ','), array_agg(id) FROM tags", "Aggregate"),
    ("window with FILTER", "SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY created_at), "
     "count(*) FILTER (WHERE status = 'pending') OVER () FROM tasks", "WindowAgg"),
    ("regexp, position, substring, trim", "SELECT regexp_replace(title, 'a', 'b'), position('a' IN title), "
     "substring(title FROM 1 FOR 3), trim(both ' ' FROM title) FROM tasks", "Seq Scan"),
    ("LIKE, ILIKE, SIMILAR, BETWEEN, IN", "SELECT id FROM tasks WHERE title LIKE 'a%' OR title ILIKE 'b%' "
     "OR title SIMILAR TO 'c%' OR estimated_hours BETWEEN 1 AND 2 OR status IN ('pending', 'completed')", "Seq Scan"),
    ("CASE x WHEN and JOIN USING", "SELECT CASE l.position WHEN 0 THEN 1 ELSE 0 END FROM task_lists l "
     "JOIN tags USING (user_id)", "Join"),
    ("DISTINCT, UNION, ORDER BY, LIMIT", "SELECT DISTINCT name FROM tags UNION SELECT email FROM users ORDER BY 1 LIMIT 5",
     "Limit"),
    ("CTE, LATERAL, EXISTS", "WITH u AS (SELECT id FROM users) SELECT * FROM u, LATERAL (SELECT count(*) FROM tasks t "
     "WHERE t.user_id = u.id) c WHERE EXISTS (SELECT 1 FROM tags)", "Nested Loop"),
    ("format, concat, quote_ident", "SELECT format('%s-%s', id, name), concat(name, '!'), quote_ident(name) FROM tags",
     "Seq Scan"),
    ("current_setting", "SELECT current_setting('work_mem')", "Result"),
    ("random and gen_random_uuid (VOLATILE, only compute)", "SELECT random(), gen_random_uuid(), clock_timestamp()", "Result"),
    ("TABLESAMPLE", "SELECT count(*) FROM tasks TABLESAMPLE BERNOULLI (50)", "Aggregate"),
    ("a harmless view", "SELECT count(*) FROM harmless_view", "Aggregate"),
    ("a materialized view is read as stored", "SELECT * FROM harmless_matview", "Seq Scan"),
    ("system views", "SELECT count(*) FROM pg_stat_activity", "Aggregate"),
    ("information_schema", "SELECT count(*) FROM information_schema.tables", "Aggregate"),
    ("ts_rewrite without a query is IMMUTABLE", "SELECT ts_rewrite('a & b'::tsquery, 'a'::tsquery, 'c'::tsquery)", "Result"),
    ("built-in casts", "SELECT '1'::int, 'x'::varchar(3), 1::numeric(3, 1), '1 day'::interval, 'tasks'::regclass", "Result"),
    ("a comment hiding nothing", "SELECT count(*) FROM tasks /* ; SELECT pg_stat_reset() */", "Aggregate"),
    ("pg_sleep is a bounded wait", "SELECT pg_sleep(0)", "Result"),
    ("INSERT planned, defaults gen_random_uuid and now", "INSERT INTO tags (user_id, name) SELECT id, 'x' FROM users",
     "Insert on tags", NO_ANALYZE),
    ("UPDATE planned", "UPDATE tasks SET estimated_hours = estimated_hours + 1 WHERE status = 'pending'", "Update on tasks", NO_ANALYZE),
    ("FOR UPDATE planned", "SELECT id FROM tasks FOR UPDATE", "LockRows", NO_ANALYZE),
    ("a shadow schema off the path is not a candidate", "SELECT lower('A'), now(), count(1)", "Result"),
]


@pytest.mark.parametrize(
    "promise, sql, node, args",
    [(h[0], h[1], h[2], h[3:]) for h in HEALTHY],
    ids=[h[0].replace(" ", "-") for h in HEALTHY],
)
def test_ordinary_statements_still_explain(arena, promise, sql, node, args):
    before = arena.snapshot()
    result = explain(arena.url, sql, *args)
    assert result.exit_code == 0, result.output
    assert node in result.stdout
    assert arena.snapshot() == before


def test_named_queries_keep_their_own_rules(arena):
    """Default-deny is for ad-hoc SQL: the app's named queries are its code (their parameter
    picking even uses ts_stat) and explain as before."""
    result = runner.invoke(app, ["-d", arena.url.url, "explain", "task-search"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("setting", ["url", "role"])
def test_the_server_reads_the_statement_as_it_was_judged(arena, setting):
    """With standard_conforming_strings off (a URL's options, or the role's default), the server
    would read 'a\\' || ' as one literal and run the call pglast read as text. The statement runs
    with the setting on, so it is the harmless concatenation of two literals that was judged."""
    sql = "SELECT 'a\\' || ' || hostile_volatile()::text -- '"
    if setting == "url":
        target = arena.with_options("-cstandard_conforming_strings=off")
    else:
        target = arena.role()
        role = target.url.split("://", 1)[1].split("@", 1)[0]
        arena.pg.execute(f"ALTER ROLE {role} SET standard_conforming_strings = off", database=arena.url.database)
    before = arena.snapshot()
    result = explain(target, sql, "--json")
    assert result.exit_code == 0, result.output
    assert arena.snapshot() == before, "the call read as text ran"

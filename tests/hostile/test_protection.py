"""Hostile class "protection": the production mark cannot be hidden, and commands that drop data ask.

README promises (Protected databases; `migrate down`): a protected database refuses destructive
commands without both `--yes` and TODOCTL_ALLOW_PRODUCTION=1, however the connection's search
path is set; a role that cannot read the mark is refused (exit 4, saying so), never treated as
unprotected; `db unprotect` needs the same two keys. A `migrate down` (or `reset`) that drops
tables or columns holding rows says how many it will lose and asks; without a terminal it exits
4 unless `--yes`; `--dry-run` shows the same counts. Every case runs against a real server and
checks the database afterwards.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import psycopg
import pytest
from typer.testing import CliRunner

from tests.helpers import REPO, copy_migrations, libpq, revision_source, todoctl_command, todoctl_env
from tests.hostile.conftest_statements import as_role, with_query
from todoctl.cli.app import app
from todoctl.core import migrate

runner = CliRunner()
HISTORY = [r.revision for r in migrate.history()]
HEAD = HISTORY[-1]
ALLOW = {"TODOCTL_ALLOW_PRODUCTION": "1"}
PROTECTED = "is a protected production database"
UNREADABLE = "cannot read the protection mark"


def invoke(url, *args: str, env: dict | None = None):
    return runner.invoke(app, ["-d", url.url, *args], env=env)


def protect(url, reason: str = "hostile suite") -> None:
    result = invoke(url, "db", "protect", "--reason", reason)
    assert result.exit_code == 0, result.output


def marked(pg, url) -> bool:
    """Whether any todoctl_meta in any schema holds the mark, read as the superuser."""
    rows = pg.execute(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'todoctl_meta' AND c.relkind = 'r'",
        database=url.database,
    )
    return any(pg.execute(f"SELECT count(*) FROM {t} WHERE key = 'protected'", database=url.database)[0][0] for (t,) in rows)


def state(pg, url) -> tuple:
    """What a refused command must leave as it was: the revision, the rows, the mark."""
    revision = pg.execute("SELECT version_num FROM alembic_version", database=url.database)
    counts = [pg.execute(f"SELECT count(*) FROM {t}", database=url.database)[0][0] for t in ("users", "tasks", "tags")]
    return revision, counts, marked(pg, url)


def one_error(result, code: int, says: str) -> None:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- the mark cannot be hidden

# Connection options an attacker (or an unlucky .env) can put in the URL.
HIDING = {
    "search_path=pg_catalog": "-csearch_path=pg_catalog",
    "search_path empty": "-csearch_path=",
    "search_path=nonexistent": "-csearch_path=nonexistent",
    "a shadow schema before pg_catalog": "-csearch_path=shadow,pg_catalog,public",
}

# Each destructive command, with what it needs; "{pid}" is a second live session.
DESTRUCTIVE = {
    "db cancel --terminate": ("db", "cancel", "{pid}", "--terminate", "--yes"),
    "migrate down --yes": ("migrate", "down", "--yes"),
    "migrate stamp --yes": ("migrate", "stamp", "base", "--yes"),
    "seed --truncate --yes": ("seed", "--users", "3", "--truncate", "--yes"),
    "migrate reset --yes": ("migrate", "reset", "--yes"),
    "db unprotect --yes": ("db", "unprotect", "--yes"),
    "explain sql --allow-side-effects": ("explain", "sql", "SELECT pg_try_advisory_lock(7)", "--allow-side-effects"),
}


@pytest.fixture
def protected_db(pg, seeded_db):
    url = seeded_db("small")
    protect(url)
    # A schema that would hide the mark if todoctl looked it up through the search path: an empty
    # todoctl_meta, and catalog look-alikes that list nothing.
    pg.execute(
        "CREATE SCHEMA shadow; CREATE TABLE shadow.todoctl_meta (key text PRIMARY KEY, value jsonb);"
        "CREATE VIEW shadow.pg_class AS SELECT * FROM pg_catalog.pg_class WHERE false;"
        "CREATE VIEW shadow.pg_namespace AS SELECT * FROM pg_catalog.pg_namespace WHERE false;",
        database=url.database,
    )
    other = psycopg.connect(libpq(url), autocommit=True)
    yield url, other
    other.close()


@pytest.mark.parametrize("hiding", list(HIDING), ids=list(HIDING))
@pytest.mark.parametrize("command", list(DESTRUCTIVE), ids=list(DESTRUCTIVE))
def test_the_mark_holds_whatever_the_search_path(pg, protected_db, hiding, command):
    """Issue 26: `?options=-csearch_path%3Dpg_catalog` made a protected database unprotected for
    `db cancel --terminate --yes`. The mark is found in every schema, by qualified names."""
    url, other = protected_db
    before = state(pg, url)
    hidden = with_query(url, options=HIDING[hiding])
    args = [a.replace("{pid}", str(other.info.backend_pid)) for a in DESTRUCTIVE[command]]
    result = invoke(hidden, *args)  # --yes alone: the second key is missing
    one_error(result, 4, PROTECTED)
    assert state(pg, url) == before
    assert other.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("hiding", list(HIDING), ids=list(HIDING))
def test_db_protection_reports_the_mark_whatever_the_search_path(protected_db, hiding):
    url, _ = protected_db
    result = invoke(with_query(url, options=HIDING[hiding]), "db", "protection", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["protected"] is True


def test_migrate_up_stays_allowed_on_a_protected_database(pg, protected_db):
    url, _ = protected_db
    assert invoke(url, "migrate", "up").exit_code == 0  # what deploys do


def test_a_mark_in_another_schema_is_found(pg, migrated_db):
    pg.execute("CREATE SCHEMA app_meta", database=migrated_db.database)
    protect(with_query(migrated_db, options="-csearch_path=app_meta,public"))
    assert pg.execute("SELECT count(*) FROM app_meta.todoctl_meta", database=migrated_db.database) == [(1,)]
    one_error(invoke(migrated_db, "migrate", "down", "--yes"), 4, PROTECTED)
    assert pg.execute("SELECT version_num FROM alembic_version", database=migrated_db.database) == [(HEAD,)]


def test_protect_refuses_to_write_the_mark_into_pg_catalog(pg, migrated_db):
    result = invoke(with_query(migrated_db, options="-csearch_path=pg_catalog"), "db", "protect")
    one_error(result, 4, "no schema to create the protection mark in")
    assert not marked(pg, migrated_db)


def test_protect_writes_into_the_existing_mark_whatever_the_path(pg, migrated_db):
    protect(migrated_db)
    protect(with_query(migrated_db, options="-csearch_path=pg_catalog"), "again")
    assert pg.execute("SELECT count(*) FROM pg_class WHERE relname = 'todoctl_meta'", database=migrated_db.database) == [(1,)]


def test_unprotect_removes_the_mark_from_every_schema(pg, migrated_db):
    protect(migrated_db)
    pg.execute("CREATE SCHEMA second; CREATE TABLE second.todoctl_meta (key text PRIMARY KEY, value jsonb NOT NULL);"
               "INSERT INTO second.todoctl_meta VALUES ('protected', '{}')", database=migrated_db.database)
    result = invoke(migrated_db, "db", "unprotect", "--yes", env=ALLOW)
    assert result.exit_code == 0, result.output
    assert not marked(pg, migrated_db)


# ---------------------------------------------------------------- db unprotect needs both keys

@pytest.mark.parametrize(
    "args, env, code",
    [((), None, 4), (("--yes",), None, 4), ((), ALLOW, 4), (("--yes",), {"TODOCTL_ALLOW_PRODUCTION": "yes"}, 4),
     (("--yes", "--dry-run"), None, 4), (("--yes",), ALLOW, 0)],
    ids=["no-keys", "yes-only", "env-only", "env-not-1", "dry-run-yes-only", "both-keys"],
)
def test_unprotect_needs_the_two_keys_of_the_commands_it_unlocks(pg, migrated_db, args, env, code):
    protect(migrated_db)
    result = invoke(migrated_db, "db", "unprotect", *args, env=env)
    assert result.exit_code == code, result.output
    assert marked(pg, migrated_db) is (code != 0)


# ---------------------------------------------------------------- a mark the role cannot read

UNREADABLE_COMMANDS = {
    "db protection": ("db", "protection"),
    "migrate down --yes": ("migrate", "down", "--yes"),
    "migrate stamp --yes": ("migrate", "stamp", "base", "--yes"),
    "seed --truncate --yes": ("seed", "--users", "3", "--truncate", "--yes"),
    "db cancel": ("db", "cancel", "{pid}", "--yes"),
    "explain sql --allow-side-effects": ("explain", "sql", "SELECT pg_try_advisory_lock(7)", "--allow-side-effects"),
}


@pytest.fixture
def reader(pg, seeded_db):
    """A protected database and a role that may read the app's tables but not todoctl_meta."""
    url = seeded_db("small")
    protect(url)
    role = f"reader_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    pg.execute(f"CREATE ROLE {role} LOGIN", database=url.database)
    pg.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON users, tasks, tags, task_lists, task_tags, "
               f"alembic_version TO {role}", database=url.database)
    other = psycopg.connect(libpq(as_role(url, role)), autocommit=True)
    yield url, as_role(url, role), other
    other.close()
    pg.execute(f"DROP OWNED BY {role}", database=url.database)
    pg.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("command", list(UNREADABLE_COMMANDS), ids=list(UNREADABLE_COMMANDS))
def test_a_mark_the_role_cannot_read_is_exit_4_saying_so(pg, reader, command):
    url, role_url, other = reader
    before = state(pg, url)
    args = [a.replace("{pid}", str(other.info.backend_pid)) for a in UNREADABLE_COMMANDS[command]]
    result = invoke(role_url, *args, env=ALLOW)  # even with both keys: it cannot know
    one_error(result, 4, UNREADABLE)
    assert "todoctl_meta" in result.stderr
    assert state(pg, url) == before
    assert other.execute("SELECT 1").fetchone() == (1,)


def test_no_usage_on_the_marks_schema_is_exit_4(pg, migrated_db):
    pg.execute("CREATE SCHEMA vault", database=migrated_db.database)
    protect(with_query(migrated_db, options="-csearch_path=vault,public"))
    role = f"outsider_{os.getpid()}"
    pg.execute(f"CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
               database=migrated_db.database)
    try:
        one_error(invoke(as_role(migrated_db, role), "db", "protection"), 4, UNREADABLE)
    finally:
        pg.execute(f"DROP OWNED BY {role}", database=migrated_db.database)
        pg.execute(f"DROP ROLE {role}")


def test_a_plain_explain_needs_no_mark(reader):
    """Reading the mark is needed only to allow side effects: a harmless statement explains."""
    _, role_url, _ = reader
    result = invoke(role_url, "explain", "sql", "SELECT count(*) FROM tasks")
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- commands that drop data ask

def rows(pg, url, table: str) -> int:
    return pg.execute(f"SELECT count(*) FROM {table}", database=url.database)[0][0]


def revision(pg, url) -> list:
    return pg.execute("SELECT version_num FROM alembic_version", database=url.database)


@pytest.mark.parametrize(
    "target, dropped",
    [("base", ["table users", "table tasks"]), ("0003", ["table task_tags", "table tags"]),
     ("0001", ["table task_lists", "table tags"])],
    ids=["down-base", "down-0003", "down-0001"],
)
def test_down_that_drops_rows_says_how_many_and_needs_yes_without_a_terminal(pg, seeded_db, target, dropped):
    url = seeded_db("small")
    before = (revision(pg, url), rows(pg, url, "tasks"), rows(pg, url, "tags"))
    result = invoke(url, "migrate", "down", target)
    one_error(result, 4, "confirmation needed")
    for what in dropped:
        assert what in result.stderr
    assert " rows" in result.stderr and "--yes" in result.stderr
    assert (revision(pg, url), rows(pg, url, "tasks"), rows(pg, url, "tags")) == before


def test_the_refusal_counts_the_rows_exactly(pg, seeded_db):
    url = seeded_db("small")
    result = invoke(url, "migrate", "down", "0003", "--json")
    assert result.exit_code == 4
    losses = {(x["table"], x["column"]): x["rows"] for x in json.loads(result.stdout)["error"]["details"]["losses"]}
    assert losses[("tags", None)] == rows(pg, url, "tags")
    assert losses[("task_tags", None)] == rows(pg, url, "task_tags")


def test_dry_run_shows_the_same_counts(pg, seeded_db):
    url = seeded_db("small")
    refused = json.loads(invoke(url, "migrate", "down", "base", "--json").stdout)["error"]["details"]["losses"]
    planned = invoke(url, "migrate", "down", "base", "--dry-run", "--json")
    assert planned.exit_code == 0, planned.output
    assert [{k: x[k] for k in ("table", "column", "rows")} for x in json.loads(planned.stdout)["losses"]] == refused
    text = invoke(url, "migrate", "down", "base", "--dry-run")
    assert f"table tasks ({rows(pg, url, 'tasks'):,} rows)" in text.stdout


def test_yes_confirms_and_the_run_reports_what_it_dropped(pg, seeded_db):
    url = seeded_db("small")
    tags = rows(pg, url, "tags")
    result = invoke(url, "migrate", "down", "0003", "--yes")
    assert result.exit_code == 0, result.output
    assert f"table tags ({tags:,} row" in result.stdout
    assert revision(pg, url) == [("0003",)]


def test_a_down_that_drops_no_rows_does_not_ask(pg, seeded_db):
    url = seeded_db("small")
    assert invoke(url, "migrate", "down", "-1").exit_code == 0  # 0008 -> 0007: indexes and a column it re-adds
    migrated = invoke(url, "migrate", "down", "base", "--yes")
    assert migrated.exit_code == 0
    empty_again = invoke(url, "migrate", "up")
    assert empty_again.exit_code == 0
    assert invoke(url, "migrate", "down", "base").exit_code == 0  # empty tables: nothing to lose, nothing asked


def test_a_protected_database_still_needs_both_keys(pg, seeded_db):
    url = seeded_db("small")
    protect(url)
    one_error(invoke(url, "migrate", "down", "0003", "--yes"), 4, PROTECTED)
    assert invoke(url, "migrate", "down", "0003", "--yes", env=ALLOW).exit_code == 0


def test_reset_says_how_many_rows_it_drops(pg, seeded_db):
    url = seeded_db("small")
    result = invoke(url, "migrate", "reset")
    one_error(result, 4, "confirmation needed")
    assert f"table tasks ({rows(pg, url, 'tasks'):,} rows)" in result.stderr


COLUMN_REVISION = revision_source(
    "0009",
    HEAD,
    "op.add_column('tasks', sa.Column('note', sa.Text(), nullable=True))\n"
    "op.execute(\"UPDATE tasks SET note = 'n' WHERE priority = 'high'\")\n"
    "op.execute(\"COMMENT ON TABLE users IS 'DROP TABLE users; ALTER TABLE tasks DROP COLUMN title'\")",
    "op.execute(\"COMMENT ON TABLE tags IS 'DROP TABLE tags'\")\n"
    "op.execute('DROP TABLE IF EXISTS no_such_table')\n"
    "op.drop_column('tasks', 'note')",
)


def test_a_dropped_column_counts_its_values_read_by_the_grammar(pg, seeded_db, tmp_path):
    """The drops are read from the revision's SQL by PostgreSQL's grammar: DROP TABLE inside a
    string is not a drop, a table that does not exist loses nothing, a column counts non-nulls."""
    url = seeded_db("small")
    migrations = copy_migrations(tmp_path, {"0009_note.py": COLUMN_REVISION})
    assert invoke(url, "migrate", "up", "--migrations", str(migrations)).exit_code == 0
    notes = pg.execute("SELECT count(note) FROM tasks", database=url.database)[0][0]
    assert notes > 0
    result = invoke(url, "migrate", "down", "--migrations", str(migrations), "--json")
    assert result.exit_code == 4, result.output
    losses = json.loads(result.stdout)["error"]["details"]["losses"]
    assert losses == [{"table": "tasks", "column": "note", "rows": notes}]
    assert "note" in [r[0] for r in pg.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'tasks'::regclass AND attnum > 0", database=url.database)]


def _run_on_a_terminal(args: list[str], answer: str, timeout: float = 120) -> tuple[int, str]:
    """Run todoctl with a pseudo-terminal as its stdin and stdout, answer its question, return
    (exit code, everything it printed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real program
        os.chdir(REPO)
        os.execve(sys.executable, todoctl_command(*args), todoctl_env())
    output = b""
    answered = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(fd, answer.encode() + b"\n")
                answered = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


@pytest.mark.parametrize("answer, code", [("n", 4), ("y", 0)], ids=["answers-no", "answers-yes"])
def test_on_a_terminal_it_asks_with_the_count(pg, seeded_db, answer, code):
    url = seeded_db("small")
    tags = rows(pg, url, "tags")
    exit_code, output = _run_on_a_terminal(["-d", url.url, "migrate", "down", "0003"], answer)
    assert f"table tags ({tags:,} row" in output and "[y/N]" in output
    assert exit_code == code, output
    assert revision(pg, url) == ([(HEAD,)] if code else [("0003",)])

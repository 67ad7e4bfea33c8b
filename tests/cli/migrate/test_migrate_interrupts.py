"""Ctrl-C and SIGTERM at every revision of the history, sent to a real `todoctl migrate` process.

Another session holds a lock that the revision needs, so the process is known to be inside
that revision (at that very statement, seen in pg_stat_activity) when the signal arrives.
Each case then checks: exit 130; the message names the revision and where the database
stands; no todoctl session or transaction is left on the server and the lock is free; the
schema is the one before the run except what the message says was committed or left
INVALID; and the next `migrate up` repairs that and reaches exactly the schema at head.
"""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest

from tests.helpers import schema_snapshot as snapshot
from tests.helpers import start_todoctl, wait_for
from todoctl.todo.models import SEARCH_EXPRESSION
from todoctl.core import migrate
from todoctl.core.migrate.lock import LOCK_KEY
import todoctl.core.catalog.snapshot as catalog

HEAD = migrate.history()[-1].revision
ROW_EXCLUSIVE = "LOCK TABLE tasks IN ROW EXCLUSIVE MODE"  # a writer: CREATE INDEX CONCURRENTLY waits for it
ACCESS_SHARE = "LOCK TABLE tasks IN ACCESS SHARE MODE"  # a reader: ALTER TABLE and DROP INDEX CONCURRENTLY wait
SHARE = "LOCK TABLE tasks IN SHARE MODE"  # blocks VALIDATE CONSTRAINT



def _activity(url, where: str, *params) -> int:
    with psycopg.connect(url.libpq, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND {where}",
            params,
        ).fetchone()[0]


def blocked_in(url, pattern: str) -> bool:
    """todoctl's migration session waits for a lock while running a statement like ``pattern``."""
    return bool(
        _activity(url, "application_name = 'todoctl' AND wait_event_type = 'Lock' AND query ILIKE %s", f"%{pattern}%")
    )


def waiting_for_migration_lock(url) -> bool:
    return bool(_activity(url, "application_name = 'todoctl migrate (lock)'"))


def todoctl_sessions(url) -> int:
    return _activity(url, "application_name LIKE 'todoctl%%'")


def lock_free(url) -> bool:
    with psycopg.connect(url.libpq, autocommit=True) as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
        if got:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        return got


@contextmanager
def holding(url, statement: str):
    """Another session, in an open transaction, holding what ``statement`` takes."""
    with psycopg.connect(url.libpq) as conn:
        conn.execute(statement)
        try:
            yield conn
        finally:
            conn.rollback()



@pytest.fixture(scope="module")
def at_revision(pg):
    """``at_revision(rev) -> DatabaseURL``: a fresh database at ``rev`` (templates made once per module)."""
    templates: dict[str, str] = {}
    copies: list[str] = []

    def make(rev: str):
        if rev not in templates:
            name = pg.create_database()
            if rev != "base":
                migrate.upgrade(pg.url_for(name), rev)
            templates[rev] = name
        copy = pg.create_database(template=templates[rev])
        copies.append(copy)
        return pg.url_for(copy)

    yield make
    for name in copies + list(templates.values()):
        pg.drop_database(name)


@pytest.fixture(scope="module")
def head_schema(at_revision):
    return snapshot(at_revision(HEAD))


def interrupt(url, args: list[str], blocker: str, ready, sig) -> tuple[int, dict]:
    """Run ``todoctl migrate ARGS --json`` while ``blocker`` is held; signal it once ``ready(url)``."""
    with holding(url, blocker):
        process = start_todoctl("-d", url.url, "migrate", *args, "--lock-timeout", "60s", "--json")
        try:
            assert wait_for(lambda: ready(url)), "todoctl never reached the blocked statement"
            process.send_signal(sig)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
    assert stderr.strip() == "", stderr  # --json: the error is the one JSON document on stdout
    return process.returncode, json.loads(stdout)


@dataclass(frozen=True)
class Case:
    id: str
    start: str
    args: tuple[str, ...]
    blocker: str
    statement: str | None  # None: blocked on the migration lock
    interrupted: str | None
    applied: tuple[str, ...]
    stands: str
    # What differs from the schema before the run, as catalog.differences words it (substrings).
    left: tuple[str, ...] = ()
    committed: tuple[str, ...] = ()


CASES = [
    Case("lock-wait", "0006", ("up",), f"SELECT pg_advisory_lock({LOCK_KEY})", None, None, (), "0006"),
    Case("0001-create-table", "base", ("up",), "CREATE TABLE tasks (x int)", "CREATE TABLE tasks", "0001", (), "base"),
    Case("0002-alter-tasks", "0001", ("up",), ACCESS_SHARE, "ALTER TABLE tasks", "0002", (), "0001"),
    Case("0003-validate", "0002", ("up",), SHARE, "VALIDATE CONSTRAINT", "0003", (), "0002"),
    Case(
        "0003-index-build", "0002", ("up",), ROW_EXCLUSIVE, "INDEX CONCURRENTLY", "0003", (), "0002",
        left=("constraint fk_tasks_list_id_task_lists differs", "index ix_tasks_list_id is extra"),
        committed=("the revision's statements before its first concurrent step",),
    ),
    Case("0004-foreign-key", "0003", ("up",), ROW_EXCLUSIVE, "CREATE TABLE task_tags", "0004", (), "0003"),
    # Starts at 0003: 0004 commits first, so "applied" and "the database is at" span two revisions.
    Case("0005-after-0004", "0003", ("up",), ACCESS_SHARE, "ALTER TABLE tasks", "0005", ("0004",), "0004",
         left=("table tags is extra", "table task_tags is extra")),
    Case("0006-first-build", "0005", ("up",), ROW_EXCLUSIVE, "ix_tasks_search", "0006", (), "0005",
         left=("index ix_tasks_search is extra",)),
    Case(
        "0006-second-build", "0005", ("up",), "CREATE INDEX ix_tasks_pending_due ON users (name)",
        "ix_tasks_pending_due", "0006", (), "0005",
        left=("index ix_tasks_search is extra",), committed=("CREATE INDEX CONCURRENTLY ix_tasks_search",),
    ),
    Case("0007-name-taken", "0006", ("up",), "CREATE INDEX ix_tasks_list_due ON users (name)",
         "ix_tasks_list_due", "0007", (), "0006"),
    Case("0007-build", "0006", ("up",), ROW_EXCLUSIVE, "ix_tasks_list_due", "0007", (), "0006",
         left=("index ix_tasks_list_due is extra",)),
    Case("down-0007-build", "0007", ("down",), ROW_EXCLUSIVE, "ix_tasks_list_id", "0007", (), "0007",
         left=("index ix_tasks_list_id is extra",)),
    Case("down-0006-drop", "0006", ("down",), ACCESS_SHARE, "DROP INDEX CONCURRENTLY", "0006", (), "0006",
         left=("index ix_tasks_pending_due differs",)),
    Case("down-0005-drop-column", "0005", ("down",), ACCESS_SHARE, "DROP COLUMN", "0005", (), "0005"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_interrupt_exits_130_says_where_it_stands_and_migrate_up_finishes(at_revision, head_schema, case):
    url = at_revision(case.start)
    before = snapshot(url)
    sig = signal.SIGTERM if CASES.index(case) % 2 else signal.SIGINT
    ready = waiting_for_migration_lock if case.statement is None else (lambda u: blocked_in(u, case.statement))
    code, document = interrupt(url, list(case.args), case.blocker, ready, sig)

    assert code == 130, document
    error = document["error"]
    details = error["details"]
    assert error["message"].startswith("interrupted ")
    assert f"the database is at {case.stands}" in error["message"]
    assert details["interrupted"] == case.interrupted
    assert details["phase"] == ("lock" if case.statement is None else "revisions")
    if case.interrupted:
        assert f" {case.interrupted}" in error["message"]
    assert details["applied"] == list(case.applied)
    assert details["current"] == ([] if case.stands == "base" else [case.stands])
    assert details["committed_steps"] == list(case.committed)

    # Nothing left running on the server, the lock released.
    assert wait_for(lambda: todoctl_sessions(url) == 0, timeout=15)
    assert lock_free(url)

    # The schema is the one before, but for what the message says was committed or left.
    differences = catalog.differences(before, snapshot(url))
    assert len(differences) == len(case.left), differences
    for expected in case.left:
        assert any(expected in d for d in differences), differences
    invalid = [i["index"] for i in details["invalid_indexes"]]
    assert invalid == invalid_indexes(url)
    for name in invalid:
        assert f"{name} on tasks" in error["message"]
        assert "migrate up" in error["hint"]

    # The next `migrate up` repairs what was left and reaches head, with exactly head's schema.
    run = migrate.upgrade(url)
    assert run.after == [HEAD]
    assert invalid_indexes(url) == []
    assert not catalog.differences(head_schema, snapshot(url))


def invalid_indexes(url) -> list[str]:
    with psycopg.connect(url.libpq, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE NOT x.indisvalid ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def test_interrupted_repair_exits_130_and_the_next_up_repairs(pg, at_revision, head_schema):
    url = at_revision(HEAD)
    # What a failed build of head's own index leaves: a writer in the way, and statement_timeout.
    pg.execute("DROP INDEX ix_tasks_search", database=url.database)
    with holding(url, ROW_EXCLUSIVE), psycopg.connect(url.libpq, autocommit=True) as builder:
        builder.execute("SET statement_timeout = '200ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            # Head's search index is over an expression (revision 0008).
            builder.execute(f"CREATE INDEX CONCURRENTLY ix_tasks_search ON tasks USING gin (({SEARCH_EXPRESSION}))")
    assert invalid_indexes(url) == ["ix_tasks_search"]
    with holding(url, ROW_EXCLUSIVE):
        process = start_todoctl("-d", url.url, "migrate", "up", "--lock-timeout", "60s")
        try:
            assert wait_for(lambda: bool(_activity(
                url, "application_name = 'todoctl migrate (index repair)' AND wait_event_type = 'Lock'"
            ))), "the repair never started its build"
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("target: ")]
    # REINDEX CONCURRENTLY keeps the old index until its swap: the index is still there, still INVALID,
    # beside the invalid copy the cancelled REINDEX had started.
    assert lines[0].startswith(
        f"Error: interrupted while repairing INVALID indexes; applied: none; the database is at {HEAD}; "
        "INVALID index left: ix_tasks_search on tasks"
    )
    assert lines[1].startswith("Hint: run `todoctl migrate up` to finish")
    assert wait_for(lambda: todoctl_sessions(url) == 0, timeout=15)
    assert lock_free(url)
    run = migrate.upgrade(url)
    assert ("ix_tasks_search", "rebuild") in [(r.index, r.action) for r in run.repairs]
    assert not catalog.differences(head_schema, snapshot(url))

"""The registry of the app's named queries, built from the models so they cannot drift from the schema.

Each entry is a function that builds a SQLAlchemy statement from typed parameters, registered with
``@query(name, description, params=..., budget=...)``. A parameter's default is picked from the data
(for example the user who owns the most tasks), so ``todoctl explain task-list`` shows the plan the
dashboard gets for its heaviest user. ``todoctl explain check`` holds every query to its budget.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import and_, exists, func, literal_column, select, text, tuple_, update
from sqlalchemy.sql import Executable

from todoctl.errors import TodoctlError, usage_error
from todoctl.todo.models import Tag, Task, TaskList, TaskStatus, TaskTag, User, search_document

if TYPE_CHECKING:
    from sqlalchemy import Connection

PAGE_SIZE = 50


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Param:
    """A typed parameter; ``pick`` chooses a default from the data (given the values chosen so far)."""

    name: str
    type: type
    description: str
    pick: Callable[["Picker", dict], Any] | None = None
    optional: bool = False  # None is a valid value (e.g. the first page of a keyset pagination)
    bounds: tuple[int, int] = (0, 2**31 - 1)  # an integer parameter's range (PostgreSQL's integer)

    @property
    def type_name(self) -> str:
        return {uuid.UUID: "uuid", str: "text", int: "integer", datetime: "timestamp", TaskStatus: "status"}.get(self.type, self.type.__name__)

    def parse(self, raw: str) -> Any:
        """Turn a ``--param name=value`` string into this parameter's type; a wrong type is a usage error."""
        if self.optional and raw.lower() in ("", "none", "null"):
            return None
        try:
            if self.type is uuid.UUID:
                return uuid.UUID(raw)
            if self.type is int:
                low, high = self.bounds
                if not low <= (value := int(raw)) <= high:
                    raise usage_error(
                        f"parameter {self.name}={raw!r} is outside {low:,}..{high:,}", f"{self.name}: {self.description}"
                    )
                return value
            if self.type is datetime:
                value = datetime.fromisoformat(raw)
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            if self.type is TaskStatus:
                return TaskStatus(raw).value
            if "\x00" in raw:  # PostgreSQL text cannot hold NUL: the driver would fail mid-EXPLAIN
                raise ValueError(raw)
            return self.type(raw)
        except ValueError:
            expected = (
                ", ".join(s.value for s in TaskStatus) if self.type is TaskStatus else f"a {self.type_name}"
            )
            raise usage_error(
                f"parameter {self.name}={raw!r} is not valid: expected {expected}",
                f"{self.name}: {self.description}",
            ) from None


@dataclass(frozen=True)
class Budget:
    """What ``explain check`` holds a query to, in terms of what a caller pays (the same on every size).

    A plan's shape is free: a top-N Sort of a few dozen rows or a sequential scan of a small table
    is what the planner should pick. What is judged is the work: rows read, rows sorted, buffers.
    """

    max_ms: float = 50.0  # execution time, median of the runs
    # Rows read (scanned, including those a filter threw away) per row returned; reading up to
    # FREE_ROWS_READ rows is always fine. None: an aggregate, judged by buffers alone.
    max_read_per_row: float | None = 10.0
    max_rows_sorted: int = 500  # rows fed into one Sort node: a top-N of a few hundred is fine
    max_buffers: int = 1_000  # shared buffers touched (hit + read), whole plan
    # A Seq Scan keeping at most 10% of a table of at least large_rows rows always fails.
    large_rows: int = 10_000
    # A row estimate off by at least this factor fails only where the statistics are stale
    # (ANALYZE fixes it); on fresh statistics a misestimate is reported in the tree, not failed.
    max_misestimate: float = 10.0
    allow_spill: bool = False  # a Sort or Hash that spilled to disk fails

    def terms(self) -> list[str]:
        """The budget as short phrases, for ``explain list`` and ``check``."""
        read = f"read ≤ {self.max_read_per_row:g}/row" if self.max_read_per_row is not None else "read: any (aggregate)"
        return [
            f"≤ {self.max_ms:g} ms",
            read,
            f"sort ≤ {self.max_rows_sorted:,} rows",
            f"≤ {self.max_buffers:,} buffers",
            f"no selective Seq Scan on ≥ {self.large_rows:,} rows",
            f"misestimate < {self.max_misestimate:g}x on stale stats",
            "spill ok" if self.allow_spill else "no spill",
        ]


FREE_ROWS_READ = 1_000  # reading this many rows costs well under a millisecond: never a violation


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    build: Callable[..., Executable]
    params: tuple[Param, ...] = ()
    budget: Budget = field(default_factory=Budget)
    modifies: bool = False  # an UPDATE/DELETE: only ever explained inside a rolled-back transaction
    # Indexes (named in todoctl/models.py) the query's plan relies on: `explain check` fails when one
    # is missing or invalid, with the statement that re-creates it.
    indexes: tuple[str, ...] = ()
    # Reads every user's rows on purpose (a nightly job): `review` does not ask it for a user_id filter.
    cross_user: bool = False

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise usage_error(f"query {self.name!r} has no parameter {name!r}", f"its parameters: {known}")


QUERIES: dict[str, NamedQuery] = {}


def query(
    name: str,
    description: str,
    *,
    params: tuple[Param, ...] = (),
    budget: Budget | None = None,
    modifies: bool = False,
    indexes: tuple[str, ...] = (),
    cross_user: bool = False,
):
    """Register a statement builder as a named query."""

    def register(build: Callable[..., Executable]) -> Callable[..., Executable]:
        if name in QUERIES:
            raise ValueError(f"duplicate named query {name!r}")
        QUERIES[name] = NamedQuery(
            name, description, build, params, budget or Budget(), modifies, indexes, cross_user=cross_user
        )
        return build

    return register


def get(name: str) -> NamedQuery:
    """The named query, or a usage error (exit 2) that suggests close matches."""
    try:
        return QUERIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, QUERIES, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run `todoctl explain list` for the names"
        raise usage_error(f"unknown query {name!r}", hint) from None


def parse_assignments(named: NamedQuery, assignments: list[str]) -> dict[str, Any]:
    """``["user_id=...", "status=completed"]`` as typed values; names and types are checked."""
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise usage_error(f"--param {item!r} is not name=value", "for example --param status=completed")
        param = named.param(name.strip())
        values[param.name] = param.parse(raw.strip())
    return values


def resolve_params(conn: "Connection", named: NamedQuery, given: dict[str, Any], picker: "Picker | None" = None) -> dict:
    """The given values, with every missing one picked from the data."""
    picker = picker or Picker(conn)
    values: dict[str, Any] = {}
    for param in named.params:
        if param.name in given:
            values[param.name] = given[param.name]
        elif param.pick is not None:
            values[param.name] = param.pick(picker, values)
        else:
            values[param.name] = None
    return values


# ---------------------------------------------------------------- defaults picked from the data


# The default search term matches about this share of the user's tasks: "typical" for a to-do
# search, between the few words in many tasks (check, call, buy) and the long tail of words in
# one task each. 2% sits in the 1-5% band that holds most of a heavy user's searchable words.
TYPICAL_SEARCH_SHARE = 0.02
# ts_stat over the user's tasks with the text of tasks.search_vector (its weights aside: they do
# not change which words a task has) counts the tasks per english lexeme; the term returned is a
# word as written in those tasks (the 'simple' configuration keeps words as they are) whose
# lexeme that is, so searching for it finds exactly the tasks counted: "meeting", not "meet".
_TYPICAL_WORD = """
WITH english AS (
    SELECT word, ndoc FROM ts_stat(format(
        'SELECT to_tsvector(''english'', title) || to_tsvector(''english'', coalesce(description, '''')) '
        'FROM tasks WHERE user_id = %L', CAST(:user_id AS uuid)))
), surface AS (
    SELECT word FROM ts_stat(format(
        'SELECT to_tsvector(''simple'', title) || to_tsvector(''simple'', coalesce(description, '''')) '
        'FROM tasks WHERE user_id = %L', CAST(:user_id AS uuid)))
    WHERE word ~ '^[a-z]{3,}$'  -- a word, not a number or an abbreviation such as "id"
)
SELECT s.word
FROM surface AS s JOIN english AS e ON e.word = (ts_lexize('english_stem', s.word))[1]
ORDER BY abs(e.ndoc - :share * (SELECT count(*) FROM tasks WHERE user_id = CAST(:user_id AS uuid))),
         e.ndoc DESC, s.word <> e.word, length(s.word), s.word
LIMIT 1
"""


class Picker:
    """Representative parameter values read from the database, memoised for one connection."""

    def __init__(self, conn: "Connection") -> None:
        self.conn = conn
        self._cache: dict[tuple, Any] = {}

    def _one(self, key: tuple, stmt, what: str, hint: str = "seed it first: `todoctl seed`"):
        if key not in self._cache:
            row = self.conn.execute(stmt).first()
            if row is None:
                raise TodoctlError(f"cannot pick a default {what}: the database has none", hint=hint)
            self._cache[key] = row[0]
        return self._cache[key]

    def heaviest_user(self) -> uuid.UUID:
        """The user who owns the most tasks: the dashboard's worst case."""
        stmt = select(Task.user_id).group_by(Task.user_id).order_by(func.count().desc(), Task.user_id).limit(1)
        return self._one(("heaviest_user",), stmt, "user (no tasks)")

    def email(self, user_id) -> str:
        return self._one(("email", user_id), select(User.email).where(User.id == user_id), "email (no such user)")

    def busiest_tag(self, user_id) -> str:
        stmt = (
            select(Tag.name)
            .join(TaskTag, TaskTag.tag_id == Tag.id)
            .where(Tag.user_id == user_id)
            .group_by(Tag.id, Tag.name)
            .order_by(func.count().desc(), Tag.name)
            .limit(1)
        )
        return self._one(("tag", user_id), stmt, "tag (the user has no tagged tasks)")

    def biggest_list(self, user_id) -> uuid.UUID:
        stmt = (
            select(Task.list_id)
            .where(Task.user_id == user_id, Task.list_id.is_not(None))
            .group_by(Task.list_id)
            .order_by(func.count().desc(), Task.list_id)
            .limit(1)
        )
        return self._one(("list", user_id), stmt, "list (the user has no tasks in lists)")

    def search_word(self, user_id) -> str:
        """A search term of typical selectivity for the user: the word whose share of the user's
        tasks is closest to ``TYPICAL_SEARCH_SHARE`` (ties: the commoner, a word as its own
        stem, the shorter, then the first in order): neither a word in most of the user's tasks
        nor one in a single task."""
        key = ("search word", user_id)
        if key not in self._cache:
            stmt = text(_TYPICAL_WORD).bindparams(user_id=user_id, share=TYPICAL_SEARCH_SHARE)
            row = self.conn.execute(stmt).first()
            self._cache[key] = row[0] if row else self._longest_title_word(user_id)
        return self._cache[key]

    def _longest_title_word(self, user_id) -> str:
        """The longest word of the user's most recent task title: a term that certainly matches
        (for a user none of whose words the query above can use)."""
        stmt = select(Task.title).where(Task.user_id == user_id).order_by(Task.created_at.desc(), Task.id).limit(1)
        title = self._one(("title", user_id), stmt, "search term (the user has no tasks)")
        words = sorted(("".join(c for c in w if c.isalnum()) for w in title.split()), key=len, reverse=True)
        return words[0] if words and words[0] else title

    def some_task(self, user_id) -> uuid.UUID:
        stmt = select(Task.id).where(Task.user_id == user_id).order_by(Task.id).limit(1)
        return self._one(("task", user_id), stmt, "task (the user has none)")


def _user(description: str = "the user (default: the one with the most tasks)") -> Param:
    return Param("user_id", uuid.UUID, description, lambda p, v: p.heaviest_user())


def _now(picker: Picker, values: dict) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------- the app's queries


@query(
    "task-list",
    "The dashboard: one user's tasks of a status, by due date, keyset-paginated 50 a page.",
    params=(
        _user(),
        Param("status", TaskStatus, "pending, completed or overdue", lambda p, v: TaskStatus.pending.value),
        Param("after_due", datetime, "keyset: due date of the last row of the previous page", optional=True),
        Param("after_id", uuid.UUID, "keyset: id of the last row of the previous page", optional=True),
    ),
    budget=Budget(max_ms=20, max_buffers=500),
    indexes=("ix_tasks_user_status_due",),
)
def task_list(user_id, status, after_due=None, after_id=None):
    if (after_due is None) != (after_id is None):
        raise usage_error(
            "the keyset needs both after_due and after_id",
            "pass the due_date and id of the previous page's last row",
        )
    stmt = select(Task).where(Task.user_id == user_id, Task.status == status)
    if after_due is not None and after_id is not None:
        # A row comparison on the index's trailing columns: the next page starts inside the index.
        stmt = stmt.where(tuple_(Task.due_date, Task.id) > tuple_(after_due, after_id))
    return stmt.order_by(Task.due_date, Task.id).limit(PAGE_SIZE)


@query(
    "task-search",
    "Full-text search over one user's task titles and descriptions, best matches first.",
    params=(
        _user(),
        Param("q", str, "search words (websearch syntax)", lambda p, v: p.search_word(v["user_id"])),
    ),
    # Every match is read and ranked before the best 50 are kept; the planner may also read all of
    # the user's tasks and test the words on each (3,000 for 50 returned on the test workload, 1 ms).
    budget=Budget(max_ms=50, max_read_per_row=100),
    indexes=("ix_tasks_search", "ix_tasks_user_status_due"),
)
def task_search(user_id, q):
    tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"), q)
    document = search_document(Task.title, Task.description)  # the expression ix_tasks_search indexes
    rank = func.ts_rank(document, tsquery)
    return (
        select(Task, rank.label("rank"))
        .where(Task.user_id == user_id, document.op("@@")(tsquery))
        .order_by(rank.desc(), Task.id)
        .limit(PAGE_SIZE)
    )


@query(
    "overdue-tasks",
    "The nightly job: pending tasks past due across all users, oldest first, 1000 a batch.",
    params=(
        Param("as_of", datetime, "the moment that counts as now (default: now)", _now),
        Param("batch", int, "rows per batch", lambda p, v: 1000, bounds=(1, 10_000)),
    ),
    # A batch of 1,000: sorting two batches' worth on a small database is cheaper than the index.
    budget=Budget(max_ms=50, max_rows_sorted=2_000, max_buffers=5_000),
    indexes=("ix_tasks_pending_due",),
    cross_user=True,
)
def overdue_tasks(as_of, batch):
    return (
        select(Task.id, Task.user_id, Task.title, Task.due_date)
        # Spelled exactly as the partial index's predicate, so the planner can use it.
        .where(text("tasks.status = 'pending'"), Task.due_date < as_of)
        .order_by(Task.due_date)
        .limit(batch)
    )


@query(
    "user-dashboard",
    "One user's task counts per status and priority (the dashboard's summary cards).",
    params=(_user(),),
    # Counts every task of the user: judged by buffers, not by rows read per row returned.
    budget=Budget(max_ms=50, max_read_per_row=None, max_buffers=2_000),
    indexes=("ix_tasks_user_status_due",),
)
def user_dashboard(user_id):
    return (
        select(Task.status, Task.priority, func.count().label("tasks"))
        .where(Task.user_id == user_id)
        .group_by(Task.status, Task.priority)
        .order_by(Task.status, Task.priority)
    )


@query(
    "tag-tasks",
    "One user's tasks carrying a tag (named case-insensitively), by due date.",
    params=(
        _user(),
        Param("tag", str, "the tag's name (default: the user's most used tag)", lambda p, v: p.busiest_tag(v["user_id"])),
    ),
    # No index can order a join by due date: every task carrying the tag is read and sorted
    # (1,030 for the heaviest user on `load`).
    budget=Budget(max_ms=50, max_read_per_row=100, max_rows_sorted=5_000, max_buffers=20_000),
    indexes=("uq_tags_user_name_lower", "ix_task_tags_tag_id"),
)
def tag_tasks(user_id, tag):
    return (
        select(Task)
        .join(TaskTag, TaskTag.task_id == Task.id)
        .join(Tag, Tag.id == TaskTag.tag_id)
        .where(Tag.user_id == user_id, func.lower(Tag.name) == func.lower(tag))
        .order_by(Task.due_date, Task.id)
        .limit(PAGE_SIZE)
    )


@query(
    "list-tasks",
    "The tasks of one of a user's lists, by due date.",
    params=(
        _user(),
        Param(
            "list_id",
            uuid.UUID,
            "the list (default: the user's biggest list)",
            lambda p, v: p.biggest_list(v["user_id"]),
        ),
    ),
    budget=Budget(max_ms=50),
    indexes=("ix_tasks_list_due",),
)
def list_tasks(user_id, list_id):
    # Only if the list is the user's: a list id alone would show anyone's list (review: query-user-scope).
    # An uncorrelated EXISTS runs once (an InitPlan on the list's primary key), so the tasks still
    # come from ix_tasks_list_due in order, exactly as before.
    owned = exists().where(TaskList.id == list_id, TaskList.user_id == user_id)
    return (
        select(Task)
        .where(Task.list_id == list_id, owned)
        .order_by(Task.due_date, Task.id)
        .limit(PAGE_SIZE * 4)
    )


@query(
    "user-by-email",
    "Login: the user with an email address, whatever its case.",
    params=(
        Param("email", str, "the address (default: the heaviest user's)", lambda p, v: p.email(p.heaviest_user())),
    ),
    budget=Budget(max_ms=10, max_buffers=100),
    indexes=("uq_users_email_lower",),
)
def user_by_email(email):
    return select(User).where(func.lower(User.email) == func.lower(email))


@query(
    "complete-task",
    "Mark one of a user's tasks completed (an UPDATE: explained only in a rolled-back transaction).",
    params=(
        _user(),
        Param("task_id", uuid.UUID, "the task (default: one of the user's)", lambda p, v: p.some_task(v["user_id"])),
    ),
    budget=Budget(max_ms=20, max_buffers=200),
    modifies=True,
)
def complete_task(user_id, task_id):
    return (
        update(Task)
        .where(and_(Task.id == task_id, Task.user_id == user_id))
        .values(status=TaskStatus.completed.value, completed_at=func.now(), updated_at=func.now())
    )

"""The Todo app's named queries, built from its models so they cannot drift from the schema.

They use todoctl's public named-query API (``docs/queries.md``), as any app's queries do: each is
a function building a SQLAlchemy statement from typed parameters, registered with ``@query``. A
parameter's default is picked from the data (for example the user who owns the most tasks), so
``todoctl explain task-list`` shows the plan the dashboard gets for its heaviest user.
``todoctl explain check`` holds every query to its budget.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from sqlalchemy import and_, exists, func, literal_column, select, text, tuple_, update

from todoctl.errors import usage_error
from todoctl.named_queries import Budget, Param, Picker, heaviest, now, query
from todoctl.todo.models import Tag, Task, TaskList, TaskStatus, TaskTag, User, search_document

PAGE_SIZE = 50


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

# The user who owns the most tasks: the dashboard's worst case.
HEAVIEST_USER = heaviest(Task.user_id)


def heaviest_users_email(picker: Picker, values: dict) -> str:
    """The heaviest user's address (login looks a user up by it)."""
    user_id = HEAVIEST_USER(picker, values)
    return picker.one(select(User.email).where(User.id == user_id), what="email (no such user)")


def busiest_tag(picker: Picker, values: dict) -> str:
    """The user's most used tag."""
    stmt = (
        select(Tag.name)
        .join(TaskTag, TaskTag.tag_id == Tag.id)
        .where(Tag.user_id == values["user_id"])
        .group_by(Tag.id, Tag.name)
        .order_by(func.count().desc(), Tag.name)
        .limit(1)
    )
    return picker.one(stmt, what="tag (the user has no tagged tasks)")


def search_word(picker: Picker, values: dict) -> str:
    """A search word of typical selectivity in the user's tasks.

    The word whose share of the user's tasks is closest to ``TYPICAL_SEARCH_SHARE`` (ties: the commoner, a word as its own stem,
    the shorter, then the first in order): neither a word in most of the user's tasks nor one in
    a single task. For a user none of whose words qualify, the longest word of their most recent
    task title (a term that certainly matches)."""
    user_id = values["user_id"]
    row = picker.conn.execute(text(_TYPICAL_WORD).bindparams(user_id=user_id, share=TYPICAL_SEARCH_SHARE)).first()
    if row:
        return row[0]
    stmt = select(Task.title).where(Task.user_id == user_id).order_by(Task.created_at.desc(), Task.id).limit(1)
    title = picker.one(stmt, what="search term (the user has no tasks)")
    words = sorted(("".join(c for c in w if c.isalnum()) for w in title.split()), key=len, reverse=True)
    return words[0] if words and words[0] else title


def some_task(picker: Picker, values: dict) -> uuid.UUID:
    """One of the user's tasks (the first by id)."""
    stmt = select(Task.id).where(Task.user_id == values["user_id"]).order_by(Task.id).limit(1)
    return picker.one(stmt, what="task (the user has none)")


UserId = Annotated[uuid.UUID, Param("the user (default: the one with the most tasks)", pick=HEAVIEST_USER)]


# ---------------------------------------------------------------- the app's queries


@query(
    "task-list",
    "The dashboard: one user's tasks of a status, by due date, keyset-paginated 50 a page.",
    budget=Budget(max_ms=20, max_buffers=500),
    indexes=("ix_tasks_user_status_due",),
)
def task_list(
    user_id: UserId,
    status: Annotated[TaskStatus, Param("pending, completed or overdue")] = TaskStatus.pending,
    after_due: Annotated[datetime | None, Param("keyset: due date of the last row of the previous page")] = None,
    after_id: Annotated[uuid.UUID | None, Param("keyset: id of the last row of the previous page")] = None,
):
    if (after_due is None) != (after_id is None):
        raise usage_error(
            "the keyset needs both after_due and after_id",
            "pass the due_date and id of the previous page's last row",
        )
    stmt = select(Task).where(Task.user_id == user_id, Task.status == TaskStatus(status).value)
    if after_due is not None and after_id is not None:
        # A row comparison on the index's trailing columns: the next page starts inside the index.
        stmt = stmt.where(tuple_(Task.due_date, Task.id) > tuple_(after_due, after_id))
    return stmt.order_by(Task.due_date, Task.id).limit(PAGE_SIZE)


@query(
    "task-search",
    "Full-text search over one user's task titles and descriptions, best matches first.",
    # Every match is read and ranked before the best 50 are kept; the planner may also read all of
    # the user's tasks and test the words on each (3,000 for 50 returned on the test workload, 1 ms).
    budget=Budget(max_ms=50, max_read_per_row=100),
    indexes=("ix_tasks_search", "ix_tasks_user_status_due"),
)
def task_search(user_id: UserId, q: Annotated[str, Param("search words (websearch syntax)", pick=search_word)]):
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
    # A batch of 1,000: sorting two batches' worth on a small database is cheaper than the index.
    budget=Budget(max_ms=50, max_rows_sorted=2_000, max_buffers=5_000),
    indexes=("ix_tasks_pending_due",),
    cross_user=True,
)
def overdue_tasks(
    as_of: Annotated[datetime, Param("the moment that counts as now (default: now)", pick=now())],
    batch: Annotated[int, Param("rows per batch", bounds=(1, 10_000))] = 1000,
):
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
    # Counts every task of the user: judged by buffers, not by rows read per row returned.
    budget=Budget(max_ms=50, max_read_per_row=None, max_buffers=2_000),
    indexes=("ix_tasks_user_status_due",),
)
def user_dashboard(user_id: UserId):
    return (
        select(Task.status, Task.priority, func.count().label("tasks"))
        .where(Task.user_id == user_id)
        .group_by(Task.status, Task.priority)
        .order_by(Task.status, Task.priority)
    )


@query(
    "tag-tasks",
    "One user's tasks carrying a tag (named case-insensitively), by due date.",
    # No index can order a join by due date: every task carrying the tag is read and sorted
    # (1,030 for the heaviest user on `load`).
    budget=Budget(max_ms=50, max_read_per_row=100, max_rows_sorted=5_000, max_buffers=20_000),
    indexes=("uq_tags_user_name_lower", "ix_task_tags_tag_id"),
)
def tag_tasks(
    user_id: UserId,
    tag: Annotated[str, Param("the tag's name (default: the user's most used tag)", pick=busiest_tag)],
):
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
    budget=Budget(max_ms=50),
    indexes=("ix_tasks_list_due",),
)
def list_tasks(
    user_id: UserId,
    list_id: Annotated[
        uuid.UUID,
        Param("the list (default: the user's biggest list)", pick=heaviest(Task.list_id, where={"user_id": "user_id"})),
    ],
):
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
    budget=Budget(max_ms=10, max_buffers=100),
    indexes=("uq_users_email_lower",),
)
def user_by_email(email: Annotated[str, Param("the address (default: the heaviest user's)", pick=heaviest_users_email)]):
    return select(User).where(func.lower(User.email) == func.lower(email))


@query(
    "complete-task",
    "Mark one of a user's tasks completed (an UPDATE: explained only in a rolled-back transaction).",
    budget=Budget(max_ms=20, max_buffers=200),
    modifies=True,
)
def complete_task(user_id: UserId, task_id: Annotated[uuid.UUID, Param("the task (default: one of the user's)", pick=some_task)]):
    return (
        update(Task)
        .where(and_(Task.id == task_id, Task.user_id == user_id))
        .values(status=TaskStatus.completed.value, completed_at=func.now(), updated_at=func.now())
    )

"""Review rules over the app's SQL: sql-injection, query-user-scope, query-index, index-column-order, n-plus-one."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, func, select, text

from tests.core.review.rule_helpers import context, findings, named, user_param
from todoctl.core.review import app_context, run
from todoctl.named_queries import Param

REPO = Path(__file__).resolve().parents[3]
MINE = ["sql-injection", "query-user-scope", "query-index", "index-column-order", "n-plus-one"]


def test_the_app_passes_these_rules_strictly():
    report = run(app_context(REPO, environ={}), only=MINE, strict=True)

    assert [f.finding for f in report.findings] == []
    assert not report.failed


# ---------------------------------------------------------------- sql-injection


def _app_file(root: Path, name: str, source: str) -> None:
    path = root / "todoctl" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")


def test_text_built_with_an_f_string_is_injection(tmp_path):
    _app_file(
        tmp_path,
        "queries.py",
        """\
        from sqlalchemy import text

        def by_title(title):
            return text(f"SELECT id FROM tasks WHERE title = '{title}'")
        """,
    )

    [finding] = findings(context(tmp_path), "sql-injection")

    assert finding.location == "todoctl/queries.py:4"
    assert "text(f\"SELECT id FROM tasks" in finding.message
    assert "bound parameters" in finding.hint


def test_bandit_finds_sql_concatenated_outside_text(tmp_path):
    # No text() call at all: only bandit's B608 sees this one.
    _app_file(
        tmp_path,
        "app.py",
        """\
        def login_sql(email):
            return "SELECT id FROM users WHERE email = '" + email + "'"
        """,
    )

    [finding] = findings(context(tmp_path), "sql-injection")

    assert finding.location == "todoctl/app.py:2"
    assert "bandit B608" in finding.message


def test_a_predicate_built_by_format_is_injection(tmp_path):
    _app_file(
        tmp_path,
        "queries.py",
        """\
        from sqlalchemy import select, text

        def pending(status):
            return select(1).where(text("status = '{}'".format(status)))
        """,
    )

    [finding] = findings(context(tmp_path), "sql-injection")

    assert finding.location == "todoctl/queries.py:4"
    assert ".format()" in finding.message


def test_bound_parameters_and_numbers_are_not_injection(tmp_path):
    _app_file(
        tmp_path,
        "queries.py",
        """\
        from sqlalchemy import select, text

        def by_title(conn, title, timeout_ms):
            conn.execute(text("SELECT id FROM tasks WHERE title = :title").bindparams(title=title))
            conn.execute(text("SET LOCAL statement_timeout = " "1000"))
            cursor = conn.connection.cursor()
            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            return select(1).where(text("status = 'pending'"))
        """,
    )

    assert findings(context(tmp_path), "sql-injection") == []


def test_code_outside_the_app_modules_is_not_reviewed(tmp_path):
    _app_file(tmp_path, "core/tool.py", 'def q(t):\n    return f"SELECT * FROM {t}"\n')

    assert findings(context(tmp_path), "sql-injection") == []


# ---------------------------------------------------------------- query-user-scope


def _todo_metadata() -> tuple[MetaData, Table, Table, Table]:
    metadata = MetaData()
    users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("email", String))
    lists = Table(
        "task_lists", metadata, Column("id", Integer, primary_key=True), Column("user_id", ForeignKey("users.id"))
    )
    tasks = Table(
        "tasks",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id")),
        Column("list_id", ForeignKey("task_lists.id")),
        Column("title", String),
        Column("status", String),
        Column("due_date", DateTime(timezone=True)),
    )
    return metadata, users, lists, tasks


LIST = Param("the list", name="list_id", type=int)


def test_a_query_by_list_id_alone_leaks_other_users_rows(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    query = named("list-tasks", lambda list_id: select(tasks).where(tasks.c.list_id == list_id), LIST)

    [finding] = findings(context(tmp_path, metadata, [query]), "query-user-scope")

    assert finding.location == "query list-tasks"
    assert "user-owned tasks" in finding.message
    assert "cross_user=True" in finding.hint


def test_a_user_id_compared_with_a_constant_is_no_scope(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    query = named("first-users-tasks", lambda: select(tasks).where(tasks.c.user_id == text("1")))

    assert len(findings(context(tmp_path, metadata, [query]), "query-user-scope")) == 1


def test_a_query_pinned_to_the_user_is_scoped(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    query = named(
        "list-tasks",
        lambda user_id, list_id: select(tasks).where(tasks.c.user_id == user_id, tasks.c.list_id == list_id),
        user_param(),
        LIST,
    )

    assert findings(context(tmp_path, metadata, [query]), "query-user-scope") == []


def test_a_join_scoped_through_the_users_list_is_scoped(tmp_path):
    metadata, _, lists, tasks = _todo_metadata()
    query = named(
        "list-tasks",
        lambda user_id, list_id: select(tasks)
        .join(lists, (lists.c.id == tasks.c.list_id) & (lists.c.user_id == user_id))
        .where(tasks.c.list_id == list_id),
        user_param(),
        LIST,
    )

    assert findings(context(tmp_path, metadata, [query]), "query-user-scope") == []


def test_an_exists_on_the_users_list_by_the_same_parameter_is_scoped(tmp_path):
    from sqlalchemy import exists

    metadata, _, lists, tasks = _todo_metadata()
    query = named(
        "list-tasks",
        lambda user_id, list_id: select(tasks).where(
            tasks.c.list_id == list_id, exists().where(lists.c.id == list_id, lists.c.user_id == user_id)
        ),
        user_param(),
        LIST,
    )

    assert findings(context(tmp_path, metadata, [query]), "query-user-scope") == []


def test_an_exists_that_does_not_tie_the_list_to_the_rows_is_no_scope(tmp_path):
    from sqlalchemy import exists

    metadata, _, lists, tasks = _todo_metadata()
    other = Param("another list", name="other_list", type=int)
    query = named(
        "list-tasks",
        lambda user_id, list_id, other_list: select(tasks).where(
            tasks.c.list_id == list_id, exists().where(lists.c.id == other_list, lists.c.user_id == user_id)
        ),
        user_param(),
        LIST,
        other,
    )

    [finding] = findings(context(tmp_path, metadata, [query]), "query-user-scope")
    assert finding.location == "query list-tasks"


def test_a_declared_cross_user_job_and_a_table_without_owner_pass(tmp_path):
    metadata, users, _, tasks = _todo_metadata()
    overdue = named("overdue", lambda: select(tasks.c.id).where(tasks.c.status == "pending"), cross_user=True)
    login = named("login", lambda email: select(users).where(users.c.email == email), Param("address", name="email", type=str))

    assert findings(context(tmp_path, metadata, [overdue, login]), "query-user-scope") == []


def test_the_app_declares_its_nightly_job_cross_user():
    from todoctl.named_queries import app_queries

    assert [n for n, q in app_queries().items() if q.cross_user] == ["overdue-tasks"]


# ---------------------------------------------------------------- query-index


def _dashboard(tasks: Table):
    return named(
        "task-list",
        lambda user_id, status: select(tasks)
        .where(tasks.c.user_id == user_id, tasks.c.status == status)
        .order_by(tasks.c.due_date, tasks.c.id),
        user_param(),
        Param("status", name="status", type=str),
    )


def test_a_filter_without_an_index_is_found(tmp_path):
    metadata, _, _, tasks = _todo_metadata()

    found = findings(context(tmp_path, metadata, [_dashboard(tasks)]), "query-index")

    messages = [f.message for f in found]
    assert "filters tasks on user_id (=) and no index serves it" in messages
    assert "filters tasks on status (=) and no index serves it" in messages
    assert any(m.startswith("sorts tasks by due_date, id") for m in messages)
    assert all(f.location == "query task-list" for f in found)
    assert "CREATE INDEX CONCURRENTLY ON tasks (status, user_id, due_date, id)" in found[-1].hint


def test_an_index_with_the_equality_columns_first_serves_filter_and_sort(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_user_status_due", tasks.c.user_id, tasks.c.status, tasks.c.due_date, tasks.c.id)

    assert findings(context(tmp_path, metadata, [_dashboard(tasks)]), "query-index") == []


def test_a_column_behind_an_unpinned_one_is_not_served(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_user_due", tasks.c.user_id, tasks.c.due_date)
    query = named("due", lambda d: select(tasks.c.id).where(tasks.c.due_date < d), Param("moment", name="d", type=datetime))

    [finding] = findings(context(tmp_path, metadata, [query]), "query-index")

    assert finding.message == "filters tasks on due_date (<) and no index serves it"


def test_a_partial_index_serves_the_query_that_states_its_predicate(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_pending_due", tasks.c.due_date, postgresql_where=text("status = 'pending'"))
    query = named(
        "overdue",
        lambda as_of: select(tasks.c.id).where(text("tasks.status = 'pending'"), tasks.c.due_date < as_of).order_by(tasks.c.due_date),
        Param("now", name="as_of", type=datetime),
    )
    other = named(
        "overdue-completed",
        lambda as_of: select(tasks.c.id).where(tasks.c.status == "completed", tasks.c.due_date < as_of),
        Param("now", name="as_of", type=datetime),
    )

    found = findings(context(tmp_path, metadata, [query, other]), "query-index")

    assert {f.location for f in found} == {"query overdue-completed"}


def test_an_expression_index_serves_the_same_expression(tmp_path):
    metadata, users, _, _ = _todo_metadata()
    query = named("login", lambda email: select(users).where(func.lower(users.c.email) == func.lower(email)), Param("a", name="email", type=str))

    [finding] = findings(context(tmp_path, metadata, [query]), "query-index")
    assert "lower(email)" in finding.message

    Index("uq_users_email_lower", func.lower(users.c.email), unique=True)
    assert findings(context(tmp_path, metadata, [query]), "query-index") == []


# ---------------------------------------------------------------- index-column-order


def _due_soon(tasks: Table, **kwargs):
    return named(
        "due-soon",
        lambda user_id, d: select(tasks.c.id).where(tasks.c.user_id == user_id, tasks.c.due_date < d),
        user_param(),
        Param("moment", name="d", type=datetime),
        **kwargs,
    )


def test_a_range_column_before_an_equality_column_is_found(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_due_user", tasks.c.due_date, tasks.c.user_id)

    [finding] = findings(context(tmp_path, metadata, [_due_soon(tasks)]), "index-column-order")

    assert finding.location == "query due-soon"
    assert finding.message.startswith("ix_tasks_due_user (due_date, user_id) puts user_id, compared with =, after due_date")
    assert "(user_id, due_date)" in finding.hint


def test_a_declared_index_is_judged_even_when_its_first_column_is_free(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_list_user", tasks.c.list_id, tasks.c.user_id)

    [finding] = findings(context(tmp_path, metadata, [_due_soon(tasks, indexes=("ix_tasks_list_user",))]), "index-column-order")

    assert "puts user_id, compared with =, after list_id" in finding.message


def test_equality_columns_first_then_range_is_fine(tmp_path):
    metadata, _, _, tasks = _todo_metadata()
    Index("ix_tasks_user_due", tasks.c.user_id, tasks.c.due_date)
    Index("ix_tasks_user_status_due", tasks.c.user_id, tasks.c.status, tasks.c.due_date, tasks.c.id)
    by_id = named(
        "complete", lambda user_id, id: select(tasks).where(tasks.c.id == id, tasks.c.user_id == user_id), user_param(), Param("task", name="id", type=int)
    )

    assert findings(context(tmp_path, metadata, [_due_soon(tasks), by_id]), "index-column-order") == []


# ---------------------------------------------------------------- n-plus-one


def _orm(lazy: str):
    from sqlalchemy.orm import DeclarativeBase, relationship

    class Base(DeclarativeBase):
        pass

    class Task(Base):
        __tablename__ = "tasks"
        id = Column(Integer, primary_key=True)
        list_id = Column(ForeignKey("task_lists.id"))

    # The class itself, not the name "Task": the registry keeps names weakly, and Task would be gone.
    class TaskList(Base):
        __tablename__ = "task_lists"
        id = Column(Integer, primary_key=True)
        user_id = Column(Integer, nullable=False)
        tasks = relationship(Task, lazy=lazy)

    return Base.metadata, TaskList


def _lists_query(TaskList, *options, limit=None):
    def build(user_id):
        stmt = select(TaskList).where(TaskList.user_id == user_id).options(*options)
        return stmt.limit(limit) if limit else stmt

    return named("user-lists", build, user_param())


def test_a_lazy_relationship_on_returned_entities_is_n_plus_one(tmp_path):
    metadata, TaskList = _orm("select")

    [finding] = findings(context(tmp_path, metadata, [_lists_query(TaskList)]), "n-plus-one")

    assert finding.location == "query user-lists"
    assert finding.message == "returns TaskList rows whose tasks loads lazily, one query per row"
    assert "selectinload(TaskList.tasks)" in finding.hint


@pytest.mark.parametrize("lazy", ["selectin", "joined", "raise"])
def test_an_explicit_loading_strategy_is_fine(tmp_path, lazy):
    metadata, TaskList = _orm(lazy)

    assert findings(context(tmp_path, metadata, [_lists_query(TaskList)]), "n-plus-one") == []


def test_a_loader_option_in_the_query_or_a_single_row_is_fine(tmp_path):
    from sqlalchemy.orm import raiseload, selectinload

    metadata, TaskList = _orm("select")
    queries = [
        _lists_query(TaskList, selectinload(TaskList.tasks)),
        named("any-raise", lambda user_id: select(TaskList).options(raiseload("*")), user_param()),
        named("one", lambda user_id: select(TaskList).where(TaskList.user_id == user_id).limit(1), user_param()),
        named("ids", lambda user_id: select(TaskList.id).where(TaskList.user_id == user_id), user_param()),
    ]

    assert findings(context(tmp_path, metadata, queries), "n-plus-one") == []


def test_a_row_found_by_its_unique_key_needs_no_index_for_its_other_terms(tmp_path):
    metadata, users, lists, tasks = _todo_metadata()
    done = named(
        "complete",
        lambda user_id, id: select(tasks.c.id).where(tasks.c.id == id, tasks.c.user_id == user_id, tasks.c.due_date.is_(None)),
        user_param(),
        Param("the task", name="id", type=int),
    )
    assert findings(context(tmp_path, metadata, [done]), "query-index") == []

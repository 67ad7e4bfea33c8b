"""The Todo app's tables: the single source of truth for the schema.

Enumerations are text columns with CHECK constraints rather than PostgreSQL enum
types: adding a value is a constraint swap (NOT VALID, then VALIDATE) inside a
transaction, where ``ALTER TYPE ... ADD VALUE`` cannot run in one on older servers,
and a downgrade leaves no types behind.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
# Registers the full-text functions (func.to_tsvector) with their PostgreSQL types.
import sqlalchemy.dialects.postgresql  # noqa: F401
from sqlalchemy import MetaData
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# The Todo app's own MetaData, with deterministic constraint names so migrations and drift checks
# agree on them. Its own object, not the global ``SQLModel.metadata``: another app that imports
# todoctl (or is served by it) keeps its tables and its naming convention to itself.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class TodoModel(SQLModel, registry=registry(metadata=metadata)):
    """The base of the Todo app's table models: they register on :data:`metadata`."""


class Theme(str, Enum):
    light = "light"
    dark = "dark"
    system = "system"


class TaskStatus(str, Enum):
    pending = "pending"
    completed = "completed"
    overdue = "overdue"


class TaskPriority(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


def one_of(column: str, enum: type[Enum]) -> str:
    """The CHECK expression that keeps a text column within an enumeration."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


# A bcrypt hash: $2a$/$2b$/$2y$, a two-digit cost, then 53 characters of salt and digest.
BCRYPT_PATTERN = r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"
SEARCH_EXPRESSION = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


def search_document(title, description):
    """SEARCH_EXPRESSION over two column expressions: what ix_tasks_search indexes, and what
    task-search must spell identically for the planner to use that index. Constants are literal
    (not bound parameters) so the query's expression matches the index's exactly."""
    # text(), not literal_column(): a column-like constant would keep the Index from finding its table.
    english = text("'english'::regconfig")

    def weighted(column, weight):
        return func.setweight(func.to_tsvector(english, func.coalesce(column, text("''"))), weight)

    # The weights are fixed SQL constants, never formatted in (review's sql-injection rule).
    return weighted(title, text("'A'")).op("||")(weighted(description, text("'B'")))


def _uuid_pk():
    return Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": text("gen_random_uuid()")},
    )


def _timestamp():
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def _text_enum(enum: type[Enum], default: Enum):
    return Field(
        default=default,
        sa_column=Column(String(20), nullable=False, server_default=default.value),
    )


def _owner():
    return Field(sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False))


class User(TodoModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("theme", Theme), name="theme"),
        CheckConstraint(f"password_hash ~ '{BCRYPT_PATTERN}'", name="password_hash_bcrypt"),
    )

    id: uuid.UUID = _uuid_pk()
    email: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=100)
    password_hash: str = Field(max_length=60)
    theme: Theme = _text_enum(Theme, Theme.system)
    created_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()


class TaskList(TodoModel, table=True):
    __tablename__ = "task_lists"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: uuid.UUID = _uuid_pk()
    user_id: uuid.UUID = _owner()
    name: str = Field(max_length=100)
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()


class Task(TodoModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("btrim(title) <> ''", name="title_not_blank"),
        CheckConstraint(one_of("status", TaskStatus), name="status"),
        CheckConstraint(one_of("priority", TaskPriority), name="priority"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_at_iff_completed"),
        CheckConstraint("estimated_hours > 0", name="estimated_hours_positive"),
    )

    id: uuid.UUID = _uuid_pk()
    user_id: uuid.UUID = _owner()
    list_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("task_lists.id", ondelete="SET NULL"), nullable=True),
    )
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1000)
    status: TaskStatus = _text_enum(TaskStatus, TaskStatus.pending)
    priority: TaskPriority = _text_enum(TaskPriority, TaskPriority.medium)
    due_date: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    estimated_hours: Decimal | None = Field(default=None, sa_column=Column(Numeric(6, 2), nullable=True))
    created_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()


class Tag(TodoModel, table=True):
    __tablename__ = "tags"

    id: uuid.UUID = _uuid_pk()
    user_id: uuid.UUID = _owner()
    name: str = Field(max_length=50)
    created_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()


class TaskTag(TodoModel, table=True):
    __tablename__ = "task_tags"

    task_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    )
    tag_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    )


_users = User.__table__
_tasks = Task.__table__
_tags = Tag.__table__

# Login looks users up by email whatever its case; two accounts may not differ only by case.
Index("uq_users_email_lower", func.lower(_users.c.email), unique=True)
# task-list and user-dashboard: one user's tasks of a status by due date (keyset on id).
Index("ix_tasks_user_status_due", _tasks.c.user_id, _tasks.c.status, _tasks.c.due_date, _tasks.c.id)
# list-tasks reads one list by due date; the leading list_id covers the foreign key (ON DELETE SET NULL).
Index("ix_tasks_list_due", _tasks.c.list_id, _tasks.c.due_date, _tasks.c.id)
# task-search: an expression index, not a stored column (migration 0008; measured in bench/RESULTS.md).
Index("ix_tasks_search", search_document(_tasks.c.title, _tasks.c.description), postgresql_using="gin")
# The nightly overdue job reads pending tasks past due across all users.
Index("ix_tasks_pending_due", _tasks.c.due_date, postgresql_where=text("status = 'pending'"))
Index("uq_tags_user_name_lower", _tags.c.user_id, func.lower(_tags.c.name), unique=True)
Index("ix_task_tags_tag_id", TaskTag.__table__.c.tag_id)

APP_TABLES = ("users", "task_lists", "tasks", "tags", "task_tags")

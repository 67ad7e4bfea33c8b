"""users and tasks: the first version of the Todo app

Revision ID: 0001
Revises:
Create Date: 2026-01-05 09:00:00
"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BCRYPT_PATTERN = r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=60), nullable=False),
        sa.Column("theme", sa.String(length=20), server_default="system", nullable=False),
        *_timestamps(),
        sa.CheckConstraint("theme IN ('light', 'dark', 'system')", name=op.f("ck_users_theme")),
        sa.CheckConstraint(f"password_hash ~ '{BCRYPT_PATTERN}'", name=op.f("ck_users_password_hash_bcrypt")),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    # New, empty tables: a plain CREATE INDEX takes no lock anyone is waiting on.
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("priority", sa.String(length=20), server_default="medium", nullable=False),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimated_hours", sa.Numeric(6, 2), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("btrim(title) <> ''", name=op.f("ck_tasks_title_not_blank")),
        sa.CheckConstraint("status IN ('pending', 'completed', 'overdue')", name=op.f("ck_tasks_status")),
        sa.CheckConstraint("priority IN ('low', 'medium', 'high')", name=op.f("ck_tasks_priority")),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at IS NOT NULL)", name=op.f("ck_tasks_completed_at_iff_completed")
        ),
        sa.CheckConstraint("estimated_hours > 0", name=op.f("ck_tasks_estimated_hours_positive")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_tasks_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
    )
    op.create_index("ix_tasks_user_status_due", "tasks", ["user_id", "status", "due_date", "id"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("users")

"""task lists: users group their tasks into named lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-02 09:00:00
"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# todoctl migrate lint: deliberate exceptions, with the reason the report shows.
lint_allow = {
    "prefer-bigint-over-int": "position orders one user's lists; it will never pass 2^31",
}


def upgrade() -> None:
    op.create_table(
        "task_lists",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_task_lists_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_task_lists"),
        sa.UniqueConstraint("user_id", "name", name="uq_task_lists_user_id_name"),
    )
    # tasks is live: a nullable column without a default is a catalog-only change, and the
    # foreign key is added NOT VALID (a brief lock); 0003 validates it without blocking writes.
    op.add_column("tasks", sa.Column("list_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_tasks_list_id_task_lists",
        "tasks",
        "task_lists",
        ["list_id"],
        ["id"],
        ondelete="SET NULL",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("fk_tasks_list_id_task_lists", "tasks", type_="foreignkey")
    op.drop_column("tasks", "list_id")
    op.drop_table("task_lists")

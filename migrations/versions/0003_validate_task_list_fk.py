"""validate tasks.list_id's foreign key and index it, without blocking writes

Revision ID: 0003
Revises: 0002
Create Date: 2026-02-02 09:05:00

Both steps are idempotent, so a re-run after a failed CREATE INDEX CONCURRENTLY
(which leaves an INVALID index) cleans up and succeeds.
"""

from typing import Sequence

from alembic import op

from todoctl.migration_ops import create_index_concurrently, drop_index_concurrently

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on while it scans.
    op.execute("ALTER TABLE tasks VALIDATE CONSTRAINT fk_tasks_list_id_task_lists")
    create_index_concurrently("ix_tasks_list_id", "tasks", "list_id")


def downgrade() -> None:
    drop_index_concurrently("ix_tasks_list_id")
    # Validation cannot be undone in place: re-create the key as 0002 left it (NOT VALID).
    op.drop_constraint("fk_tasks_list_id_task_lists", "tasks", type_="foreignkey")
    op.create_foreign_key(
        "fk_tasks_list_id_task_lists",
        "tasks",
        "task_lists",
        ["list_id"],
        ["id"],
        ondelete="SET NULL",
        postgresql_not_valid=True,
    )

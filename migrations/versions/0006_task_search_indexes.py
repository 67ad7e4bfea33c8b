"""indexes for search and for the nightly overdue job, built without blocking writes

Revision ID: 0006
Revises: 0005
Create Date: 2026-04-13 09:05:00
"""

from typing import Sequence

from todoctl.migration_ops import create_index_concurrently, drop_index_concurrently

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_concurrently("ix_tasks_search", "tasks", "search_vector", using="gin")
    create_index_concurrently("ix_tasks_pending_due", "tasks", "due_date", where="status = 'pending'")


def downgrade() -> None:
    drop_index_concurrently("ix_tasks_pending_due")
    drop_index_concurrently("ix_tasks_search")

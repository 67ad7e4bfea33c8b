"""list-tasks reads one list by due date: index (list_id, due_date, id) in place of (list_id)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:00:00

`todoctl explain list-tasks` on the load seed showed a top-N Sort of a heavy list's 3,445 rows
after a Bitmap Heap Scan on ix_tasks_list_id. The wider index returns the rows in order (the
LIMIT stops early) and still covers the list_id foreign key, so the old one goes.
"""

from typing import Sequence

from todoctl.migration_ops import create_index_concurrently, drop_index_concurrently

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_concurrently("ix_tasks_list_due", "tasks", "list_id, due_date, id")
    drop_index_concurrently("ix_tasks_list_id")


def downgrade() -> None:
    create_index_concurrently("ix_tasks_list_id", "tasks", "list_id")
    drop_index_concurrently("ix_tasks_list_due")

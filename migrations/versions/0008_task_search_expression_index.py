"""full-text search from an expression GIN index instead of the stored tasks.search_vector column

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:30:00

Measured on the load seed (bench/search_schema.py, bench/RESULTS.md): the stored column costs
every INSERT and every title/description UPDATE a tsvector written to the heap, makes the heap
bigger, and is computed row by row during a bulk COPY; the index over the same expression
holds the same lexemes, is built in parallel, and task-search (rewritten to use the indexed
expression) stays well inside its budget. The new index is built before the column goes, so
search is never without one; it then takes the old index's name.
"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from todoctl.migration_ops import create_index_concurrently, drop_index_concurrently

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# todoctl migrate lint: deliberate exceptions, with the reason the report shows.
lint_allow = {
    "ban-drop-column": "search_vector is read by no query once task-search uses the indexed expression "
    "(deploy that first); dropping it rewrites nothing and takes a brief lock bounded by lock_timeout",
    "renaming-object": "the new index takes the name of the one dropped with the column, so plans, "
    "explain budgets and dashboards keep naming ix_tasks_search; the rename is catalog-only",
    "adding-field-with-default": "only the downgrade adds the STORED generated column back (a rewrite of "
    "tasks under ACCESS EXCLUSIVE, bounded by lock_timeout/statement_timeout), as revision 0005 did",
}

# The expression of revision 0005's column, unchanged: the index holds the very same lexemes.
SEARCH_EXPRESSION = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


def upgrade() -> None:
    create_index_concurrently("ix_tasks_search_document", "tasks", f"({SEARCH_EXPRESSION})", using="gin")
    # Dropping the column drops its index (ix_tasks_search) with it; no rewrite, a brief lock.
    op.drop_column("tasks", "search_vector")
    op.execute("ALTER INDEX ix_tasks_search_document RENAME TO ix_tasks_search")


def downgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(SEARCH_EXPRESSION, persisted=True)),
    )
    drop_index_concurrently("ix_tasks_search")
    create_index_concurrently("ix_tasks_search", "tasks", "search_vector", using="gin")

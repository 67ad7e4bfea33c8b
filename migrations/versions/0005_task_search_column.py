"""full-text search: a generated tsvector over title (weight A) and description (B)

Revision ID: 0005
Revises: 0004
Create Date: 2026-04-13 09:00:00
"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# todoctl migrate lint: deliberate exceptions, with the reason the report shows.
lint_allow = {
    "adding-field-with-default": "a STORED generated column rewrites tasks under ACCESS EXCLUSIVE; accepted "
    "while tasks was small, and bounded by lock_timeout/statement_timeout. On a large table, add a plain "
    "tsvector column kept by a trigger and backfill it in batches instead",
}

SEARCH_EXPRESSION = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


def upgrade() -> None:
    # A STORED generated column rewrites tasks under an ACCESS EXCLUSIVE lock; lock_timeout
    # bounds the wait for the lock, and statement_timeout bounds the rewrite.
    op.add_column(
        "tasks",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(SEARCH_EXPRESSION, persisted=True)),
    )


def downgrade() -> None:
    op.drop_column("tasks", "search_vector")

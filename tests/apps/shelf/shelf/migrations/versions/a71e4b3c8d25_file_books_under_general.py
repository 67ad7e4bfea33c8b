"""file every uncategorised book under a "General" category (data migration)

Revision ID: a71e4b3c8d25
Revises: 8c2d5e0a91f3
Create Date: 2026-11-10 09:02:57.771203

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "a71e4b3c8d25"
down_revision: Union[str, None] = "8c2d5e0a91f3"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain statements, so `alembic upgrade --sql` (and todoctl migrate sql/lint) can render them.
    op.execute(
        "INSERT INTO category (name) SELECT 'General' "
        "WHERE NOT EXISTS (SELECT 1 FROM category WHERE name = 'General' AND parent_id IS NULL)"
    )
    op.execute(
        "UPDATE book SET category_id = (SELECT id FROM category WHERE name = 'General' AND parent_id IS NULL) "
        "WHERE category_id IS NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE book SET category_id = NULL "
        "WHERE category_id = (SELECT id FROM category WHERE name = 'General' AND parent_id IS NULL)"
    )
    op.execute("DELETE FROM category WHERE name = 'General' AND parent_id IS NULL")

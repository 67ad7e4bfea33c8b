"""category tree, and a category on each book

Revision ID: 8c2d5e0a91f3
Revises: 3f9a1c2e7b40
Create Date: 2026-11-09 16:40:11.204918

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "8c2d5e0a91f3"
down_revision: Union[str, None] = "3f9a1c2e7b40"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["category.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("parent_id", "name"),
    )
    op.add_column("book", sa.Column("category_id", sa.Integer(), nullable=True))
    op.create_foreign_key("book_category_id_fkey", "book", "category", ["category_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    op.drop_constraint("book_category_id_fkey", "book", type_="foreignkey")
    op.drop_column("book", "category_id")
    op.drop_table("category")

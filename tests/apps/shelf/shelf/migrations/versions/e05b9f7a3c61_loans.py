"""loans: who borrowed which book, and when it is due

Revision ID: e05b9f7a3c61
Revises: a71e4b3c8d25
Create Date: 2026-11-17 11:28:40.093317

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "e05b9f7a3c61"
down_revision: Union[str, None] = "a71e4b3c8d25"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "loan",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("borrowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("due_at > borrowed_at", name="loan_due_after_borrowed"),
        sa.ForeignKeyConstraint(["book_id"], ["book.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("book_id", "borrowed_at"),
    )
    op.create_index(op.f("ix_loan_book_id"), "loan", ["book_id"], unique=False)
    op.create_index(op.f("ix_loan_user_id"), "loan", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_loan_user_id"), table_name="loan")
    op.drop_index(op.f("ix_loan_book_id"), table_name="loan")
    op.drop_table("loan")

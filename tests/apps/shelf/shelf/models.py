"""shelf's tables, on the global ``SQLModel.metadata`` as most SQLModel apps have them."""

# No `from __future__ import annotations`: SQLModel reads the relationship annotations
# (list["Loan"]) at class creation, and a string for the whole annotation breaks the mappers.
import enum
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Optional

from sqlalchemy import CheckConstraint, Column, DateTime, Identity, Integer, String, UniqueConstraint, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, Relationship, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Role(str, enum.Enum):
    reader = "reader"
    librarian = "librarian"
    admin = "admin"


class User(SQLModel, table=True):
    # No __tablename__: SQLModel names it "user", a reserved word in PostgreSQL.
    id: Optional[int] = Field(default=None, sa_column=Column(Integer, Identity(), primary_key=True))
    email: str = Field(max_length=255, unique=True, index=True)
    full_name: Optional[str] = Field(default=None, max_length=255)
    hashed_password: str  # Argon2 ($argon2id$v=19$...)
    role: Role = Field(default=Role.reader, sa_column=Column(SAEnum(Role, name="user_role"), nullable=False))
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))

    loans: list["Loan"] = Relationship(back_populates="user", cascade_delete=True)


class Category(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    parent_id: Optional[int] = Field(default=None, foreign_key="category.id", ondelete="CASCADE")

    parent: Optional["Category"] = Relationship(
        back_populates="children", sa_relationship_kwargs={"remote_side": "Category.id"}
    )
    children: list["Category"] = Relationship(back_populates="parent")
    books: list["Book"] = Relationship(back_populates="category")


class BookAuthorLink(SQLModel, table=True):
    book_id: int = Field(foreign_key="book.id", primary_key=True, ondelete="CASCADE")
    author_id: int = Field(foreign_key="author.id", primary_key=True, ondelete="CASCADE")


class Author(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    born: Optional[date] = None

    books: list["Book"] = Relationship(back_populates="authors", link_model=BookAuthorLink)


class Book(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("price >= 0", name="book_price_not_negative"),
        CheckConstraint("pages > 0", name="book_pages_positive"),
        CheckConstraint("length(isbn) = 13", name="book_isbn_length"),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, Identity(), primary_key=True))
    title: str = Field(max_length=300)
    isbn: str = Field(max_length=13, unique=True)
    price: Decimal = Field(max_digits=8, decimal_places=2)
    pages: Optional[int] = None
    published_on: Optional[date] = None
    details: dict = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    keywords: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False, server_default=text("'{}'"))
    )
    category_id: Optional[int] = Field(default=None, foreign_key="category.id", ondelete="SET NULL")

    category: Optional[Category] = Relationship(back_populates="books")
    authors: list[Author] = Relationship(back_populates="books", link_model=BookAuthorLink)
    loans: list["Loan"] = Relationship(back_populates="book")


class Loan(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("book_id", "borrowed_at"),
        CheckConstraint("due_at > borrowed_at", name="loan_due_after_borrowed"),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, Identity(), primary_key=True))
    book_id: int = Field(foreign_key="book.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    borrowed_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    returned_at: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))

    book: Book = Relationship(back_populates="loans")
    user: User = Relationship(back_populates="loans")

"""shelf's named queries, registered with todoctl's public API (``[tool.todoctl] queries``).

What the lending desk and the nightly reminder job run: a reader's loans, the overdue loans, a
category's books (through the category tree), the catalogue search, a book's recent history, and
returning a loan. Each default is picked from the data without custom code where a declarative
picker fits (the reader with the most loans, a typical keyword, a recent date).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import any_, func, or_, select, update

from shelf.models import Book, Category, Loan, User
from todoctl import Budget, Param, Picker, heaviest, now, query, recent, typical

PAGE = 50

# The reader with the most loans: the longest list the desk shows.
Reader = Annotated[int, Param("the reader (default: the one with the most loans)", pick=heaviest(Loan.user_id))]


@query(
    "reader-loans",
    "One reader's loans not yet returned, soonest due first (the desk's reader page).",
    budget=Budget(max_ms=20, max_read_per_row=100, max_rows_sorted=1_000, max_buffers=2_000),
    indexes=("ix_loan_user_id",),
)
def reader_loans(user_id: Reader):
    # The page of loans first, then its books: 50 lookups by key, whatever the reader's history.
    page = (
        select(Loan.id, Loan.book_id, Loan.borrowed_at, Loan.due_at)
        .where(Loan.user_id == user_id, Loan.returned_at.is_(None))
        .order_by(Loan.due_at, Loan.id)
        .limit(PAGE)
        .subquery("page")
    )
    return (
        select(page.c.id, page.c.book_id, Book.title, page.c.borrowed_at, page.c.due_at)
        .join(Book, Book.id == page.c.book_id)
        .order_by(page.c.due_at, page.c.id)
    )


@query(
    "overdue-loans",
    "The nightly reminder job: loans past due and not returned, across readers, with the reader's email.",
    # A batch job over every loan: it reads the table (no index on due dates), judged by time and buffers.
    budget=Budget(max_ms=500, max_read_per_row=None, max_rows_sorted=100_000, max_buffers=50_000, large_rows=10_000_000),
    cross_user=True,
)
def overdue_loans(
    as_of: Annotated[datetime, Param("the moment that counts as now", pick=now())],
    batch: Annotated[int, Param("rows per batch", bounds=(1, 10_000))] = 500,
):
    return (
        select(Loan.id, Loan.due_at, User.email, Book.title)
        .join(User, User.id == Loan.user_id)
        .join(Book, Book.id == Loan.book_id)
        .where(Loan.returned_at.is_(None), Loan.due_at < as_of)
        .order_by(Loan.due_at, Loan.id)
        .limit(batch)
    )


@query(
    "category-books",
    "The books filed under a category or any category below it (the category tree), by title.",
    budget=Budget(max_ms=100, max_read_per_row=None, max_rows_sorted=50_000, max_buffers=20_000, large_rows=1_000_000),
)
def category_books(
    category_id: Annotated[
        int, Param("the category (default: the one with the most subcategories)", pick=heaviest(Category.parent_id))
    ],
):
    tree = select(Category.id).where(Category.id == category_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Category.id).join(tree, Category.parent_id == tree.c.id))
    return (
        select(Book.id, Book.title, Book.price)
        .where(Book.category_id.in_(select(tree.c.id)))
        .order_by(Book.title, Book.id)
        .limit(PAGE)
    )


@query(
    "book-search",
    "The catalogue search: books whose title contains the words, or that carry them as a keyword.",
    budget=Budget(max_ms=200, max_read_per_row=None, max_rows_sorted=50_000, max_buffers=20_000, large_rows=1_000_000),
)
def book_search(q: Annotated[str, Param("a word of the title, or a keyword (default: a typical keyword)", pick=typical(Book.keywords))]):
    return (
        select(Book.id, Book.title, Book.keywords)
        .where(or_(Book.title.icontains(q, autoescape=True), q == any_(Book.keywords)))
        .order_by(Book.title, Book.id)
        .limit(20)
    )


@query(
    "book-history",
    "One book's loans since a date, newest first (who had it lately).",
    budget=Budget(max_ms=20, max_buffers=500),
    indexes=("loan_book_id_borrowed_at_key",),
    cross_user=True,  # the librarian's view of a book: every reader's loans of it
)
def book_history(
    book_id: Annotated[int, Param("the book (default: the most borrowed)", pick=heaviest(Loan.book_id))],
    since: Annotated[
        datetime,
        Param("loans borrowed at or after (default: the book's recent ones)", pick=recent(Loan.borrowed_at, share=0.2, where=["book_id"])),
    ],
):
    return (
        select(Loan.id, Loan.user_id, Loan.borrowed_at, Loan.returned_at)
        .where(Loan.book_id == book_id, Loan.borrowed_at >= since)
        .order_by(Loan.borrowed_at.desc())
        .limit(PAGE)
    )


def open_loan(picker: Picker, values: dict) -> int:
    """The reader's loan due soonest among those not yet returned."""
    stmt = (
        select(Loan.id)
        .where(Loan.user_id == values["user_id"], Loan.returned_at.is_(None))
        .order_by(Loan.due_at, Loan.id)
        .limit(1)
    )
    return picker.one(stmt, what="loan not yet returned (the reader has none)")


@query(
    "return-loan",
    "Mark one of a reader's loans returned (an UPDATE: explained only in a rolled-back transaction).",
    budget=Budget(max_ms=20, max_buffers=200),
    modifies=True,
)
def return_loan(user_id: Reader, loan_id: Annotated[int, Param("the loan (default: the reader's next due)", pick=open_loan)]):
    return (
        update(Loan)
        .where(Loan.id == loan_id, Loan.user_id == user_id, Loan.returned_at.is_(None))
        .values(returned_at=func.now())
    )

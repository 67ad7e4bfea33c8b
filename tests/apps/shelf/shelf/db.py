"""shelf's engine, as the app builds it: a plain ``create_engine`` of its URL (no timeouts set)."""

import os

from sqlmodel import Session, create_engine

DATABASE_URL = os.environ.get("SHELF_DATABASE_URL", "postgresql+psycopg://shelf@localhost/shelf")

engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=5, pool_pre_ping=True)


def get_session():
    with Session(engine) as session:
        yield session

"""Using todoctl.app in the Todo app: FastAPI endpoints, and a plain script.

Run it against a migrated database (docs/todo-app.md, "The app's database module", shows this file):

    DATABASE_URL=postgresql://USER:PASSWORD@HOST/DBNAME python examples/app_usage.py
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from todoctl.todo.db import get_session, ping, session_scope
from todoctl.todo.models import Task, User

try:
    from fastapi import Depends
except ImportError:  # FastAPI is the app's dependency, not todoctl's; without it Depends(f) is just f
    def Depends(dependency):  # noqa: N802
        return dependency


# --- In the app: each request gets a session from the app's pool, closed after the request.
# Register with FastAPI as app.get("/users/{user_id}/tasks")(read_tasks), and so on.


def read_tasks(user_id: uuid.UUID, session: Session = Depends(get_session)) -> list[Task]:
    statement = select(Task).where(Task.user_id == user_id).order_by(Task.due_date, Task.id).limit(50)
    return list(session.exec(statement))


def create_task(user_id: uuid.UUID, title: str, session: Session = Depends(get_session)) -> Task:
    task = Task(user_id=user_id, title=title)
    session.add(task)
    session.commit()  # get_session never commits: a failed commit is this request's error response
    session.refresh(task)
    return task


def health_db() -> dict:
    """GET /health/db: status, latency, server time and version, and the pool's numbers."""
    return ping().as_dict()


# --- In a script or a job: one transaction per block, committed at its end, rolled back on any error.


def main() -> None:
    with session_scope() as session:
        user = User(email=f"demo-{uuid.uuid4().hex[:8]}@example.com", password_hash="$2b$12$" + "x" * 53)
        session.add(user)
        session.flush()  # the user's id, for the task's foreign key
        session.add(Task(user_id=user.id, title="Try todoctl.app"))
        user_id = user.id
    with session_scope() as session:
        print(f"{len(read_tasks(user_id, session))} task(s) for user {user_id}")
    print(health_db())


if __name__ == "__main__":
    main()

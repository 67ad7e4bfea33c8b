"""The Todo app's seed hooks: what its profiles (``seeds/*.toml``) cannot say in TOML.

- ``task_titles`` and ``task_descriptions``: text models composing to-do items from the word lists
  of ``seeds/words/`` (seed_text.py), Zipf by rank, so full-text search sees a realistic vocabulary.
- ``statuses_agree_with_dates``: a task's status, due date and completion time agree, which is the
  CHECK ``ck_tasks_completed_at_iff_completed`` and more: a completed task was completed (at its
  last update) before the reference time; an overdue one was due at least a day before it (the
  nightly job has swept it) and after it was created; a pending one is due later, or never.

The profiles name this module with ``hooks = "todoctl.todo.seed_hooks"``.
"""

from __future__ import annotations

import numpy as np

from todoctl.core.seed import hooks
from todoctl.todo.seed_text import Vocabulary, Writer

DAY = np.timedelta64(1, "D")
TWO_MONTHS = 60 * DAY
NaT = np.datetime64("NaT", "us")


def _writer(ctx) -> Writer:
    if "todo-vocabulary" not in ctx.shared:
        ctx.shared["todo-vocabulary"] = Vocabulary(ctx.words, ctx.first_names())
    return Writer(ctx.rng, ctx.shared["todo-vocabulary"])


@hooks.text("task_titles")
def task_titles(ctx, count: int) -> list[str]:
    return _writer(ctx).titles(count)


@hooks.text("task_descriptions")
def task_descriptions(ctx, count: int) -> list[str]:
    return _writer(ctx).descriptions(count)


def _within(span, u: np.ndarray):
    """A duration in [0, span) for each uniform (span a timedelta or an array of them)."""
    micros = np.asarray(span / np.timedelta64(1, "us"), dtype=np.float64)
    return np.floor(u * micros).astype("timedelta64[us]")


@hooks.rows("tasks", satisfies=["ck_tasks_completed_at_iff_completed"], writes=["completed_at", "due_date"])
def statuses_agree_with_dates(rows) -> None:
    now = rows.now
    created, updated, status = rows["created_at"], rows["updated_at"], rows["status"]
    u = rows.uniform(1)[0]
    age = now - created
    completed = status == "completed"
    overdue = (status == "overdue") & (age > 2 * DAY)  # younger "overdue" tasks are still pending
    rows["status"] = np.where(completed, "completed", np.where(overdue, "overdue", "pending"))
    rows["completed_at"] = np.where(completed, updated, NaT)
    # Due: completed within a month of creation; overdue at least a day before now, after creation
    # and within two months; pending in the next two months. An overdue task always has one.
    due = np.where(
        completed,
        created + DAY + _within(29 * DAY, u),
        np.where(
            overdue,
            now - DAY - _within(np.minimum(age, TWO_MONTHS) - DAY, u),
            now + np.timedelta64(1, "us") + _within(TWO_MONTHS, u),
        ),
    )
    has_due = ~rows.isnull("due_date") | overdue
    rows["due_date"] = np.where(has_due, due, NaT)

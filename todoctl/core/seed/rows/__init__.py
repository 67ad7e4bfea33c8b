"""Row generation: every table's rows as binary COPY chunks, from seeded generators only.

    generator   the run's skeleton (counts per user, per-user facts) and one stream per table
    draw        columns in load order, chunking, and the name-drawing shared by lists and tags
    users, task_lists, tags, tasks, task_tags    one module per table

Each table has its own generator stream, seeded from (seed, first user number, table), so
the contents depend on nothing but the profile, the options and todoctl's word lists.
Per-user facts later tables need (ids, sign-up times, list and tag ids) are kept in
compact byte arrays; rows themselves are streamed in chunks and never held.

Time rules (R is the reference time): a user signs up before R; lists, tags and tasks are
created after their user; a completed task has completed_at between its creation and R
(and nothing else has one); an overdue task was due at least a day before R (the nightly
job has swept it) and after it was created; a pending task is due after R or never.
"""

from todoctl.core.seed.rows.draw import COLUMNS
from todoctl.core.seed.rows.generator import Generator, tasks_per_user

__all__ = ["COLUMNS", "Generator", "tasks_per_user"]

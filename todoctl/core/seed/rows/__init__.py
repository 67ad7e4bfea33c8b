"""Row generation: every table's rows as binary COPY chunks, from seeded generators only.

    generator   the run's skeleton (counts per user, per-user facts) and the streams
    draw        columns in load order, chunk sizes, and the name-drawing shared by lists and tags
    encode      numpy: seeded streams, UUID/timestamp/int4 fields, pools, rows assembled by column
    users, task_lists, tags, tasks, task_tags    one module per table

Rows are drawn a chunk at a time, column by column with numpy; each chunk of each table has
its own stream, seeded from (seed, first user number, table, chunk number), so the contents
depend on nothing but the profile, the options and todoctl's word lists. Per-user facts later
tables need (ids, sign-up times, list and tag ids) are kept in numpy arrays (ids as 20-byte
rows: length word and UUID); rows themselves are streamed in chunks and never held.

Time rules (R is the reference time): a user signs up before R; lists, tags and tasks are
created after their user; a completed task has completed_at between its creation and R
(and nothing else has one); an overdue task was due at least a day before R (the nightly
job has swept it) and after it was created; a pending task is due after R or never.
"""

from todoctl.core.seed.rows.draw import COLUMNS
from todoctl.core.seed.rows.generator import Generator, tasks_per_user

__all__ = ["COLUMNS", "Generator", "tasks_per_user"]

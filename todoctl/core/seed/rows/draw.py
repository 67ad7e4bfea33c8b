"""What every table's rows share: the columns in load order, the chunk sizes, the row header,
and the drawing of per-user named rows (task lists and tags)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    import numpy as np

    from todoctl.core.seed.rows.encode import Pool
    from todoctl.core.seed.rows.generator import Generator

# Rows are drawn a chunk at a time, each chunk from its own stream (rows/encode.py). Changing
# a chunk size changes the rows (and the fingerprints).
USERS_PER_CHUNK = 2048
TASKS_PER_CHUNK = 4096

# (table, columns) in load order: each table's foreign keys point at earlier ones.
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "email", "name", "password_hash", "theme", "created_at", "updated_at"),
    "task_lists": ("id", "user_id", "name", "position", "created_at", "updated_at"),
    "tags": ("id", "user_id", "name", "created_at", "updated_at"),
    "tasks": (
        "id", "user_id", "list_id", "title", "description", "status", "priority",
        "due_date", "completed_at", "estimated_hours", "created_at", "updated_at",
    ),
    "task_tags": ("task_id", "tag_id"),
}  # fmt: skip


def field_count(table: str) -> bytes:
    """The binary COPY row header: the number of fields."""
    return len(COLUMNS[table]).to_bytes(2, "big")


def named_rows(
    gen: "Generator", table: str, per_user, names: "Pool", position: bool, keep: Callable[["np.ndarray", "np.ndarray"], None]
) -> Iterator[tuple[bytes, int]]:
    """Each user's ``per_user[u]`` distinct names from ``names``. Once all are drawn, ``keep``
    gets the new ids (a (rows, 20) matrix) and each user's first row (users + 1 entries)."""
    import numpy as np

    from todoctl.core.seed.rows import encode as e

    now, header, users = gen.now, field_count(table), gen.profile.users
    counts = np.asarray(per_user, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    ids = np.empty((int(starts[-1]), 20), dtype=np.uint8)
    for chunk, first in enumerate(range(0, users, USERS_PER_CHUNK)):
        n = min(USERS_PER_CHUNK, users - first)
        s = gen.stream(table, chunk)
        k = counts[first : first + n]
        # k distinct names per user: the first k of a random order of all of them.
        order = np.argsort(s.uniform(n, names.size), axis=1, kind="stable")
        taken = np.arange(names.size) < k[:, None]
        name_index = order[taken]
        rows = len(name_index)
        owner = np.repeat(np.arange(first, first + n), k)
        row_id = e.uuids(s, rows)
        u = s.uniform(2, rows)
        signup = gen.user_created[owner]
        # Most lists and tags are made in the first days after sign-up.
        created = signup + s.below(now - signup, u[0] ** 3)
        updated = created + s.below(now - created, u[1])
        columns = [e.Fixed(e.constant(header, rows)), e.Fixed(row_id), e.Fixed(gen.user_ids[owner]), e.Pick(names, name_index)]
        if position:
            columns.append(e.Fixed(e.int4s(np.broadcast_to(np.arange(names.size), taken.shape)[taken])))
        columns += [e.Fixed(e.timestamps(created)), e.Fixed(e.timestamps(updated))]
        ids[starts[first] : starts[first] + rows] = row_id
        if rows:
            yield e.assemble(rows, columns), rows
    keep(ids, starts)

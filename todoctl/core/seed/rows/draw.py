"""What every table's rows share: the columns in load order, the chunk size, the row header,
and the drawing of per-user named rows (task lists and tags)."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.pools import INT4, TIMESTAMP, uuid_field

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator

CHUNK_ROWS = 4096

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
    gen: "Generator", table: str, per_user: array, names: list[bytes], ids: bytearray, starts: array, position: bool
) -> Iterator[tuple[bytes, int]]:
    """Each user's ``per_user[u]`` distinct names from ``names``; the new ids go to ``ids`` and
    each user's end offset to ``starts`` (for the tables drawn after)."""
    rng = gen.rng(table)
    r, bits, sample = rng.random, rng.getrandbits, rng.sample
    now, header = gen.now, field_count(table)
    out: list[bytes] = []
    indexes = range(len(names))
    for u in range(gen.profile.users):
        k = per_user[u]
        uid = gen.user_ids[20 * u : 20 * u + 20]
        signup = gen.user_created[u]
        for pos, name_index in enumerate(sample(indexes, k)):
            row_id = uuid_field(bits)
            ids += row_id
            # Most lists and tags are made in the first days after sign-up.
            created = signup + int(r() ** 3 * (now - signup))
            updated = created + int(r() * (now - created))
            fields = [header, row_id, uid, names[name_index]]
            if position:
                fields.append(INT4(4, pos))
            fields += (TIMESTAMP(8, created), TIMESTAMP(8, updated))
            out.append(b"".join(fields))
        starts.append(len(ids) // 20)
        if len(out) >= CHUNK_ROWS:
            yield b"".join(out), len(out)
            out = []
    if out:
        yield b"".join(out), len(out)

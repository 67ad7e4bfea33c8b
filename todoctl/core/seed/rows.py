"""Row generation: every table's rows as binary COPY chunks, from seeded generators only.

Each table has its own generator stream, seeded from (seed, first user number, table), so
the contents depend on nothing but the profile, the options and todoctl's word lists.
Per-user facts later tables need (ids, sign-up times, list and tag ids) are kept in
compact byte arrays; rows themselves are streamed in chunks and never held.

Time rules (R is the reference time): a user signs up before R; lists, tags and tasks are
created after their user; a completed task has completed_at between its creation and R
(and nothing else has one); an overdue task was due at least a day before R (the nightly
job has swept it) and after it was created; a pending task is due after R or never.
"""

from __future__ import annotations

import math
import random
from array import array
from typing import BinaryIO, Iterator

from todoctl.core.seed.pools import (
    DAY,
    INT4,
    NULL,
    TIMESTAMP,
    Pools,
    text,
    timestamp_us,
    uuid_field,
)
from todoctl.core.seed.profile import Profile

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
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real inbox


def _field_count(table: str) -> bytes:
    return len(COLUMNS[table]).to_bytes(2, "big")


def tasks_per_user(profile: Profile, rng: random.Random) -> array:
    """How many tasks each user has: lognormal weights (sigma = ``skew``), scaled so the
    counts add up to exactly ``round(users * per_user)``. A few heavy users carry many
    tasks, as in real usage."""
    n, total = profile.users, profile.total_tasks
    sigma = profile.skew
    weights = array("d", (rng.lognormvariate(0.0, sigma) for _ in range(n))) if sigma > 0 else array("d", [1.0] * n)
    scale = total / math.fsum(weights) if total else 0.0
    counts = array("q", bytes(8 * n))
    cumulative = 0.0
    assigned = 0
    for i, w in enumerate(weights):
        cumulative += w * scale
        upto = min(total, round(cumulative))
        counts[i] = upto - assigned
        assigned = upto
    counts[n - 1] += total - assigned
    return counts


class Generator:
    """The rows of one seed run. Call the table methods in ``COLUMNS`` order."""

    def __init__(self, profile: Profile, *, first_user: int = 1) -> None:
        self.profile = profile
        self.first_user = first_user  # numbers emails; > 1 when appending
        self.now = timestamp_us(profile.reference_time)
        self.pools = Pools(profile.seed, profile)
        self.counts = {
            "users": profile.users,
            "tasks": profile.total_tasks,
        }
        n = profile.users
        self.user_ids = bytearray()
        self.user_created = array("q")
        self.list_start = array("q", [0])
        self.list_ids = bytearray()
        self.tag_start = array("q", [0])
        self.tag_ids = bytearray()
        skeleton = self._rng("skeleton")
        lo, hi = profile.lists_per_user
        self.lists_of = array("q", (skeleton.randint(lo, hi) for _ in range(n)))
        lo, hi = profile.tags_per_user
        self.tags_of = array("q", (skeleton.randint(lo, hi) for _ in range(n)))
        self.tasks_of = tasks_per_user(profile, skeleton)
        self.counts["task_lists"] = sum(self.lists_of)
        self.counts["tags"] = sum(self.tags_of)
        self.counts["task_tags"] = 0  # known once tasks are generated

    def _rng(self, table: str) -> random.Random:
        return random.Random(f"todoctl-seed/{self.profile.seed}/{self.first_user}/{table}")

    # ------------------------------------------------------------ users

    def users(self) -> Iterator[tuple[bytes, int]]:
        rng = self._rng("users")
        r, bits = rng.random, rng.getrandbits
        p, pools, now = self.profile, self.pools, self.now
        header = _field_count("users")
        firsts, lasts = pools.first_names, pools.last_names
        hashes, themes = pools.password_hashes, pools.themes
        span = p.signup_days * DAY
        out: list[bytes] = []
        for number in range(self.first_user, self.first_user + p.users):
            uid = uuid_field(bits)
            self.user_ids += uid
            first = firsts[int(r() * len(firsts))]
            last = lasts[int(r() * len(lasts))]
            email = f"{first}.{last}.{number}@{EMAIL_DOMAINS[number % 3]}".lower()
            name = text(f"{first} {last}") if r() < p.name_probability else NULL
            created = now - int(r() * span) - 1
            self.user_created.append(created)
            updated = created + int(r() * (now - created))
            out.append(
                b"".join(
                    (header, uid, text(email), name, hashes[int(r() * len(hashes))], themes[int(r() * 1024)],
                     TIMESTAMP(8, created), TIMESTAMP(8, updated))
                )
            )  # fmt: skip
            if len(out) == CHUNK_ROWS:
                yield b"".join(out), len(out)
                out = []
        if out:
            yield b"".join(out), len(out)

    # ------------------------------------------------------------ lists and tags

    def _named(self, table: str, per_user: array, names: list[bytes], ids: bytearray, starts: array, position: bool):
        rng = self._rng(table)
        r, bits, sample = rng.random, rng.getrandbits, rng.sample
        now, header = self.now, _field_count(table)
        out: list[bytes] = []
        indexes = range(len(names))
        for u in range(self.profile.users):
            k = per_user[u]
            uid = self.user_ids[20 * u : 20 * u + 20]
            signup = self.user_created[u]
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

    def task_lists(self) -> Iterator[tuple[bytes, int]]:
        return self._named("task_lists", self.lists_of, self.pools.list_names, self.list_ids, self.list_start, True)

    def tags(self) -> Iterator[tuple[bytes, int]]:
        return self._named("tags", self.tags_of, self.pools.tag_names, self.tag_ids, self.tag_start, False)

    # ------------------------------------------------------------ tasks (and their tags)

    def tasks(self, task_tags: BinaryIO) -> Iterator[tuple[bytes, int]]:
        """Tasks as COPY chunks; their task_tags rows go to ``task_tags`` (a spool file)."""
        rng = self._rng("tasks")
        r, bits = rng.random, rng.getrandbits
        p, pools, now = self.profile, self.pools, self.now
        header, tt_header = _field_count("tasks"), _field_count("task_tags")
        titles, descriptions, estimates = pools.titles, pools.descriptions, pools.estimates
        n_titles, n_descriptions = len(titles), len(descriptions)
        statuses, status_text, priorities, tag_counts = pools.statuses, pools.status_text, pools.priorities, pools.tag_counts
        n_tag_counts = len(tag_counts)
        pending, completed, overdue = status_text["pending"], status_text["completed"], status_text["overdue"]
        p_desc, p_due, p_est, p_list = (
            p.description_probability, p.due_date_probability, p.estimate_probability, p.in_list_probability
        )
        user_ids, list_ids, tag_ids = self.user_ids, self.list_ids, self.tag_ids
        list_start, tag_start, created_at, tasks_of = self.list_start, self.tag_start, self.user_created, self.tasks_of
        two_months = 60 * DAY
        out: list[bytes] = []
        tagged: list[bytes] = []
        links = 0
        for u in range(p.users):
            uid = user_ids[20 * u : 20 * u + 20]
            signup = created_at[u]
            l0, l1 = list_start[u], list_start[u + 1]
            lists = [list_ids[20 * i : 20 * i + 20] for i in range(l0, l1)]
            n_lists = len(lists)
            t0, n_tags = tag_start[u], tag_start[u + 1] - tag_start[u]
            for _ in range(tasks_of[u]):
                task_id = uuid_field(bits)
                created = signup + int(r() * (now - signup))
                age = now - created
                status = statuses[int(r() * 1024)]
                if status == "completed":
                    done = created + int(r() * age)
                    due = TIMESTAMP(8, created + DAY + int(r() * 29 * DAY)) if r() < p_due else NULL
                    status_field, completed_field, updated = completed, TIMESTAMP(8, done), done
                elif status == "overdue" and age > 2 * DAY:
                    window = min(age, two_months) - DAY
                    due = TIMESTAMP(8, now - DAY - int(r() * window))
                    status_field, completed_field, updated = overdue, NULL, created + int(r() * age)
                else:
                    due = TIMESTAMP(8, now + 1 + int(r() * two_months)) if r() < p_due else NULL
                    status_field, completed_field, updated = pending, NULL, created + int(r() * age)
                out.append(
                    b"".join(
                        (header, task_id, uid,
                         lists[int(r() * n_lists)] if n_lists and r() < p_list else NULL,
                         titles[int(r() * n_titles)],
                         descriptions[int(r() * n_descriptions)] if r() < p_desc else NULL,
                         status_field, priorities[int(r() * 1024)], due, completed_field,
                         estimates[int(r() * 1024)] if r() < p_est else NULL,
                         TIMESTAMP(8, created), TIMESTAMP(8, updated))
                    )
                )  # fmt: skip
                if n_tags:
                    k = min(tag_counts[int(r() * n_tag_counts)], n_tags)
                    if k:
                        first = int(r() * n_tags)
                        for j in range(k):  # k distinct tags: consecutive from a random start
                            t = t0 + (first + j) % n_tags
                            tagged.append(tt_header + task_id + tag_ids[20 * t : 20 * t + 20])
                        links += k
                if len(out) == CHUNK_ROWS:
                    task_tags.write(b"".join(tagged))
                    tagged = []
                    yield b"".join(out), len(out)
                    out = []
        task_tags.write(b"".join(tagged))
        self.counts["task_tags"] = links
        if out:
            yield b"".join(out), len(out)

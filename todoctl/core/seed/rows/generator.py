"""The generator of one seed run: the skeleton (how many lists, tags and tasks each user has),
the per-user facts later tables need, one random stream per table, and a method per table."""

from __future__ import annotations

import math
import random
from array import array
from functools import cached_property
from typing import BinaryIO, Iterator

from todoctl.core.seed.pools import Pools, timestamp_us
from todoctl.core.seed.profile import Profile
from todoctl.core.seed.rows import tags as tag_rows
from todoctl.core.seed.rows import task_lists as list_rows
from todoctl.core.seed.rows import tasks as task_rows
from todoctl.core.seed.rows import users as user_rows


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

    def __init__(self, profile: Profile, *, first_user: int = 1, pools: Pools | None = None) -> None:
        self.profile = profile
        self.first_user = first_user  # numbers emails; > 1 when appending
        self.now = timestamp_us(profile.reference_time)
        # ``pools``: prepared ahead (the job composes them while the server checks and locks).
        self.pools = pools if pools is not None else Pools(profile.seed, profile)
        self.counts = {
            "users": profile.users,
            "tasks": profile.total_tasks,
        }
        n = profile.users
        # Per-user facts the later tables draw on, filled in as users, lists and tags are drawn
        # (numpy arrays: ids as (rows, 20) byte matrices, starts as each user's first row).
        self.user_ids = None
        self.user_created = None
        self.list_ids = self.list_start = None
        self.tag_ids = self.tag_start = None
        skeleton = self.rng("skeleton")
        lo, hi = profile.lists_per_user
        self.lists_of = array("q", (skeleton.randint(lo, hi) for _ in range(n)))
        lo, hi = profile.tags_per_user
        self.tags_of = array("q", (skeleton.randint(lo, hi) for _ in range(n)))
        self.tasks_of = tasks_per_user(profile, skeleton)
        self.counts["task_lists"] = sum(self.lists_of)
        self.counts["tags"] = sum(self.tags_of)
        self.counts["task_tags"] = 0  # known once tasks are generated

    def rng(self, table: str) -> random.Random:
        """The stream of one table: seeded from (seed, first user number, table)."""
        return random.Random(f"todoctl-seed/{self.profile.seed}/{self.first_user}/{table}")

    def stream(self, table: str, chunk: int):
        """The stream of one chunk of one table (rows/encode.py): chunks draw independently."""
        from todoctl.core.seed.rows.encode import Stream

        return Stream(f"todoctl-seed/{self.profile.seed}/{self.first_user}/{table}/{chunk}")

    @cached_property
    def encoded(self):
        """The pools as numpy gather tables (rows/encode.py), built once per run."""
        from todoctl.core.seed.rows.encode import EncodedPools

        return EncodedPools.of(self.pools)

    # ------------------------------------------------------------ one method per table (rows/<table>.py)

    def users(self) -> Iterator[tuple[bytes, int]]:
        return user_rows.users(self)

    def task_lists(self) -> Iterator[tuple[bytes, int]]:
        return list_rows.task_lists(self)

    def tags(self) -> Iterator[tuple[bytes, int]]:
        return tag_rows.tags(self)

    def tasks(self, task_tags: BinaryIO) -> Iterator[tuple[bytes, int]]:
        """Tasks as COPY chunks; their task_tags rows go to ``task_tags`` (a spool file)."""
        return task_rows.tasks(self, task_tags)

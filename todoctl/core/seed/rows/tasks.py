"""The tasks table: titles, statuses and their times, due dates, estimates, lists; each task's
tags go to the task_tags spool as its chunk is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Iterator

from todoctl.core.seed.pools import DAY
from todoctl.core.seed.rows.draw import TASKS_PER_CHUNK, field_count
from todoctl.core.seed.rows.task_tags import task_tag_rows

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator

TWO_MONTHS = 60 * DAY


def tasks(gen: "Generator", task_tags: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Tasks as COPY chunks; their task_tags rows go to ``task_tags`` (a spool file) and their
    number to ``gen.counts["task_tags"]``."""
    import numpy as np

    from todoctl.core.seed.rows import encode as e

    p, enc, now, total = gen.profile, gen.encoded, gen.now, gen.counts["tasks"]
    header = field_count("tasks")
    # Each task's owner: users in order, each with its number of tasks.
    ends = np.cumsum(np.asarray(gen.tasks_of, dtype=np.int64))
    lists_of = np.diff(gen.list_start)
    links = 0
    for chunk, first in enumerate(range(0, total, TASKS_PER_CHUNK)):
        n = min(TASKS_PER_CHUNK, total - first)
        s = gen.stream("tasks", chunk)
        owner = np.searchsorted(ends, np.arange(first, first + n), side="right")
        task_id = e.uuids(s, n)
        u = s.uniform(15, n)
        signup = gen.user_created[owner]
        created = signup + s.below(now - signup, u[0])
        age = now - created
        code = enc.status_codes[s.below(len(enc.status_codes), u[1])]
        completed = code == e.COMPLETED
        overdue = (code == e.OVERDUE) & (age > 2 * DAY)  # younger "overdue" tasks are still pending
        updated = created + s.below(age, u[2])  # a completed task's completion time too
        # Due: completed within a month of creation; overdue at least a day before now, after
        # creation and within two months; pending ones in the next two months. Overdue always has one.
        due = np.where(
            completed,
            created + DAY + s.below(29 * DAY, u[3]),
            np.where(overdue, now - DAY - s.below(np.minimum(age, TWO_MONTHS) - DAY, u[3]), now + 1 + s.below(TWO_MONTHS, u[3])),
        )
        has_due = overdue | (u[4] < p.due_date_probability)
        n_lists = lists_of[owner]
        in_list = (n_lists > 0) & (u[5] < p.in_list_probability)
        list_row = np.where(in_list, gen.list_start[owner] + s.below(n_lists, u[6]), 0)
        described = u[8] < p.description_probability
        estimated = u[11] < p.estimate_probability
        data = e.assemble(n, [
            e.Fixed(e.constant(header, n)),
            e.Fixed(task_id),
            e.Fixed(gen.user_ids[owner]),
            e.Maybe(gen.list_ids[list_row] if len(gen.list_ids) else np.zeros((n, 20), np.uint8), in_list),
            e.Pick(enc.titles, s.below(enc.titles.size, u[7])),
            e.Pick(enc.descriptions, np.where(described, s.below(enc.descriptions.size, u[9]), enc.descriptions.null)),
            e.Pick(enc.status, np.where(completed, e.COMPLETED, np.where(overdue, e.OVERDUE, e.PENDING))),
            e.Pick(enc.priorities, s.below(enc.priorities.size, u[10])),
            e.Maybe(e.timestamps(due), has_due),
            e.Maybe(e.timestamps(updated), completed),
            e.Pick(enc.estimates, np.where(estimated, s.below(enc.estimates.size, u[12]), enc.estimates.null)),
            e.Fixed(e.timestamps(created)),
            e.Fixed(e.timestamps(updated)),
        ])  # fmt: skip
        tagged = task_tag_rows(gen, owner, task_id, u[13], u[14])
        task_tags.write(tagged)
        links += len(tagged) // 42
        yield data, n
    gen.counts["task_tags"] = links

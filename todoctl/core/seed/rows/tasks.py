"""The tasks table: titles, statuses and their times, due dates, estimates, lists; each task's
tags go to the task_tags spool as it is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Iterator

from todoctl.core.seed.pools import DAY, NULL, TIMESTAMP, uuid_field
from todoctl.core.seed.rows.draw import CHUNK_ROWS, field_count
from todoctl.core.seed.rows.task_tags import task_tag_rows

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator


def tasks(gen: "Generator", task_tags: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Tasks as COPY chunks; their task_tags rows go to ``task_tags`` (a spool file) and their
    number to ``gen.counts["task_tags"]``."""
    rng = gen.rng("tasks")
    r, bits = rng.random, rng.getrandbits
    p, pools, now = gen.profile, gen.pools, gen.now
    header, tt_header = field_count("tasks"), field_count("task_tags")
    titles, descriptions, estimates = pools.titles, pools.descriptions, pools.estimates
    n_titles, n_descriptions = len(titles), len(descriptions)
    statuses, status_text, priorities, tag_counts = pools.statuses, pools.status_text, pools.priorities, pools.tag_counts
    pending, completed, overdue = status_text["pending"], status_text["completed"], status_text["overdue"]
    p_desc, p_due, p_est, p_list = (
        p.description_probability, p.due_date_probability, p.estimate_probability, p.in_list_probability
    )
    user_ids, list_ids, tag_ids = gen.user_ids, gen.list_ids, gen.tag_ids
    list_start, tag_start, created_at, tasks_of = gen.list_start, gen.tag_start, gen.user_created, gen.tasks_of
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
                rows = task_tag_rows(r, tag_counts, n_tags, t0, tag_ids, task_id, tt_header)
                tagged += rows
                links += len(rows)
            if len(out) == CHUNK_ROWS:
                task_tags.write(b"".join(tagged))
                tagged = []
                yield b"".join(out), len(out)
                out = []
    task_tags.write(b"".join(tagged))
    gen.counts["task_tags"] = links
    if out:
        yield b"".join(out), len(out)

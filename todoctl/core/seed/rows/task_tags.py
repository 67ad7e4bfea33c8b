"""The task_tags table: the tags of one task, drawn from the tasks stream as each task is drawn."""

from __future__ import annotations

from typing import Callable, Sequence


def task_tag_rows(
    r: Callable[[], float], tag_counts: Sequence[int], n_tags: int, t0: int, tag_ids: bytearray, task_id: bytes,
    header: bytes,
) -> list[bytes]:
    """How many tags (from the profile's weights, at most the user's ``n_tags``), then that
    many distinct tags of the user: consecutive from a random start. ``r`` is the tasks
    stream, so the draws here are part of it (and their order fixed)."""
    k = min(tag_counts[int(r() * len(tag_counts))], n_tags)
    if not k:
        return []
    first = int(r() * n_tags)
    rows = []
    for j in range(k):
        t = t0 + (first + j) % n_tags
        rows.append(header + task_id + tag_ids[20 * t : 20 * t + 20])
    return rows

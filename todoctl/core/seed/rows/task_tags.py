"""The task_tags table: the tags of each task, drawn with its chunk of tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from todoctl.core.seed.rows.draw import field_count

if TYPE_CHECKING:
    import numpy as np

    from todoctl.core.seed.rows.generator import Generator

ROW_BYTES = 2 + 20 + 20  # header, task id, tag id


def task_tag_rows(gen: "Generator", owner: "np.ndarray", task_id: "np.ndarray", u_count, u_first) -> bytes:
    """Per task, how many tags (from the profile's weights, at most its user's number of tags),
    then that many distinct tags of the user, consecutive from a random start: binary COPY rows.
    ``u_count`` and ``u_first`` are the tasks chunk's own draws."""
    import numpy as np

    from todoctl.core.seed.rows import encode as e

    counts = gen.encoded.tag_counts
    n_tags = np.diff(gen.tag_start)[owner]
    k = np.minimum(counts[np.floor(u_count * len(counts)).astype(np.int64)], n_tags)
    first = np.floor(u_first * n_tags).astype(np.int64)
    links = int(k.sum())
    task = np.repeat(np.arange(len(owner)), k)
    step = np.arange(links) - np.repeat(np.cumsum(k) - k, k)
    tag = gen.tag_start[owner[task]] + (first[task] + step) % n_tags[task]
    out = np.empty((links, ROW_BYTES), dtype=np.uint8)
    out[:, :2] = e.constant(field_count("task_tags"), 1)
    out[:, 2:22] = task_id[task]
    out[:, 22:] = gen.tag_ids[tag]
    return out.tobytes()

"""The task_lists table: each user's lists, distinct names from the word list, with their position."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.rows.draw import named_rows

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator


def task_lists(gen: "Generator") -> Iterator[tuple[bytes, int]]:
    """The lists; their ids (and each user's range of them) are kept on ``gen`` for tasks."""

    def keep(ids, starts) -> None:
        gen.list_ids, gen.list_start = ids, starts

    return named_rows(gen, "task_lists", gen.lists_of, gen.encoded.list_names, True, keep)

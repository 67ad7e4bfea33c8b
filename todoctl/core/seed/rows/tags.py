"""The tags table: each user's tags, distinct names from the word list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.rows.draw import named_rows

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator


def tags(gen: "Generator") -> Iterator[tuple[bytes, int]]:
    """The tags; their ids (and each user's range of them) are kept on ``gen`` for task_tags."""

    def keep(ids, starts) -> None:
        gen.tag_ids, gen.tag_start = ids, starts

    return named_rows(gen, "tags", gen.tags_of, gen.encoded.tag_names, False, keep)

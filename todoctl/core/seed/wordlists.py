"""The word lists in ``seeds/words/``, read once per process.

Its own module, below ``pools`` and ``text`` (both read lists; pools composes texts): each
imports it, and neither imports the other back.
"""

from __future__ import annotations

from functools import lru_cache

from todoctl import paths


@lru_cache(maxsize=None)
def words(name: str) -> tuple[str, ...]:
    """A word list from ``seeds/words/NAME.txt``: one entry a line, ``#`` comments skipped."""
    path = paths.seeds_dir() / "words" / f"{name}.txt"
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))

"""Values with structure: JSON documents and arrays, their items drawn by the item's type."""

from __future__ import annotations

import todoctl.core.seed.generators as g


def documents(sources, words: list[str], size: int) -> list:
    """Small JSON objects: settings-like for settings/preferences/config, a list of words for
    tags/labels, otherwise a few keys of the vocabulary with mixed values."""
    rng = sources.rng("json/" + "_".join(words))
    vocabulary = [w for w in sources.vocabulary() if w.isalpha()] or ["value"]
    wordset = set(words)
    out = []
    for _ in range(min(size, 512)):
        if wordset & {"tags", "labels", "keywords", "categories"}:
            out.append(rng.sample(vocabulary, k=rng.randint(0, 4)))
        elif wordset & {"settings", "preferences", "prefs", "config", "configuration", "options"}:
            out.append({
                "theme": rng.choice(["light", "dark", "system"]),
                "notifications": rng.random() < 0.7,
                "language": rng.choice(["en", "de", "fr", "es", "ja"]),
                "items_per_page": rng.choice([10, 20, 50, 100]),
            })  # fmt: skip
        else:
            doc = {}
            for key in rng.sample(vocabulary, k=rng.randint(1, 4)):
                roll = rng.random()
                doc[key.lower()] = (rng.randint(0, 1000) if roll < 0.35 else rng.random() < 0.5 if roll < 0.5
                                    else rng.choice(vocabulary))  # fmt: skip
            out.append(doc)
    return out


def array(column, pool: int, words: list[str]) -> g.Gen | None:
    item = column.item

    def make(sources):
        rng = sources.rng(f"array/{column.name}")
        out = []
        for _ in range(min(pool, 512)):
            k = rng.choice((0, 1, 1, 2, 2, 3, 4))
            out.append([_item_value(sources, rng, item) for _ in range(k)])
        return out

    if item is None or item.kind is None:
        return None
    return g.Computed(column, f"arrays of 0-4 {item.kind} values", make, late=True)


def _item_value(sources, rng, item):
    kind = item.kind
    if item.enum_values:
        return rng.choice(item.enum_values)
    if kind == "text":
        words = [w for w in sources.vocabulary() if w.isalpha()][:200] or ["value"]
        value = rng.choice(words).lower()
        return value[: item.length] if item.length else value
    if kind in ("int2", "int4", "int8"):
        return rng.randint(1, 100)
    if kind in ("float4", "float8"):
        return round(rng.uniform(0, 100), 3)
    if kind == "numeric":
        from decimal import Decimal

        return Decimal(rng.randint(0, 100_000)) / 100
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "uuid":
        import uuid

        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind in ("date", "timestamp", "timestamptz"):
        from datetime import datetime, timedelta, timezone

        return datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
    return rng.choice(sources.vocabulary())

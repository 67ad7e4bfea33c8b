"""Which indexes another index makes unnecessary: one rule for `schema lint` and `health`.

- duplicate: the same definition as another index (every write maintains both); the one that
  backs a constraint, else the first by name, is kept.
- redundant: a non-unique btree index whose keys lead another btree index with the same
  predicate, operator classes and order (the wider one answers the same lookups).
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.core.catalog.details import IndexDetail

DUPLICATE = "duplicate-index"
REDUNDANT = "redundant-index"


@dataclass(frozen=True)
class Overlap:
    kind: str  # DUPLICATE | REDUNDANT
    index: IndexDetail  # the one that could go
    covered_by: IndexDetail


def _signature(index: IndexDetail) -> tuple:
    return (index.method, index.columns, index.key_options, index.include, index.predicate, index.expressions, index.unique)


def _leads(shorter: IndexDetail, longer: IndexDetail) -> bool:
    """Are ``shorter``'s keys the leading keys of ``longer`` (same kind, same rows indexed)?"""
    if shorter.method != "btree" or longer.method != "btree":
        return False
    if shorter.expressions or longer.expressions or shorter.include:
        return False
    if shorter.predicate != longer.predicate:
        return False
    n = len(shorter.columns)
    return (
        n <= len(longer.columns)
        and longer.columns[:n] == shorter.columns
        and longer.key_options[:n] == shorter.key_options
    )


def overlaps(indexes: list[IndexDetail]) -> list[Overlap]:
    """Duplicate and redundant indexes among valid ones, table by table; each index reported once."""
    out: list[Overlap] = []
    by_table: dict[str, list[IndexDetail]] = {}
    for index in indexes:
        if index.valid:
            by_table.setdefault(index.table, []).append(index)
    for group in by_table.values():
        reported: set[str] = set()
        # Keep the index that backs a constraint, else the first by name; report the other.
        group = sorted(group, key=lambda i: (i.constraint is None, i.name))
        for keep_pos, keep in enumerate(group):
            for other in group[keep_pos + 1 :]:
                if other.name in reported or keep.name in reported:
                    continue
                if _signature(keep) == _signature(other):
                    reported.add(other.name)
                    out.append(Overlap(DUPLICATE, other, keep))
        for index in group:
            if index.name in reported or index.unique or index.constraint:
                continue
            wider = next(
                (
                    o
                    for o in group
                    if o.name != index.name
                    and o.name not in reported
                    and _signature(o) != _signature(index)
                    and _leads(index, o)
                ),
                None,
            )
            if wider is not None:
                reported.add(index.name)
                out.append(Overlap(REDUNDANT, index, wider))
    return out

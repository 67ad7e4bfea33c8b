"""What a reviewer would point at in a plan, each with the one statement that fixes it.

Pure functions over PlanNode trees: no database, no printing. Thresholds are documented in the
docs/commands/explain.md; what each finding suggests (an index, ANALYZE, work_mem) is built in
:mod:`todoctl.core.explain.fixes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.core.explain.fixes import (
    avoidable_sort,
    filter_columns,
    filter_hint,
    misestimate_hint,
    order_keys,
    suggest_index,
    suggest_mem,
)
from todoctl.core.explain.plan import (
    LARGE_TABLE_ROWS,
    SELECTIVE_FILTER,
    IndexInfo,
    PlanNode,
    parents_of,
    relation_rows,
    sort_input,
    tables_of,
)

# Thresholds for findings (documented in docs/commands/explain.md).
MISESTIMATE_FACTOR = 10.0
MISESTIMATE_MIN_ROWS = 100  # a 1-vs-12 rows "misestimate" is noise
REMOVED_MIN_ROWS = 1000
REMOVED_SHARE = 0.90
FINE_SORT_ROWS = 500  # a Sort of at most this many rows costs well under a millisecond: not worth a finding


@dataclass(frozen=True)
class Finding:
    kind: str  # seq-scan | misestimate | spill | filter-removed | avoidable-sort | missing-index
    node: str  # the node's label (or the index's name)
    message: str
    hint: str  # what fixes it (a finding nothing would fix is not reported)
    sql: str = ""  # the one statement in the hint, to run as printed (empty when the fix is not SQL)


def findings(
    root: PlanNode,
    table_rows: dict[str, float],
    indexes: dict[str, list[IndexInfo]] | None = None,
    *,
    large_rows: int = LARGE_TABLE_ROWS,
    stale: set[str] | None = None,
) -> list[Finding]:
    """What a reviewer would point at, each with a hint that fixes it (never to build an index that exists).

    ``stale`` names the tables whose statistics are stale (see ``core.explain``): ANALYZE is suggested
    only for those, and a finding that neither an index nor ANALYZE would fix is left out. ``None``
    means unknown: ANALYZE is then offered as a possibility.
    """
    indexes = indexes or {}
    found: list[Finding] = []
    flagged_seq: set[int] = set()
    # Below a Limit, a node stops early: reading fewer rows than estimated is the point, not a misestimate.
    under_limit = {id(n) for top in root.walk() if top.node_type == "Limit" for n in top.walk() if n is not top}
    misestimated = _misestimated(root, under_limit)
    parents = parents_of(root)
    for node in root.walk():
        rows = relation_rows(node, table_rows) if node.relation else 0
        # A sequential scan of a large table that keeps few of the rows it reads.
        if node.node_type in ("Seq Scan", "Parallel Seq Scan") and rows >= large_rows and "Filter" in node.conditions:
            kept = node.rows_total if node.executed else node.plan_rows
            read = (kept or 0) + (node.rows_removed_by_filter or 0) if node.executed else rows
            if read and (kept or 0) / read <= SELECTIVE_FILTER:
                equal, other = filter_columns(node.conditions["Filter"], btree=True)
                keys = order_keys(parents.get(id(node)))
                columns = [c for c in equal if c not in keys] + keys + [c for c in other if c not in keys]
                flagged_seq.add(id(node))
                fix = suggest_index(
                    node.relation, columns, indexes, rows, "an index scan would read only the matching rows", stale
                )
                if fix:
                    found.append(
                        Finding(
                            "seq-scan",
                            node.label,
                            f"sequential scan of {node.relation} ({int(rows):,} rows) keeps "
                            f"{_pct((kept or 0) / read)} of the rows it reads",
                            fix.hint,
                            fix.sql,
                        )
                    )
        # Rows thrown away by a filter after being read.
        removed = node.rows_removed_by_filter or 0
        if id(node) not in flagged_seq and removed >= REMOVED_MIN_ROWS:
            kept = node.rows_total or 0
            fix = filter_hint(node, indexes, table_rows, stale, order_keys(parents.get(id(node))))
            if removed / (removed + kept) >= REMOVED_SHARE and fix:
                found.append(
                    Finding(
                        "filter-removed",
                        node.label,
                        f"the filter removed {int(removed):,} rows and kept {int(kept):,} "
                        f"({_pct(removed / (removed + kept))} thrown away)",
                        fix.hint,
                        fix.sql,
                    )
                )
        # The planner's row estimate was off by an order of magnitude.
        fix = misestimate_hint(tables_of(node, parents), stale) if id(node) in misestimated else None
        if fix:
            factor = node.misestimate
            actual, estimate = node.actual_rows or 0, node.plan_rows
            direction = "under" if node.under_estimated else "over"
            found.append(
                Finding(
                    "misestimate",
                    node.label,
                    f"estimated {int(estimate):,} rows, got {int(actual):,} ({direction}estimated {factor:g}x)",
                    fix.hint,
                    fix.sql,
                )
            )
        # A sort or hash that did not fit in work_mem.
        if node.spilled:
            what = "sort" if node.node_type in ("Sort", "Incremental Sort") else "hash"
            size = (node.sort_space_bytes or node.disk_bytes or 0) // 1024
            found.append(
                Finding(
                    "spill",
                    node.label,
                    f"the {what} spilled to disk"
                    + (f" ({size:,} kB)" if size else "")
                    + (f" in {node.hash_batches} batches" if (node.hash_batches or 0) > 1 else ""),
                    f"SET work_mem = '{suggest_mem(size)}' in the session that runs it "
                    "(or make the input smaller with a more selective index)",
                    f"SET work_mem = '{suggest_mem(size)}'",
                )
            )
        # A Sort directly over one table's scan whose keys are plain columns: an index can deliver that order.
        # A top-N of a few hundred rows is what the planner should pick over an index walk.
        if node.node_type in ("Sort", "Incremental Sort") and node.children and sort_input(node) > FINE_SORT_ROWS:
            fix = avoidable_sort(node, indexes, table_rows, stale)
            if fix:
                found.append(
                    Finding(
                        "avoidable-sort",
                        node.label + f" by {', '.join(node.sort_key)}",
                        f"{int(sort_input(node)):,} rows are sorted after the scan ({node.sort_method or 'sort'}"
                        + (f", {node.sort_space_bytes // 1024:,} kB" if node.sort_space_bytes else "")
                        + ")",
                        fix.hint,
                        fix.sql,
                    )
                )
    return found


def misestimated(root: PlanNode, factor: float = MISESTIMATE_FACTOR) -> list[PlanNode]:
    """Nodes where a row estimate first went wrong by ``factor`` (see ``_misestimated``), in plan order."""
    under_limit = {id(n) for top in root.walk() if top.node_type == "Limit" for n in top.walk() if n is not top}
    chosen = _misestimated(root, under_limit, factor)
    return [n for n in root.walk() if id(n) in chosen]


def _misestimated(root: PlanNode, under_limit: set[int], threshold: float = MISESTIMATE_FACTOR) -> set[int]:
    """Nodes where a row estimate first went wrong by MISESTIMATE_FACTOR (not every node above that inherits it)."""
    marked: set[int] = set()
    reported: set[int] = set()
    for node in _post_order(root):
        factor = node.misestimate
        if factor is None or factor < threshold:
            continue
        inherited = any(id(child) in marked for child in node.children)
        marked.add(id(node))
        if inherited or (not node.under_estimated and id(node) in under_limit):
            continue
        if max(node.actual_rows or 0, node.plan_rows) >= MISESTIMATE_MIN_ROWS:
            reported.add(id(node))
    return reported


def _post_order(node: PlanNode):
    for child in node.children:
        yield from _post_order(child)
    yield node


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"

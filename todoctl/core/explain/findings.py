"""What a reviewer would point at in a plan, each with the one statement that fixes it.

Pure functions over PlanNode trees: no database, no printing. Thresholds are documented in the
README's explain section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from todoctl.core.explain.plan import (
    LARGE_TABLE_ROWS,
    SCAN_TYPES,
    SELECTIVE_FILTER,
    IndexInfo,
    PlanNode,
    parents_of,
    relation_rows,
    sort_input,
    tables_of,
)

# Thresholds for findings (documented in the README's Explain section).
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


@dataclass(frozen=True)
class Fix:
    hint: str
    sql: str = ""


_QUOTED = re.compile(r"'(?:[^']|'')*'")


# A column (or lower()/upper() of one, as an expression index holds it), its cast, and the operator.
_COLUMN_OP = re.compile(
    r"(?:\b(lower|upper)\()?\(*(?:[a-z_][a-z0-9_]*\.)?([a-z_][a-z0-9_]*)\)*(?:::[a-z ]+(?:\(\d+\))?)?\)*\s*"
    r"(=|<>|<=|>=|<|>|~~\*?|@@)"
)


_PLAIN_KEY = re.compile(r"^\(?(?:[a-z_][a-z0-9_]*\.)?([a-z_][a-z0-9_]*)\)?(\s+DESC)?$")


_NOT_BTREE = ("@@", "~~", "~~*")  # full-text and LIKE matches: a B-tree on the column does not serve them


def filter_columns(expression: str, *, btree: bool = False) -> tuple[list[str], list[str]]:
    """Columns compared in a condition: (equality columns, range/other columns), in order of appearance.

    ``btree``: only comparisons a B-tree index can serve (for CREATE INDEX suggestions).
    """
    stripped = _QUOTED.sub("", expression or "")
    equal: list[str] = []
    other: list[str] = []
    for match in _COLUMN_OP.finditer(stripped):
        function, column, op = match.group(1), match.group(2), match.group(3)
        if column in ("lower", "upper", "now", "and", "or", "not"):
            continue
        if function:
            column = f"{function}({column})"
        if btree and op in _NOT_BTREE:
            continue
        target = equal if op == "=" else other
        if column not in equal and column not in other:
            target.append(column)
    return equal, other


def _index_hint(relation: str, columns: list[str]) -> str:
    return f"CREATE INDEX CONCURRENTLY ON {relation} ({', '.join(columns)})"


def _scan_conditions(node: PlanNode) -> str:
    keys = ("Index Cond", "Recheck Cond", "Filter")
    parts = [node.conditions[k] for k in keys if k in node.conditions]
    for child in node.children:  # a Bitmap Heap Scan's conditions live on its Bitmap Index Scan
        if child.node_type in ("Bitmap Index Scan", "BitmapAnd", "BitmapOr"):
            parts.append(_scan_conditions(child))
    return " AND ".join(p for p in parts if p)



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
                keys = _order_keys(parents.get(id(node)))
                columns = [c for c in equal if c not in keys] + keys + [c for c in other if c not in keys]
                flagged_seq.add(id(node))
                fix = _suggest_index(
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
            fix = _filter_hint(node, indexes, table_rows, stale, _order_keys(parents.get(id(node))))
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
        fix = _misestimate_hint(tables_of(node, parents), stale) if id(node) in misestimated else None
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
            size = node.sort_space_kb or node.disk_kb or 0
            found.append(
                Finding(
                    "spill",
                    node.label,
                    f"the {what} spilled to disk"
                    + (f" ({size:,} kB)" if size else "")
                    + (f" in {node.hash_batches} batches" if (node.hash_batches or 0) > 1 else ""),
                    f"SET work_mem = '{_suggest_mem(size)}' in the session that runs it "
                    "(or make the input smaller with a more selective index)",
                    f"SET work_mem = '{_suggest_mem(size)}'",
                )
            )
        # A Sort directly over one table's scan whose keys are plain columns: an index can deliver that order.
        # A top-N of a few hundred rows is what the planner should pick over an index walk.
        if node.node_type in ("Sort", "Incremental Sort") and node.children and sort_input(node) > FINE_SORT_ROWS:
            fix = _avoidable_sort(node, indexes, table_rows, stale)
            if fix:
                found.append(
                    Finding(
                        "avoidable-sort",
                        node.label + f" by {', '.join(node.sort_key)}",
                        f"{int(sort_input(node)):,} rows are sorted after the scan ({node.sort_method or 'sort'}"
                        + (f", {node.sort_space_kb:,} kB" if node.sort_space_kb else "")
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


def _suggest_index(
    relation: str,
    columns: list[str],
    indexes: dict[str, list[IndexInfo]],
    rows: float,
    why: str,
    stale: set[str] | None = None,
) -> Fix | None:
    """CREATE INDEX for these columns; when an index already leads with them, ANALYZE if the
    statistics are stale, else None (the planner knowingly preferred this plan: nothing to fix)."""
    if not columns:
        return None
    for index in indexes.get(relation, []):
        if _covers(index, columns):
            if stale is None:
                return Fix(
                    f"{index.name} already has ({', '.join(index.columns)}); the planner preferred this plan, "
                    f"perhaps because {relation} is small ({int(rows):,} rows) or its statistics are stale: ANALYZE {relation}",
                    f"ANALYZE {relation}",
                )
            if relation in stale:
                return Fix(f"ANALYZE {relation}: its statistics are stale, and {index.name} already has these columns", f"ANALYZE {relation}")
            return None
    sql = _index_hint(relation, columns)
    return Fix(f"{sql}: {why}", sql)


def _covers(index: IndexInfo, columns: list[str]) -> bool:
    """Whether an index leads with these columns; a partial one may hold the equalities in its WHERE
    (``ix (due_date) WHERE status = 'pending'`` covers ``status, due_date``)."""
    fixed = filter_columns(index.predicate)[0] if index.partial else []
    if index.partial and not fixed:
        return False
    rest = [c for c in columns if c not in fixed]
    return bool(rest) and [_plain(c) for c in index.columns[: len(rest)]] == [_plain(c) for c in rest]


def _plain(column: str) -> str:
    """``lower((email)::text)`` and ``lower(email)`` alike: no casts, quotes, spaces or extra parentheses."""
    text = re.sub(r"::[a-z ]+", "", column).replace('"', "").replace(" ", "")
    return re.sub(r"\(\(([a-z_][a-z0-9_]*)\)\)", r"(\1)", text)


def _order_keys(parent: PlanNode | None) -> list[str]:
    """The plain-column keys of a Sort directly above a scan (an index could deliver that order)."""
    if parent is None or parent.node_type not in ("Sort", "Incremental Sort"):
        return []
    keys = []
    for key in parent.sort_key:
        match = _PLAIN_KEY.match(key.strip())
        if not match or match.group(2):
            return []
        keys.append(match.group(1))
    return keys


def _filter_hint(
    node: PlanNode, indexes: dict[str, list[IndexInfo]], table_rows: dict[str, float], stale: set[str] | None, keys: list[str]
) -> Fix | None:
    """An index holding the filter's columns too, so the rows it throws away are never read."""
    if not node.relation:
        return None
    equal, other = filter_columns(_scan_conditions(node), btree=True)
    used = next((i for i in indexes.get(node.relation, []) if i.name == node.index), None)
    if used is not None and used.partial:  # the partial index's WHERE is part of what the query asks
        equal += [c for c in filter_columns(used.predicate)[0] if c not in equal]
    if used is not None and not keys:  # an index scan's own order is what the query asked for: keep it last
        keys = [c.strip('"') for c in used.columns if _PLAIN_KEY.match(c) and c.strip('"') not in equal]
    columns = [c for c in equal if c not in keys] + keys + [c for c in other if c not in keys and c not in equal]
    return _suggest_index(
        node.relation, columns, indexes, relation_rows(node, table_rows), "the rows the filter drops are never read", stale
    )


def _misestimate_hint(relations: list[str], stale: set[str] | None) -> Fix | None:
    """ANALYZE the stale tables under a misestimated node; nothing when the statistics are fresh
    (a per-loop estimate of a skewed join key, say, is not something ANALYZE changes)."""
    if stale is None:
        return Fix(
            f"ANALYZE {', '.join(relations) or 'the tables involved'}; if it persists, raise the statistics target "
            "(ALTER TABLE ... ALTER COLUMN ... SET STATISTICS 1000) or CREATE STATISTICS on correlated columns",
            f"ANALYZE {', '.join(relations)}" if relations else "",
        )
    stale_here = [r for r in relations if r in stale]
    if not stale_here:
        return None
    sql = f"ANALYZE {', '.join(stale_here)}"
    return Fix(f"{sql}: the statistics are stale", sql)


def _avoidable_sort(
    sort: PlanNode, indexes: dict[str, list[IndexInfo]], table_rows: dict[str, float], stale: set[str] | None = None
) -> Fix | None:
    scan = sort.children[0]
    if scan.node_type not in SCAN_TYPES or not scan.relation:
        return None
    keys = []
    for key in sort.sort_key:
        match = _PLAIN_KEY.match(key.strip())
        if not match:
            return None
        keys.append(match.group(1) + (" DESC" if match.group(2) else ""))
    equal, _ = filter_columns(_scan_conditions(scan), btree=True)
    columns = [c for c in equal if c not in keys] + keys
    return _suggest_index(
        scan.relation,
        columns,
        indexes,
        relation_rows(scan, table_rows),
        "the index returns the rows already in order",
        stale,
    )


def _suggest_mem(kb: int) -> str:
    mb = max(8, 2 ** max(3, (int(kb * 2 / 1024) or 1).bit_length()))
    return f"{mb}MB"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"

"""The fix for a finding: the columns a condition compares, the index that would serve it (never one that exists), ANALYZE when statistics are stale, work_mem for a spill."""

from __future__ import annotations

import re
from dataclasses import dataclass

from todoctl.core.explain.plan import (
    SCAN_TYPES,
    IndexInfo,
    PlanNode,
    relation_rows,
)
from todoctl.core.sql_names import ident, idents, keys


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
    return f"CREATE INDEX CONCURRENTLY ON {ident(relation)} ({keys(columns)})"


def _scan_conditions(node: PlanNode) -> str:
    keys = ("Index Cond", "Recheck Cond", "Filter")
    parts = [node.conditions[k] for k in keys if k in node.conditions]
    for child in node.children:  # a Bitmap Heap Scan's conditions live on its Bitmap Index Scan
        if child.node_type in ("Bitmap Index Scan", "BitmapAnd", "BitmapOr"):
            parts.append(_scan_conditions(child))
    return " AND ".join(p for p in parts if p)


def suggest_index(
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
                    f"perhaps because {relation} is small ({int(rows):,} rows) or its statistics are stale: ANALYZE {ident(relation)}",
                    f"ANALYZE {ident(relation)}",
                )
            if relation in stale:
                return Fix(
                    f"ANALYZE {ident(relation)}: its statistics are stale, and {index.name} already has these columns",
                    f"ANALYZE {ident(relation)}",
                )
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


def order_keys(parent: PlanNode | None) -> list[str]:
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


def filter_hint(
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
    return suggest_index(
        node.relation, columns, indexes, relation_rows(node, table_rows), "the rows the filter drops are never read", stale
    )


def misestimate_hint(relations: list[str], stale: set[str] | None) -> Fix | None:
    """ANALYZE the stale tables under a misestimated node; nothing when the statistics are fresh
    (a per-loop estimate of a skewed join key, say, is not something ANALYZE changes)."""
    if stale is None:
        return Fix(
            f"ANALYZE {idents(relations) or 'the tables involved'}; if it persists, raise the statistics target "
            "(ALTER TABLE ... ALTER COLUMN ... SET STATISTICS 1000) or CREATE STATISTICS on correlated columns",
            f"ANALYZE {idents(relations)}" if relations else "",
        )
    stale_here = [r for r in relations if r in stale]
    if not stale_here:
        return None
    sql = f"ANALYZE {idents(stale_here)}"
    return Fix(f"{sql}: the statistics are stale", sql)


def avoidable_sort(
    sort: PlanNode, indexes: dict[str, list[IndexInfo]], table_rows: dict[str, float], stale: set[str] | None = None
) -> Fix | None:
    scan = sort.children[0]
    # A gating Result (One-Time Filter, e.g. an uncorrelated EXISTS) passes the scan's rows through unchanged.
    while scan.node_type == "Result" and len(scan.children) == 1:
        scan = scan.children[0]
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
    return suggest_index(
        scan.relation,
        columns,
        indexes,
        relation_rows(scan, table_rows),
        "the index returns the rows already in order",
        stale,
    )


def suggest_mem(kb: int) -> str:
    mb = max(8, 2 ** max(3, (int(kb * 2 / 1024) or 1).bit_length()))
    return f"{mb}MB"

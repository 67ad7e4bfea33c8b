"""PostgreSQL's EXPLAIN (FORMAT JSON) plan as dataclasses, and the findings todoctl draws from it.

Pure functions over the plan document: no database, no printing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Thresholds for findings (documented in the README's Explain section).
MISESTIMATE_FACTOR = 10.0
MISESTIMATE_MIN_ROWS = 100  # a 1-vs-12 rows "misestimate" is noise
SELECTIVE_FILTER = 0.10  # a scan keeping at most 10% of the rows it reads wants an index
REMOVED_MIN_ROWS = 1000
REMOVED_SHARE = 0.90
LARGE_TABLE_ROWS = 10_000
FINE_SORT_ROWS = 500  # a Sort of at most this many rows costs well under a millisecond: not worth a finding

SCAN_TYPES = {
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "Tid Scan",
    "Tid Range Scan",
}


@dataclass
class PlanNode:
    node_type: str
    relation: str | None = None
    alias: str | None = None
    index: str | None = None
    parent_relationship: str | None = None
    operation: str | None = None  # ModifyTable: Insert | Update | Delete | Merge
    join_type: str | None = None
    strategy: str | None = None
    plan_rows: float = 0.0
    plan_width: int = 0
    startup_cost: float = 0.0
    total_cost: float = 0.0
    actual_startup: float | None = None  # ms, per loop, as PostgreSQL prints it
    actual_total: float | None = None  # ms, per loop
    # Measured (None when planned without ANALYZE, or the node never ran).
    actual_rows: float | None = None  # per loop
    loops: int | None = None
    actual_ms: float | None = None  # inclusive, all loops
    exclusive_ms: float | None = None
    share: float | None = None  # exclusive_ms / the plan's total time
    shared_hit: int | None = None  # inclusive of children, as PostgreSQL reports buffers
    shared_read: int | None = None
    temp_read: int | None = None
    temp_written: int | None = None
    rows_removed_by_filter: float | None = None  # all loops
    rows_removed_by_recheck: float | None = None
    sort_method: str | None = None
    sort_space_kb: int | None = None
    sort_space_type: str | None = None  # Memory | Disk
    hash_batches: int | None = None
    peak_memory_kb: int | None = None
    disk_kb: int | None = None
    conditions: dict[str, str] = field(default_factory=dict)  # Index Cond, Filter, Hash Cond, ...
    sort_key: list[str] = field(default_factory=list)
    children: list["PlanNode"] = field(default_factory=list)

    __json_properties__ = ("label", "misestimate")

    @property
    def label(self) -> str:
        """``Index Scan using ix on tasks``: the node as PostgreSQL's text format names it."""
        name = self.operation if self.node_type == "ModifyTable" and self.operation else self.node_type
        if self.strategy and self.node_type == "Aggregate":
            name = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}.get(
                self.strategy, name
            )
        if self.join_type and self.join_type != "Inner":
            if name == "Nested Loop":
                name += f" {self.join_type} Join"
            elif name.endswith(" Join"):
                name = f"{name[:-5]} {self.join_type} Join"
        if self.index:
            name += f" using {self.index}"
        if self.relation:
            name += f" on {self.relation}" + (f" {self.alias}" if self.alias and self.alias != self.relation else "")
        return name

    @property
    def executed(self) -> bool:
        return bool(self.loops)

    @property
    def rows_total(self) -> float | None:
        return None if self.actual_rows is None or self.loops is None else self.actual_rows * self.loops

    @property
    def misestimate(self) -> float | None:
        """How far the planner's row estimate was off, as a factor ≥ 1 (None when not measured)."""
        if not self.executed or self.actual_rows is None:
            return None
        actual = max(self.actual_rows, 1.0)
        estimate = max(self.plan_rows, 1.0)
        return round(max(actual, estimate) / min(actual, estimate), 1)

    @property
    def under_estimated(self) -> bool:
        return (self.actual_rows or 0) > self.plan_rows

    @property
    def spilled(self) -> bool:
        return (
            self.sort_space_type == "Disk"
            or (self.sort_method or "").startswith("external")
            or (self.hash_batches or 0) > 1
            or (self.disk_kb or 0) > 0
        )

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: list[str]  # key columns or expressions, in order
    partial: bool = False
    predicate: str = ""  # a partial index's WHERE, as pg_get_expr prints it


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


# ---------------------------------------------------------------- parsing


def _num(value) -> float | None:
    return None if value is None else float(value)


def _int(value) -> int | None:
    return None if value is None else int(value)


_CONDITION_KEYS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "Group Key",
    "TID Cond",
    "Subplan Name",
)


def parse_node(raw: dict) -> PlanNode:
    loops = _int(raw.get("Actual Loops"))
    node = PlanNode(
        node_type=raw["Node Type"],
        relation=raw.get("Relation Name"),
        alias=raw.get("Alias"),
        index=raw.get("Index Name"),
        parent_relationship=raw.get("Parent Relationship"),
        operation=raw.get("Operation"),
        join_type=raw.get("Join Type"),
        strategy=raw.get("Strategy"),
        plan_rows=float(raw.get("Plan Rows", 0)),
        plan_width=int(raw.get("Plan Width", 0)),
        startup_cost=float(raw.get("Startup Cost", 0)),
        total_cost=float(raw.get("Total Cost", 0)),
        actual_startup=_num(raw.get("Actual Startup Time")),
        actual_total=_num(raw.get("Actual Total Time")),
        actual_rows=_num(raw.get("Actual Rows")) if loops else (0.0 if loops == 0 else None),
        loops=loops,
        actual_ms=(float(raw["Actual Total Time"]) * loops) if loops and "Actual Total Time" in raw else (
            0.0 if loops == 0 else None
        ),
        shared_hit=_int(raw.get("Shared Hit Blocks")),
        shared_read=_int(raw.get("Shared Read Blocks")),
        temp_read=_int(raw.get("Temp Read Blocks")),
        temp_written=_int(raw.get("Temp Written Blocks")),
        rows_removed_by_filter=_removed(raw, "Rows Removed by Filter", loops),
        rows_removed_by_recheck=_removed(raw, "Rows Removed by Index Recheck", loops),
        sort_method=raw.get("Sort Method"),
        sort_space_kb=_int(raw.get("Sort Space Used")),
        sort_space_type=raw.get("Sort Space Type"),
        hash_batches=_int(raw.get("Hash Batches", raw.get("HashAgg Batches"))),
        peak_memory_kb=_int(raw.get("Peak Memory Usage")),
        disk_kb=_int(raw.get("Disk Usage")),
        conditions={
            key: (", ".join(raw[key]) if isinstance(raw[key], list) else str(raw[key]))
            for key in _CONDITION_KEYS
            if key in raw
        },
        sort_key=list(raw.get("Sort Key", [])),
        children=[parse_node(child) for child in raw.get("Plans", [])],
    )
    return node


def _removed(raw: dict, key: str, loops: int | None) -> float | None:
    if key not in raw:
        return None
    return float(raw[key]) * (loops or 1)


def parse(document: list | dict) -> tuple[PlanNode, float | None, float | None]:
    """The root node, planning time and execution time (ms) of an EXPLAIN (FORMAT JSON) result."""
    top = document[0] if isinstance(document, list) else document
    root = parse_node(top["Plan"])
    planning = _num(top.get("Planning Time"))
    execution = _num(top.get("Execution Time"))
    _times(root, execution)
    return root, planning, execution


def _times(root: PlanNode, execution_ms: float | None) -> None:
    """Exclusive time (a node's own, children subtracted) and its share of the whole."""
    if root.actual_ms is None:
        return
    for node in root.walk():
        if node.actual_ms is None:
            continue
        below = sum(child.actual_ms or 0.0 for child in node.children if child.parent_relationship != "InitPlan")
        node.exclusive_ms = round(max(node.actual_ms - below, 0.0), 4)
    total = max(execution_ms or 0.0, root.actual_ms or 0.0, 1e-9)
    for node in root.walk():
        if node.exclusive_ms is not None:
            node.share = round(min(node.exclusive_ms / total, 1.0), 4)


# ---------------------------------------------------------------- findings


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


def _relation_rows(node: PlanNode, table_rows: dict[str, float]) -> float:
    known = table_rows.get(node.relation or "", -1)
    if known is not None and known >= 0:
        return known
    seen = (node.rows_total or 0) + (node.rows_removed_by_filter or 0)
    return max(seen, node.plan_rows)


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
        rows = _relation_rows(node, table_rows) if node.relation else 0
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
        node.relation, columns, indexes, _relation_rows(node, table_rows), "the rows the filter drops are never read", stale
    )


def tables_of(node: PlanNode, parents: dict[int, PlanNode]) -> list[str]:
    """The tables a node's rows come from: those scanned below it, or (a Bitmap Index Scan) its heap's."""
    relations = sorted({n.relation for n in node.walk() if n.relation})
    while not relations and id(node) in parents:
        node = parents[id(node)]
        relations = [node.relation] if node.relation else []
    return relations


def parents_of(root: PlanNode) -> dict[int, PlanNode]:
    return {id(child): node for node in root.walk() for child in node.children}


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
        _relation_rows(scan, table_rows),
        "the index returns the rows already in order",
        stale,
    )


def _suggest_mem(kb: int) -> str:
    mb = max(8, 2 ** max(3, (int(kb * 2 / 1024) or 1).bit_length()))
    return f"{mb}MB"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"


# ---------------------------------------------------------------- shape (for baselines)


def scans(root: PlanNode) -> list[dict]:
    """Every table scan: relation, node type and index, in plan order."""
    return [
        {"relation": n.relation, "node_type": n.node_type, "index": n.index}
        for n in root.walk()
        if n.relation and (n.node_type in SCAN_TYPES or n.node_type.startswith("Parallel"))
    ]


def shape(root: PlanNode) -> str:
    """A one-line outline of the plan: ``Limit(Index Scan[tasks])``."""

    def outline(node: PlanNode) -> str:
        name = node.node_type + (f"[{node.relation}]" if node.relation else "")
        if node.children:
            return f"{name}({', '.join(outline(c) for c in node.children)})"
        return name

    return outline(root)


def sort_count(root: PlanNode) -> int:
    return sum(1 for n in root.walk() if n.node_type in ("Sort", "Incremental Sort"))


# ---------------------------------------------------------------- cost (for budgets)

READ_TYPES = SCAN_TYPES - {"Bitmap Index Scan"}  # a bitmap's index entries are counted as its heap rows


def rows_read(root: PlanNode) -> float:
    """Rows the scans produced plus those their filters and rechecks threw away, all loops."""
    return sum(
        (n.rows_total or 0) + (n.rows_removed_by_filter or 0) + (n.rows_removed_by_recheck or 0)
        for n in root.walk()
        if n.relation and (n.node_type in READ_TYPES or n.node_type.startswith("Parallel"))
    )


def rows_returned(root: PlanNode) -> float:
    return root.rows_total or 0.0


def sort_input(sort: PlanNode) -> float:
    """Rows fed into a Sort (its own row count is only the top N it kept)."""
    return sum(child.rows_total or 0 for child in sort.children if child.parent_relationship != "InitPlan")


def rows_sorted(root: PlanNode) -> float:
    """The most rows any one Sort node was fed."""
    return max((sort_input(n) for n in root.walk() if n.node_type in ("Sort", "Incremental Sort")), default=0.0)


def buffers(root: PlanNode) -> int:
    """Shared buffers the whole plan touched (hit + read; PostgreSQL reports them inclusive at the root)."""
    return (root.shared_hit or 0) + (root.shared_read or 0)


def selective_seq_scans(root: PlanNode, table_rows: dict[str, float], large_rows: int) -> list[PlanNode]:
    """Sequential scans of a table of at least ``large_rows`` rows that keep at most SELECTIVE_FILTER of what they read."""
    found = []
    for node in root.walk():
        if node.node_type not in ("Seq Scan", "Parallel Seq Scan") or not node.relation or not node.executed:
            continue
        if _relation_rows(node, table_rows) < large_rows or "Filter" not in node.conditions:
            continue
        kept = node.rows_total or 0
        read = kept + (node.rows_removed_by_filter or 0)
        if read and kept / read <= SELECTIVE_FILTER:
            found.append(node)
    return found

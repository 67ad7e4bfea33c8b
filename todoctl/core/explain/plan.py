"""PostgreSQL's EXPLAIN (FORMAT JSON) plan as dataclasses, and the findings todoctl draws from it.

Pure functions over the plan document: no database, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SELECTIVE_FILTER = 0.10  # a scan keeping at most 10% of the rows it reads wants an index


LARGE_TABLE_ROWS = 10_000


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
    actual_startup_ms: float | None = None  # per loop, as PostgreSQL prints it
    actual_total_ms: float | None = None  # per loop
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
    sort_space_bytes: int | None = None
    sort_space_type: str | None = None  # Memory | Disk
    hash_batches: int | None = None
    peak_memory_bytes: int | None = None
    disk_bytes: int | None = None
    conditions: dict[str, str] = field(default_factory=dict)  # Index Cond, Filter, Hash Cond, ...
    sort_key: list[str] = field(default_factory=list)
    # A Limit above it reached its count and ended it before it returned all its rows (set by parse).
    stopped_by_limit: bool = False
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
            or (self.disk_bytes or 0) > 0
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


def _num(value) -> float | None:
    return None if value is None else float(value)


def _bytes(kilobytes) -> int | None:
    """A size PostgreSQL's EXPLAIN reports in kB, in bytes."""
    value = _int(kilobytes)
    return None if value is None else value * 1024


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
        actual_startup_ms=_num(raw.get("Actual Startup Time")),
        actual_total_ms=_num(raw.get("Actual Total Time")),
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
        sort_space_bytes=_bytes(raw.get("Sort Space Used")),
        sort_space_type=raw.get("Sort Space Type"),
        hash_batches=_int(raw.get("Hash Batches", raw.get("HashAgg Batches"))),
        peak_memory_bytes=_bytes(raw.get("Peak Memory Usage")),
        disk_bytes=_bytes(raw.get("Disk Usage")),
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
    _limits(root)
    return root, planning, execution


# Nodes that read all their input before returning a row: a Limit above them cannot stop what is
# below them (the Sort of an ORDER BY ... LIMIT reads every row its scan returns).
_BLOCKING = {"Sort", "Hash", "Aggregate", "SetOp", "Materialize", "WindowAgg", "Incremental Sort"}


def _limits(root: PlanNode) -> None:
    """Mark the nodes a Limit ended early: below a Limit that returned as many rows as it planned
    (its count was reached), with no blocking node between, and returning fewer rows than the
    planner expected of them (what a node cut short looks like). A Limit that returned fewer rows
    than planned ran out of input: nothing below it was stopped."""

    def visit(node: PlanNode, limit_reached: bool) -> None:
        if limit_reached and node.executed and node.actual_rows is not None and node.actual_rows < node.plan_rows:
            node.stopped_by_limit = True
        if node.node_type == "Limit":
            below = node.executed and node.actual_rows is not None and node.actual_rows >= node.plan_rows
        elif node.node_type in _BLOCKING:
            below = False
        else:
            below = limit_reached
        for child in node.children:
            # An InitPlan or SubPlan runs on its own terms, not pulled by the Limit above.
            visit(child, below and child.parent_relationship not in ("InitPlan", "SubPlan"))

    visit(root, False)


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


def tables_of(node: PlanNode, parents: dict[int, PlanNode]) -> list[str]:
    """The tables a node's rows come from: those scanned below it, or (a Bitmap Index Scan) its heap's."""
    relations = sorted({n.relation for n in node.walk() if n.relation})
    while not relations and id(node) in parents:
        node = parents[id(node)]
        relations = [node.relation] if node.relation else []
    return relations


def parents_of(root: PlanNode) -> dict[int, PlanNode]:
    return {id(child): node for node in root.walk() for child in node.children}


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


READ_TYPES = SCAN_TYPES - {"Bitmap Index Scan"}  # a bitmap's index entries are counted as its heap rows


def _reads(root: PlanNode):
    """(scan node, rows it read: produced plus thrown away by filters and rechecks, all loops)."""
    for n in root.walk():
        if n.relation and (n.node_type in READ_TYPES or n.node_type.startswith("Parallel")):
            yield n, (n.rows_total or 0) + (n.rows_removed_by_filter or 0) + (n.rows_removed_by_recheck or 0)


def rows_read(root: PlanNode) -> float:
    """Rows the scans produced plus those their filters and rechecks threw away, all loops."""
    return sum(read for _, read in _reads(root))


def heaviest_read(root: PlanNode) -> tuple[PlanNode, float] | None:
    """The scan that read the most rows, and how many."""
    return max(_reads(root), key=lambda pair: pair[1], default=None)


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
        if relation_rows(node, table_rows) < large_rows or "Filter" not in node.conditions:
            continue
        kept = node.rows_total or 0
        read = kept + (node.rows_removed_by_filter or 0)
        if read and kept / read <= SELECTIVE_FILTER:
            found.append(node)
    return found

def relation_rows(node: PlanNode, table_rows: dict[str, float]) -> float:
    known = table_rows.get(node.relation or "", -1)
    if known is not None and known >= 0:
        return known
    seen = (node.rows_total or 0) + (node.rows_removed_by_filter or 0)
    return max(seen, node.plan_rows)


"""The plan of a seed run as data: every table's count and shape, every column's generator (plan.py decides it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import todoctl.core.seed.generators as g
import todoctl.core.seed.key_generators as kg
import todoctl.core.seed.hooks as seed_hooks
from todoctl.core.seed.profile_model import FanOut, Profile
import todoctl.core.seed.schema as seed_schema
from todoctl.core.seed.sources import Sources


@dataclass
class ColumnPlan:
    column: seed_schema.Column
    gen: g.Gen | None  # None: left to the server
    null: float = 0.0
    origin: str = ""  # key | reference | profile | check | name | type | server
    note: str = ""

    @property
    def name(self) -> str:
        return self.column.name

    def describe(self) -> str:
        if self.gen is None:
            return self.note
        text = self.gen.describe()
        if self.null > 0 and not isinstance(self.gen, (kg.Tree, g.Null)):
            text += f"; {self.null:.0%} NULL"
        if self.origin == "profile":
            text += " (profile)"
        elif self.origin == "check":
            text += " (CHECK)"
        return text


@dataclass
class TablePlan:
    table: seed_schema.Table
    columns: list[ColumnPlan] = field(default_factory=list)
    count: int = 0
    parent: str | None = None  # the foreign key column naming the parent row
    parent_table: str | None = None
    fan_out: FanOut | None = None
    fixed: int | None = None  # rows asked for (root tables: their count; children: a total)
    starts: np.ndarray | None = None  # each parent row's first row (len parents + 1)
    created: str | None = None
    keep_created: bool = False  # children are created after these rows: their times are kept
    hooks: list = field(default_factory=list)
    orders: list[tuple[str, str, bool]] = field(default_factory=list)  # (lower, higher, strict)
    caps: list = field(default_factory=list)  # per-parent limits from unique constraints
    total_cap: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def hook_writes(self) -> frozenset[str]:
        """Columns a hook sets in every row (numbers and times only: their placeholder is zeros)."""
        if not hasattr(self, "_hook_writes"):
            names = {c for hook in self.hooks for c in hook.writes}
            kinds = ("int2", "int4", "int8", "float4", "float8", "bool", "date", "timestamp", "timestamptz", "time", "interval")
            self._hook_writes = frozenset(c.name for c in self.written if c.name in names and c.column.kind in kinds and not isinstance(c.gen, (kg.KeyUUID, kg.KeyInteger, kg.KeyText, kg.Reference, kg.Tree)))
        return self._hook_writes

    @property
    def key(self) -> str:
        return self.table.key

    @property
    def written(self) -> list[ColumnPlan]:
        return [c for c in self.columns if c.gen is not None]

    def column(self, name: str) -> ColumnPlan:
        return next(c for c in self.columns if c.name == name)

    @property
    def draw_order(self) -> list[ColumnPlan]:
        done: list[ColumnPlan] = []
        pending = list(self.written)
        while pending:
            for plan in pending:
                if all(n in [d.name for d in done] or n not in [c.name for c in self.written] for n in plan.gen.needs):
                    done.append(plan)
                    pending.remove(plan)
                    break
            else:  # a cycle of needs: draw in column order
                done += pending
                break
        return done

    def describe(self, column: ColumnPlan) -> str:
        """A column's generator for the dry run; a hook's when one sets every value."""
        if column.name in self.hook_writes:
            by = ", ".join(h.where for h in self.hooks if column.name in h.writes)
            return f"set by the hook {by}" + (f"; {column.null:.0%} NULL drawn first" if column.null > 0 else "")
        return column.describe()

    def shape(self) -> str:
        """How the count came about (and the hooks that run on the rows), for the dry run."""
        if self.parent is None:
            text = "rows given" if self.fixed is not None else "root table, default rows"
        else:
            target = self.parent_table.split(".")[-1]
            if self.fixed is not None:
                text = f"{self.fixed:,} in all over the {target} rows, via {self.parent}"
            else:
                text = f"{self.fan_out.describe(target)}, via {self.parent}"
        notes = list(self.notes)
        if self.hooks:
            notes.append("then hook " + ", ".join(h.where for h in self.hooks))
        return "; ".join([text, *notes])


@dataclass
class Plan:
    profile: Profile
    schema: seed_schema.Schema
    tables: dict[str, TablePlan]
    hooks: seed_hooks.Hooks
    sources: Sources
    users_table: str | None

    @property
    def counts(self) -> dict[str, int]:
        return {t.name: t.count for t in self.tables.values()}

    @property
    def total_rows(self) -> int:
        return sum(t.count for t in self.tables.values())

    def by_name(self, name: str) -> TablePlan:
        return next(t for t in self.tables.values() if t.name == name or t.key == name)


@dataclass
class Offsets:
    """What the database holds before a run appends: rows per table, the largest integer keys."""

    rows: dict[str, int] = field(default_factory=dict)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)

"""Row counts: every root table's, and for every other table how many rows each parent row gets
(the skeleton, ``TablePlan.starts``: each parent row's first row), drawn from the table's fan-out,
kept within what its unique constraints allow, in blocks of parents so a million parents cost a few MB."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import todoctl.core.seed.streams as streams
import todoctl.core.seed.generators as g
import todoctl.core.seed.key_generators as kg
from todoctl.core.seed.constraints import DOCS
from todoctl.core.seed.profile_model import FanOut, Profile
from todoctl.errors import usage_error

if TYPE_CHECKING:
    from todoctl.core.seed.plan_model import TablePlan

DEFAULT_FAN_OUT = FanOut("lognormal", mean=3.0, skew=1.0)
LINK_FAN_OUT = FanOut("weights", weights=(1.0, 2.0, 2.0, 1.0))
ONE_EACH = FanOut("uniform", low=1, high=1)
SKELETON_BLOCK = 1 << 16  # parent rows whose children are counted at a time
STARTS = np.int32  # each parent's first row: tables hold at most MAX_ROWS (20 million) rows


def count(plan: "TablePlan", table, spec, profile: Profile, plans, users_table) -> None:
    asked = profile.table_rows.get(table.name, profile.table_rows.get(table.key))
    if asked is None and profile.users is not None and table.key == users_table:
        asked = profile.users
    if plan.parent is None:
        if asked is None and profile.rows_given is not None:
            asked = profile.rows_given
        if asked is None:
            asked = spec.rows
        count = asked if asked is not None else profile.rows
        plan.fixed = asked
        total = _total_cap(plan, plans)
        if total is not None and count > total:
            if asked is not None:
                raise _too_tight(plan, count, total)
            count = total
            plan.notes.append(f"at most {total:,} rows (unique values)")
        plan.count = int(count)
        return
    if asked is None:
        asked = spec.rows
    plan.fixed = asked
    plan.fan_out = spec.per_parent or _default_fan_out(plan)
    parents = plans[plan.parent_table].count
    stream = streams.Stream(f"todoctl-seed/{profile.seed}/{table.key}/skeleton")
    if plan.fan_out.kind == "lognormal" or asked is not None:
        u = stream.uniform(parents) if parents else np.zeros(0)
        counts = _fan_out_counts(plan.fan_out, u, asked)
        del u
        caps = _caps(plan, plans, 0, parents)
        if caps is not None:
            # A total asked for is kept (the rows over a parent's cap go to parents with room);
            # rows per parent as drawn are only cut.
            counts = _capped(counts, caps) if asked is not None else np.minimum(counts, caps)
            if asked is not None and int(counts.sum()) < asked:
                raise _too_tight(plan, asked, int(caps.sum()))
        starts = np.zeros(parents + 1, dtype=STARTS)
        starts[1:] = counts
    else:
        # Drawn and capped a block of parents at a time, into the one array that becomes the
        # parents' first rows: a million parents cost 4 MB.
        starts = np.zeros(parents + 1, dtype=STARTS)
        for low in range(0, parents, SKELETON_BLOCK):
            high = min(parents, low + SKELETON_BLOCK)
            block = _fan_out_counts(plan.fan_out, stream.uniform(high - low), None)
            caps = _caps(plan, plans, low, high)
            starts[low + 1 : high + 1] = block if caps is None else np.minimum(block, caps)
    counts = starts[1:]  # rows per parent, until the running sum below makes them first rows
    total = _total_cap(plan, plans)
    if total is not None and int(counts.sum()) > total:
        if asked is not None:
            raise _too_tight(plan, asked, total)
        keep = np.cumsum(counts) <= total
        counts[~keep] = 0
        plan.notes.append(f"at most {total:,} rows (unique values)")
    np.cumsum(starts, out=starts)
    plan.starts = starts
    plan.count = int(starts[-1])


def _default_fan_out(plan: "TablePlan") -> FanOut:
    if any(kind == "one" for kind, _ in plan.caps):
        return ONE_EACH
    if any(kind == "range" for kind, _ in plan.caps):
        return LINK_FAN_OUT
    return DEFAULT_FAN_OUT


def _fan_out_counts(fan: FanOut, u: np.ndarray, total: int | None) -> np.ndarray:
    """Rows per parent: drawn from the fan-out; scaled to add up to exactly ``total`` if given."""
    m = len(u)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    if fan.kind == "lognormal":
        weights = streams.lognormal(u, fan.skew) if fan.skew > 0 else np.ones(m)
        return _apportion(weights, total if total is not None else round(m * fan.mean))
    if fan.kind == "uniform":
        draws = fan.low + np.minimum(np.floor(u * (fan.high - fan.low + 1)), fan.high - fan.low).astype(np.int64)
    else:
        draws = g.weighted_index(u, np.array(fan.weights), len(fan.weights)).astype(np.int64)
    if total is None:
        return draws
    weights = draws.astype(np.float64)
    if weights.sum() <= 0:
        weights = np.ones(m)
    return _apportion(weights, total)


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers in proportion to ``weights`` adding up to ``total`` (cumulative rounding)."""
    cumulative = np.cumsum(weights)
    if cumulative[-1] <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    upto = np.minimum(np.round(cumulative * (total / cumulative[-1])), total).astype(np.int64)
    upto[-1] = total
    return np.diff(np.concatenate(([0], upto)))


def _caps(plan: "TablePlan", plans, low: int, high: int) -> np.ndarray | None:
    """The most rows each parent row (of ``low..high``) may have under the table's unique constraints."""
    caps = None
    parents = high - low
    for kind, value in plan.caps:
        if kind == "one":
            this = np.ones(parents, dtype=np.int64)
        elif kind == "size":
            this = np.full(parents, value, dtype=np.int64)
        elif kind == "range":
            this = _range_sizes(plan, plans, value, low, high)
        else:
            continue
        caps = this if caps is None else np.minimum(caps, this)
    return caps


def _range_sizes(plan: "TablePlan", plans, gen: kg.Reference, low: int, high: int) -> np.ndarray:
    """For each parent row of ``low..high``, how many rows of ``gen``'s target its rows may point at."""
    target = plans[gen.target]
    if gen.within is None:
        return np.full(high - low, target.count, dtype=np.int64)
    rows = np.arange(low, high, dtype=np.int64)
    current = plan.parent_table
    while current != gen.within:
        holder = plans[current]
        rows = owner_of(holder.starts, rows)
        current = holder.parent_table
    return (target.starts[rows + 1] - target.starts[rows]).astype(np.int64)


def owner_of(starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The parent row of each row, from the parents' first rows (int64)."""
    return np.searchsorted(starts, rows.astype(starts.dtype, copy=False), side="right").astype(np.int64) - 1


def _capped(counts: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """``counts`` within ``caps``; the rows over a parent's cap go to parents with room."""
    capped = np.minimum(counts, caps)
    excess = int((counts - capped).sum())
    if excess <= 0:
        return capped
    room = caps - capped
    total_room = int(room.sum())
    if total_room <= 0:
        return capped
    give = np.minimum(room, np.floor(room * (min(excess, total_room) / total_room)).astype(np.int64))
    capped = capped + give
    left = min(excess, total_room) - int(give.sum())
    if left > 0:
        room = caps - capped
        order = np.cumsum(room)
        extra = np.clip(left - (order - room), 0, room)
        capped = capped + extra
    return capped


def _total_cap(plan: "TablePlan", plans) -> int | None:
    total = None
    for kind, value in plan.caps:
        if kind == "total":
            this = value
        elif kind == "total_of":
            this = plans[value].count
        else:
            continue
        total = this if total is None else min(total, this)
    return total


def _too_tight(plan: "TablePlan", asked: int, most: int):
    uniques = ", ".join(u.name or "(" + ", ".join(u.columns) + ")" for u in plan.table.uniques if not u.primary) or "its keys"
    return usage_error(
        f"{plan.name}: {asked:,} rows asked for, but its unique constraints ({uniques}) allow at most {most:,}",
        f"ask for fewer rows, or give the column more values in [tables.{plan.name}.columns] ({DOCS})",
    )


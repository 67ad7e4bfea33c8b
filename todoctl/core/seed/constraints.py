"""The constraints of the models applied to a plan's generators: CHECK facts (ranges, lengths,
patterns, enumerations, orders of two columns) and unique constraints (values kept apart in the
table or among a parent's rows). What cannot be kept is a usage error naming the columns, the
constraint and the setting that would fix it."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import todoctl.core.seed.streams as streams
import todoctl.core.seed.generators as g
import todoctl.core.seed.key_generators as kg
import todoctl.core.seed.password_hashes as password_hashes
import todoctl.core.seed.value_generators as vg
from todoctl.core.seed.values import DAY, timestamp_us
from todoctl.errors import usage_error

if TYPE_CHECKING:
    from todoctl.core.seed.plan_model import TablePlan

DOCS = "docs/seed.md"
_INTEGER_LIMITS = {"int2": 2**15 - 1, "int4": 2**31 - 1, "int8": 2**53}  # int8: exact in a float64 draw
_UNIQUE_BY_CONSTRUCTION = (kg.KeyUUID, kg.KeyInteger, kg.KeyText, vg.RandomUUID, vg.Ordinal, vg.Code)


def problem(table, columns, what: str, fix: str):
    cols = ", ".join(f"{table.name}.{c}" for c in columns) if columns else table.name
    return usage_error(f"{cols}: {what}", f"{fix} ({DOCS})")


def convert(column, value):
    """A profile's value as the column's kind takes it."""
    kind = column.kind
    if kind in ("int2", "int4", "int8") and isinstance(value, str):
        return int(value)
    if kind == "numeric":
        return Decimal(str(value))
    if kind in ("float4", "float8") and isinstance(value, str):
        return float(value)
    if kind in ("timestamp", "timestamptz") and isinstance(value, (str, date)):
        from todoctl.core.seed.values import to_datetime

        return to_datetime(value)
    return value


def micros(value) -> int:
    if isinstance(value, datetime):
        return timestamp_us(value)
    if isinstance(value, date):
        return timestamp_us(datetime(value.year, value.month, value.day))
    raise ValueError(value)


# ---------------------------------------------------------------- CHECK facts


def apply_facts(table, column, gen: g.Gen, facts, *, explicit: bool) -> None:
    name = column.name
    said = ", ".join(facts.where.get(name, [])) or "the column's type"
    where = f"[tables.{table.name}.columns.{name}]"
    if isinstance(gen, vg.Number):
        _number_bounds(table, column, gen, facts.bounds.get(name, []), said, explicit or getattr(gen, "explicit", False))
        return
    if isinstance(gen, vg.Moment):
        bounds = facts.bounds.get(name, [])
        if bounds:
            low, high = -(2**62), 2**62
            for op, value in bounds:
                try:
                    moment = micros(convert(column, value) if not isinstance(value, (date, datetime)) else value)
                except (ValueError, TypeError):
                    raise problem(table, [name], f"CHECK {said}: cannot read {value!r} as a time", "trust the constraint and set min/max") from None
                if column.kind == "date":
                    moment = moment // DAY * DAY
                step = DAY if column.kind == "date" else 1
                if op in (">", ">="):
                    low = max(low, moment + (step if op == ">" else 0))
                elif op in ("<", "<="):
                    high = min(high, moment - (step if op == "<" else 0))
            gen.clamp = (low, high)
        return
    if isinstance(gen, g.PoolGen):
        gen.where = (table.name, name, said)
        if column.length:
            gen.max_length = column.length
        filters = _text_filters(column, facts) if column.kind in ("text", "enum") else []
        filters += _value_filters(column, facts)
        gen.filters += filters
        gen.strict = bool(
            facts.patterns.get(name) or name in facts.one_of or name in facts.none_of
            or any(op == "=" for op, _ in facts.lengths.get(name, []))
        )  # fmt: skip
        if isinstance(gen, g.Choice):
            kept = [v for v in gen.given if all(f(v) for f in gen.filters) and not (gen.max_length and isinstance(v, str) and len(v) > gen.max_length)]
            if not kept:
                raise problem(table, [name], f"no value of {gen.describe()} satisfies {said}",
                               f"set values that do: {where} values = [...]")  # fmt: skip
            if explicit and len(kept) < len(gen.given):
                bad = [v for v in gen.given if v not in kept][:3]
                raise problem(table, [name], f"{where} values {', '.join(map(repr, bad))} break {said}", "remove them")
        formats = getattr(gen, "formats", None)
        if formats:
            fitting = [f for f in formats if all(flt(password_hashes.hash_sample(f)) for flt in gen.filters)
                       and (not column.length or len(password_hashes.hash_sample(f)) <= column.length)]  # fmt: skip
            if not fitting:
                raise problem(table, [name], f"no password hash format ({', '.join(formats)}) satisfies {said}",
                               f"give the hashes: {where} words = \"...\" or values = [...]")  # fmt: skip
            chosen = fitting[0]
            gen.make = lambda s, f=chosen: password_hashes.hashes(s, f, 256)
            gen.label = f"password hash ({chosen})"
        return
    if isinstance(gen, vg.Person):
        gen.filters = _text_filters(column, facts)
        gen.max_length = column.length
        gen.where = (table.name, name, said)
        return
    if isinstance(gen, vg.Hex) and column.length:
        gen.length = min(gen.length, column.length)
    if isinstance(gen, (vg.Hex, vg.Code)):
        sample = "0" * gen.length
        for flt in _text_filters(column, facts):
            if not flt(sample) and not flt("1" * gen.length):
                raise problem(table, [name], f"{gen.describe()} breaks {said}", f"give the column values in the profile: {where} values = [...]")


def _text_filters(column, facts) -> list:
    name = column.name
    out = []
    if name in facts.not_blank:
        out.append(lambda v: isinstance(v, str) and v.strip() != "")
    for op, n in facts.lengths.get(name, []):
        compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
                   "=": lambda a, b: a == b, "<>": lambda a, b: a != b}[op]  # fmt: skip
        out.append(lambda v, c=compare, n=n: c(len(str(v)), n))
    for pattern in facts.patterns.get(name, []):
        try:
            pattern.compiled()
        except Exception:
            raise usage_error(
                f"{column.name}: the pattern of CHECK {', '.join(facts.where.get(name, []))} ({pattern.sql}) is not one the seed can read",
                f"set the column's values in the profile and trust the constraint ({DOCS})",
            ) from None
        out.append(lambda v, p=pattern: p.matches(str(v)))
    return out


def _value_filters(column, facts) -> list:
    name = column.name
    out = []
    if name in facts.one_of:
        allowed = {str(v) for v in facts.one_of[name]}
        out.append(lambda v: str(v) in allowed)
    if name in facts.none_of:
        banned = {str(v) for v in facts.none_of[name]}
        out.append(lambda v: str(v) not in banned)
    for op, bound in facts.bounds.get(name, []):
        if column.kind in ("int2", "int4", "int8", "numeric", "float4", "float8"):
            compare = {"<": Decimal.__lt__, "<=": Decimal.__le__, ">": Decimal.__gt__, ">=": Decimal.__ge__}[op]
            out.append(lambda v, c=compare, b=Decimal(str(bound)): c(Decimal(str(v)), b))
    return out


def _number_bounds(table, column, gen: vg.Number, bounds, said: str, explicit: bool) -> None:
    """The range a CHECK and the type allow, intersected with the generator's."""
    kind = column.kind
    if kind in _INTEGER_LIMITS:
        unit, low, high = 1, -_INTEGER_LIMITS[kind], _INTEGER_LIMITS[kind]
    elif kind == "numeric":
        unit = 10.0 ** -gen.scale
        digits = (column.precision or 15) - gen.scale
        high = 10.0 ** min(digits, 15 - gen.scale) - unit
        low = -high
    else:
        unit, low, high = 0.0, -1e300, 1e300
    for op, value in bounds:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise problem(table, [column.name], f"CHECK {said}: {value!r} is not a number", "fix the constraint or trust it") from None
        nudge = unit if unit else max(abs(value) * 1e-12, 1e-12)
        if op == ">":
            low = max(low, math.floor(value / unit) * unit + unit if unit else value + nudge)
        elif op == ">=":
            low = max(low, math.ceil(value / unit) * unit if unit else value)
        elif op == "<":
            high = min(high, math.ceil(value / unit) * unit - unit if unit else value - nudge)
        elif op == "<=":
            high = min(high, math.floor(value / unit) * unit if unit else value)
    if low > high:
        raise problem(table, [column.name], f"CHECK {said} leaves no value a {column.sql_type} can hold", "fix the constraint")
    if gen.low > high or gen.high < low:
        if explicit:
            raise problem(table, [column.name], f"the profile's range {gen.low:g}..{gen.high:g} is outside what {said} allows "
                           f"({low:g}..{high:g})", "change min and max")  # fmt: skip
        gen.low, gen.high = (low, min(high, low + 1000)) if gen.low > high or low > -1e299 else (max(low, high - 1000), high)
    gen.low, gen.high = max(gen.low, low), min(gen.high, high)


def apply_orders(plan: "TablePlan", facts) -> None:
    """``a < b`` between two columns: kept by the generators (updated after created) or fixed
    after the draw by swapping the values of the rows that break it."""
    for a, op, b, constraint in facts.orders:
        lower, higher = (a, b) if op in ("<", "<=") else (b, a)
        strict = op in ("<", ">")
        plans = {c.name: c for c in plan.columns}
        for name in (lower, higher):
            gen = plans[name].gen
            if gen is None or not isinstance(gen, (vg.Number, vg.Moment, vg.Ordinal)):
                raise problem(
                    plan.table, [lower, higher], f"CHECK {constraint} orders two columns, and {name} is not a number or a time",
                    f"trust it and keep the order in a rows hook: [tables.{plan.name}] trust = [{constraint!r}]",
                )  # fmt: skip
        higher_gen, lower_gen = plans[higher].gen, plans[lower].gen
        if isinstance(higher_gen, vg.Moment) and isinstance(lower_gen, vg.Moment) and higher_gen.rule in ("event", "future") \
                and higher_gen.created in (None, lower, lower_gen.created) and lower_gen.created != higher:
            # The later time counts from the earlier one (a loan is due after it was borrowed; an
            # appointment ends after it starts, both after it was booked), rather than being
            # mirrored above it after the draw, which stretched the span to the whole window.
            higher_gen.created, higher_gen.needs = lower, (lower,)
        if isinstance(higher_gen, vg.Moment) and higher_gen.created == lower and not strict and higher_gen.rule in ("updated", "event", "future"):
            continue  # after creation by construction
        plan.orders.append((lower, higher, strict))


# ---------------------------------------------------------------- unique constraints


def keep_unique(plan: "TablePlan", table, unique, plans) -> None:
    gens = {c.name: c.gen for c in plan.columns}
    if any(isinstance(gens.get(p.column), _UNIQUE_BY_CONSTRUCTION) and not (isinstance(gens[p.column], vg.Ordinal) and plan.parent and plan.parent not in unique.columns) for p in unique.parts):
        return
    if any(isinstance(gens.get(p.column), vg.Person) and gens[p.column].part in ("email", "username") for p in unique.parts):
        return
    if any(isinstance(gens.get(p.column), vg.Hex) and gens[p.column].length >= 16 for p in unique.parts):
        return
    if any(isinstance(gens.get(p.column), kg.Reference) and gens[p.column].mode == "one_to_one" for p in unique.parts):
        return
    in_group = plan.parent is not None and plan.parent in unique.columns
    rest = [p for p in unique.parts if p.column != plan.parent]
    if in_group and not rest:
        plan.caps.append(("one", None))
        return
    scope = "group" if in_group else "row"
    # The column with the most distinct values keeps the rows apart: UNIQUE(clinician_id, starts_at)
    # by its times, not one row per clinician.
    for part in sorted(rest, key=lambda p: -_room(plan, p, scope, plans)):
        if _make_distinct(plan, table, part, scope, plans):
            return
    what = ", ".join(unique.columns)
    raise problem(
        table, list(unique.columns),
        f"UNIQUE {unique.name or ''} ({what}): the seed cannot keep these values apart",
        f"trust it and keep them apart in a rows hook: [tables.{table.name}] trust = [{unique.name!r}]",
    )  # fmt: skip


def _make_distinct(plan: "TablePlan", table, part, scope: str, plans) -> bool:
    column_plan = plan.column(part.column)
    gen = column_plan.gen
    key = streams.key_of(f"{table.key}/{part.column}/distinct")
    if isinstance(gen, kg.Reference) and gen.mode == "any":
        if scope == "group":
            gen.mode = "distinct"
            plan.caps.append(("range", gen))
        else:
            gen.mode, gen.within = "one_to_one", None
            plan.caps.append(("total_of", gen.target))
        return True
    if isinstance(gen, g.PoolGen):
        suffix = column_plan.column.kind == "text" and not isinstance(gen, g.Choice) and not gen.filters_forbid_suffix()
        gen.distinct = g.Distinct(scope, suffix, key, folded=part.folded)
        if not suffix:
            size = _known_size(gen)
            if size is None:
                return False
            plan.caps.append(("size", size) if scope == "group" else ("total", size))
        return True
    if isinstance(gen, vg.Number) and gen.capacity:
        if scope == "group":
            column_plan.gen = vg.Ordinal(column_plan.column, int(math.ceil(gen.low)) if gen.integer else 0)
            if gen.integer:
                plan.caps.append(("size", gen.capacity))
        else:
            gen.distinct = True
            plan.caps.append(("total", gen.capacity))
        return True
    if isinstance(gen, vg.Person) and gen.part == "full":
        gen.unique = True
        return True
    if isinstance(gen, vg.Moment) and gen.can_be_distinct(scope):
        gen.distinct = scope
        return True
    if isinstance(gen, vg.Moment) and gen.can_be_numbered():
        gen.distinct, gen.numbered = scope, True
        plan.caps.append(("size", gen.SECOND) if scope == "group" else ("total", gen.SECOND))
        return True
    return False


def _room(plan: "TablePlan", part, scope: str, plans) -> float:
    """How many distinct values _make_distinct would give the column (inf: any number of rows;
    -1: none it knows of), without changing its generator."""
    gen = plan.column(part.column).gen
    if isinstance(gen, kg.Reference) and gen.mode == "any":
        target = plans.get(gen.target)
        return float(target.count) if target is not None and target.count is not None else -1
    if isinstance(gen, g.PoolGen):
        if plan.column(part.column).column.kind == "text" and not isinstance(gen, g.Choice) and not gen.filters_forbid_suffix():
            return math.inf
        size = _known_size(gen)
        return float(size) if size is not None else -1
    if isinstance(gen, vg.Number) and gen.capacity:
        return math.inf if scope == "group" and not gen.integer else float(gen.capacity)
    if isinstance(gen, vg.Person) and gen.part == "full":
        return math.inf
    if isinstance(gen, vg.Moment):
        if gen.can_be_distinct(scope) and gen.column.kind != "date":
            return math.inf
        if gen.can_be_distinct(scope) or gen.can_be_numbered():
            return float(gen.SECOND)
    return -1


def _known_size(gen: g.PoolGen) -> int | None:
    """How many distinct values a pool will hold, where it is known before the pools are made."""
    if isinstance(gen, g.Choice):
        values = [v for v in gen.given if all(f(v) for f in gen.filters)]
        folded = {str(v).lower() for v in values} if gen.distinct and gen.distinct.folded else {repr(v) for v in values}
        return len(folded)
    return None

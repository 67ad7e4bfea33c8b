"""A column's generator from the profile's settings for it (``generator = ...`` and its options),
checked against the column (plan.py asks, for each column a profile sets)."""

from __future__ import annotations

from todoctl.core.seed.constraints import convert, micros, problem
import todoctl.core.seed.generators as g
import todoctl.core.seed.password_hashes as password_hashes
import todoctl.core.seed.value_generators as vg
from todoctl.core.seed.values import field_encoder

POOL = 1024  # values per pool for names, words and Faker values
TEXT_POOL = 4096


def from_profile(table, column, options: dict, context) -> g.Gen:
    where = f"[tables.{table.name}.columns.{column.name}]"
    if "values" in options:
        values, weights = options["values"], options.get("weights")
        if column.kind is None:
            return g.ServerValues(column, values, weights)
        encoder = field_encoder(column) if column.kind != "array" else None
        for value in values:
            try:
                if encoder is not None:
                    encoder(convert(column, value))
            except (ValueError, TypeError, ArithmeticError, OverflowError) as exc:
                raise problem(table, [column.name], f"{where} values: {value!r} is not a {column.sql_type} ({exc})", "fix the value") from None
        gen = g.Choice(column, [convert(column, v) for v in values], weights)
        return gen
    if "words" in options:
        if column.kind not in ("text", "enum"):
            raise problem(table, [column.name], f"{where} words: the column is {column.sql_type}, not text", "use values = [...]")
        return g.Words(column, options["words"], zipf=options.get("distribution") == "zipf")
    if "text" in options:
        if column.kind != "text":
            raise problem(table, [column.name], f"{where} text: the column is {column.sql_type}, not text", "use values = [...]")
        gen = g.TextModel(column, options["text"], options.get("pool", TEXT_POOL))
        gen.pool_setting = options.get("pool")
        return gen
    if "faker" in options:
        return g.FakerValues(column, options["faker"], options.get("pool", POOL))
    name = options["generator"]
    made = _named(column, name, context)
    if made is None:
        raise problem(table, [column.name], f"{where} generator = {name!r}: no such generator for {column.sql_type}",
                       f"the generators: {', '.join(NAMED)}")  # fmt: skip
    return made


NAMED = ("email", "first_name", "last_name", "full_name", "username", "password_hash", "uuid", "hex", "ordinal", "boolean",
         "number", "ip", "created", "updated", "event", "future", "birth", "sentence", "paragraph", "title", "words")  # fmt: skip


def _named(column, name: str, context) -> g.Gen | None:
    kind = column.kind
    text = kind == "text"
    people = {"email": "email", "first_name": "first", "last_name": "last", "full_name": "full", "username": "username"}
    if name in people and text:
        return vg.Person(column, people[name])
    if name == "password_hash" and text:
        return password_hashes.password_hash(column, column.name)
    if name == "uuid" and kind == "uuid":
        return vg.RandomUUID(column)
    if name == "hex" and text:
        return vg.Hex(column, min(column.length or 32, 64))
    if name == "ordinal" and kind in ("int2", "int4", "int8"):
        return vg.Ordinal(column)
    if name == "boolean" and kind == "bool":
        return vg.Boolean(column, 0.5)
    if name == "number" and kind in ("int2", "int4", "int8", "float4", "float8", "numeric"):
        return vg.Number(column, 0, 1000, scale=column.scale or 0)
    if name == "ip" and kind in ("inet", "cidr"):
        return vg.IPv4(column)
    if name in ("created", "updated", "event", "future", "birth") and kind in ("timestamp", "timestamptz", "date"):
        return vg.Moment(column, name, created=context.created)
    if name in ("sentence", "paragraph", "title", "words") and text:
        return g.TextModel(column, name, TEXT_POOL)
    return None


def modify(table, column, gen: g.Gen, options: dict, chosen: bool) -> None:
    """min, max and distribution for the generators that take them."""
    where = f"[tables.{table.name}.columns.{column.name}]"
    ranged = "min" in options or "max" in options
    if isinstance(gen, vg.Number):
        if ranged:
            gen.low = float(options.get("min", gen.low))
            gen.high = float(options.get("max", gen.high))
            gen.explicit = True
            if gen.low > gen.high:
                raise problem(table, [column.name], f"{where} min {gen.low:g} > max {gen.high:g}", "swap them")
        if "distribution" in options:
            gen.distribution = options["distribution"]
        return
    if isinstance(gen, vg.Moment):
        if ranged:
            low, high = options.get("min"), options.get("max")
            if low is None or high is None or isinstance(low, (int, float)) or isinstance(high, (int, float)):
                raise problem(table, [column.name], f"{where} needs both min and max as dates or date-times", "e.g. min = 2024-01-01, max = 2025-12-31")
            gen.rule, gen.low, gen.high = "range", micros(low), micros(high)
            if gen.low > gen.high:
                raise problem(table, [column.name], f"{where} min is after max", "swap them")
        if "distribution" in options:
            gen.distribution = options["distribution"]
        return
    if isinstance(gen, (g.Words,)) and options.get("distribution") == "zipf":
        return
    extra = [k for k in ("min", "max", "distribution") if k in options]
    if extra:
        raise problem(table, [column.name], f"{where} {', '.join(extra)}: the generator ({gen.describe()}) takes no {extra[0]}",
                       "remove it, or choose a numeric or time generator")  # fmt: skip

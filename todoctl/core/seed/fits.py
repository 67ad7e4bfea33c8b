"""Before anything is drawn: a table's text pools sized to its rows, and each text column checked
to hold the longest value its generator can give (exit 2 naming the column and the override)."""

from __future__ import annotations

import numpy as np

import todoctl.core.seed.generators as g
import todoctl.core.seed.key_generators as kg
from todoctl.core.seed.plan_model import TablePlan
from todoctl.errors import ExitCode, TodoctlError


def check_fits(table: TablePlan, column, offset: int = 0) -> None:
    """Exit 2, before anything is written, when the generator can give a text longer than the
    column holds (a ``varchar(2)`` filled from a Faker provider and numbered past its pool)."""
    length = column.column.length
    gen = column.gen
    pool = getattr(gen, "pool", None)
    if not length or pool is None or not pool.size or not all(isinstance(v, str) for v in pool.values):
        return
    longest = max(len(v) for v in pool.values)
    if isinstance(gen, kg.KeyText):  # word-N, N up to the last row's number
        longest += 1 + len(str(offset + table.count))
    elif isinstance(gen, g.PoolGen) and gen.distinct is not None and gen.distinct.suffix:
        rows = table.count
        if gen.distinct.scope == "group" and table.starts is not None and len(table.starts) > 1:
            rows = int(np.diff(table.starts).max())
        if rows > pool.size:  # rows past the pool get " 2", " 3", ...
            longest += len(gen.separator) + len(str(-(-rows // pool.size)))
    if longest > length:
        where = f"[tables.{table.name}.columns.{column.name}]"
        raise TodoctlError(
            f"{table.name}.{column.name}: {gen.describe()} gives values of up to {longest} characters; "
            f"the column is {column.column.sql_type}",
            hint=f"give it values that fit in the profile: {where} values = [...] or faker = \"...\" (docs/seed.md)",
            exit_code=ExitCode.USAGE,
        )


def size_pools(table: TablePlan) -> None:
    """Text pools hold about one text per row, as a power of two within 1,024 and the setting."""
    for column in table.written:
        gen = column.gen
        if isinstance(gen, g.TextModel):
            wanted = 1 << max(0, table.count - 1).bit_length()
            setting = getattr(gen, "pool_setting", None) or gen.size
            gen.size = max(min(setting, wanted), min(1024, setting))
        elif isinstance(gen, g.FakerValues):
            gen.size = max(min(gen.size, 1 << max(0, table.count - 1).bit_length()), min(64, gen.size))

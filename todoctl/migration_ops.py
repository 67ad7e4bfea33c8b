"""Operations for revisions that must be safe on a live table.

``CREATE INDEX CONCURRENTLY`` cannot run in a transaction and cannot roll back: a failed
one leaves an INVALID index behind. These helpers run in an autocommit block and are
idempotent, so re-running a revision after such a failure cleans up and succeeds.
"""

from __future__ import annotations

from alembic import op


def _index_state(name: str) -> str | None:
    """'valid', 'invalid', or None when no such index exists."""
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %(name)s AND pg_catalog.pg_table_is_visible(c.oid)",
            {"name": name},
        )
        .first()
    )
    if row is None:
        return None
    return "valid" if row[0] else "invalid"


def create_index_concurrently(
    name: str, table: str, columns: str, *, unique: bool = False, using: str | None = None, where: str | None = None
) -> None:
    sql = (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table}"
        f"{f' USING {using}' if using else ''} ({columns}){f' WHERE {where}' if where else ''}"
    )
    context = op.get_context()
    with context.autocommit_block():
        if not context.as_sql:
            state = _index_state(name)
            if state == "valid":
                return
            if state == "invalid":
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(sql)


def drop_index_concurrently(name: str) -> None:
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

"""Operations for revisions that must be safe on a live table.

``CREATE INDEX CONCURRENTLY`` cannot run in a transaction and cannot roll back: a failed
one leaves an INVALID index behind. These helpers run in an autocommit block and are
idempotent, so re-running a revision after such a failure cleans up and succeeds.

Entering an autocommit block commits what the revision did before it, so a revision that
stops inside one (a failure, Ctrl-C) is partly applied. Each step is written down in
``config.attributes["todoctl_progress"]`` (when todoctl runs the migration) so the error can
say exactly what was committed and what was left; `todoctl migrate up` then finishes it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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


def _progress() -> list[dict] | None:
    config = op.get_context().config
    return config.attributes.get("todoctl_progress") if config is not None else None


def _wrote_in_this_transaction() -> bool:
    # An xid is assigned by the first write (DDL included): the block is about to commit it.
    row = op.get_bind().exec_driver_sql("SELECT txid_current_if_assigned() IS NOT NULL").first()
    return bool(row and row[0])


@contextmanager
def _concurrent_step(description: str) -> Iterator[None]:
    """An autocommit block that records its step, and lets an interrupt through as itself."""
    context = op.get_context()
    progress = None if context.as_sql else _progress()
    if progress is not None:
        if op.get_bind().in_transaction() and _wrote_in_this_transaction():
            progress.append({"step": "the revision's statements before its first concurrent step", "done": True})
        progress.append({"step": description, "done": False})
    interrupt: BaseException | None = None
    try:
        with context.autocommit_block():
            try:
                yield
            except BaseException as exc:
                if not isinstance(exc, Exception):  # KeyboardInterrupt (Ctrl-C, or SIGTERM via cli/signals.py)
                    interrupt = exc
                raise
    except Exception:
        # After an interrupt SQLAlchemy has invalidated the connection, so Alembic's cleanup of the
        # block fails with PendingRollbackError; what happened is the interrupt, so raise that.
        if interrupt is not None:
            raise interrupt from None
        raise
    if progress is not None:
        progress[-1]["done"] = True


def create_index_concurrently(
    name: str, table: str, columns: str, *, unique: bool = False, using: str | None = None, where: str | None = None
) -> None:
    sql = (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table}"
        f"{f' USING {using}' if using else ''} ({columns}){f' WHERE {where}' if where else ''}"
    )
    context = op.get_context()
    with _concurrent_step(f"CREATE INDEX CONCURRENTLY {name}"):
        if not context.as_sql:
            state = _index_state(name)
            if state == "valid":
                return
            if state == "invalid":
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(sql)


def drop_index_concurrently(name: str) -> None:
    with _concurrent_step(f"DROP INDEX CONCURRENTLY {name}"):
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

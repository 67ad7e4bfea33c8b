"""What a downgrade would drop, counted before it runs: `migrate down` (and `reset`) asks first.

The tables and columns are read from the downgrade's own offline SQL (Alembic's ``--sql``, the
SQL `migrate sql` prints) by PostgreSQL's grammar: ``DROP TABLE`` (a DropStmt of tables) and
``ALTER TABLE ... DROP COLUMN`` (an AlterTableCmd AT_DropColumn). Each is counted on the
database as it stands: a table's rows, a column's non-null values. A column the path adds before
it drops, or a generated column (computed from the others), loses nothing and is not counted;
nor is the migration tool's own version table.
"""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.core.catalog.snapshot import IGNORED_TABLES
from todoctl.errors import ExitCode, TodoctlError


@dataclass(frozen=True)
class Loss:
    table: str  # as the revision names it (schema-qualified if it is)
    column: str | None  # None: the whole table is dropped
    rows: int  # the table's rows, or the column's non-null values

    def describe(self) -> str:
        if self.column is None:
            return f"table {self.table} ({self.rows:,} row{'s' if self.rows != 1 else ''})"
        return f"column {self.table}.{self.column} ({self.rows:,} value{'s' if self.rows != 1 else ''})"


@dataclass(frozen=True)
class Drop:
    schema: str | None
    table: str
    column: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def drops(sql: str) -> list[Drop]:
    """The tables and columns ``sql`` drops, in order, read by PostgreSQL's grammar (pglast)."""
    from pglast import ast, parse_sql
    from pglast.enums import AlterTableType, ObjectType

    found: list[Drop] = []
    for raw in parse_sql(sql):
        stmt = raw.stmt
        if isinstance(stmt, ast.DropStmt) and stmt.removeType == ObjectType.OBJECT_TABLE:
            for parts in stmt.objects:
                names = [p.sval for p in parts]
                found.append(Drop(names[-2] if len(names) > 1 else None, names[-1]))
        elif isinstance(stmt, ast.AlterTableStmt) and stmt.objtype == ObjectType.OBJECT_TABLE:
            for cmd in stmt.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd) and cmd.subtype == AlterTableType.AT_DropColumn:
                    found.append(Drop(stmt.relation.schemaname, stmt.relation.relname, cmd.name))
    return [d for d in found if d.table not in IGNORED_TABLES]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def count(conn, found: list[Drop]) -> list[Loss]:
    """How many rows (or values) each drop would lose on ``conn`` (SQLAlchemy) now; a table or column
    that does not exist yet (the path creates it first), or a generated column, is left out."""
    tables = {d.name for d in found if d.column is None}
    losses: list[Loss] = []
    seen: set[tuple[str, str | None]] = set()
    for drop in found:
        if (drop.name, drop.column) in seen or (drop.column is not None and drop.name in tables):
            continue  # a column of a table the path drops is counted with the table
        seen.add((drop.name, drop.column))
        relation = ".".join(_quote(p) for p in ([drop.schema] if drop.schema else []) + [drop.table])
        oid = conn.exec_driver_sql("SELECT to_regclass(%s)::oid", (relation,)).scalar()
        if oid is None:
            continue
        if drop.column is None:
            rows = conn.exec_driver_sql(f"SELECT count(*) FROM {relation}").scalar()
        else:
            stored = conn.exec_driver_sql(
                "SELECT attgenerated = '' FROM pg_attribute WHERE attrelid = %s AND attname = %s AND NOT attisdropped",
                (oid, drop.column),
            ).scalar()
            if not stored:
                continue
            rows = conn.exec_driver_sql(
                f"SELECT count(*) FROM {relation} WHERE {_quote(drop.column)} IS NOT NULL"
            ).scalar()
        losses.append(Loss(drop.name, drop.column, int(rows)))
    return losses


def downgrade_losses(conn, before: list[str], target: str, *, migrations, timeouts=None) -> list[Loss]:
    """What going down from ``before`` to ``target`` (an absolute revision or ``base``) would drop,
    counted on ``conn`` under the run's statement timeout, in a transaction rolled back after."""
    from todoctl.core.migrate.alembic_words import offline_sql
    from todoctl.core.migrate.settings import Timeouts

    if not before:
        return []
    sql = offline_sql(None, f"{before[0]}:{target}", "down", migrations=migrations).sql
    from sqlalchemy.exc import DBAPIError

    timeouts = timeouts or Timeouts.from_env()
    try:
        conn.exec_driver_sql(
            "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
            (timeouts.statement_timeout, timeouts.lock_timeout),
        )
        return count(conn, drops(sql))
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None)
        if code == "55P03":
            raise TodoctlError(
                "counting the rows the downgrade would drop waited longer than lock_timeout for a lock",
                hint="another session holds a lock on the table; try again later, or raise --lock-timeout",
                exit_code=ExitCode.BUSY,
            ) from None
        raise
    finally:
        conn.rollback()


def total(losses: list[Loss]) -> int:
    return sum(loss.rows for loss in losses)


def summary(losses: list[Loss]) -> str:
    """``table tasks (1,200 rows), column users.email (40 values)``: only what holds rows."""
    return ", ".join(loss.describe() for loss in losses if loss.rows)


def refusal(database: str, what: str, losses: list[Loss]) -> TodoctlError:
    """Exit 4: a downgrade that drops rows needs a confirmation it did not get."""
    return TodoctlError(
        f"{what} on {database} would drop {summary(losses)}; confirmation needed",
        hint="run it on a terminal to be asked, or pass --yes to confirm (`--dry-run` shows the same counts)",
        exit_code=ExitCode.REFUSED,
        details={"losses": [{"table": x.table, "column": x.column, "rows": x.rows} for x in losses]},
    )

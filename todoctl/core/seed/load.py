"""Loading seed rows: one transaction, binary COPY, and (for big loads into empty tables)
secondary indexes and foreign keys dropped first and rebuilt before commit.

Everything happens in a single transaction on one psycopg connection, so a failure of any
kind (constraint, lost connection, Ctrl-C) leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.values import COPY_SIGNATURE, COPY_TRAILER
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, connection_error

if TYPE_CHECKING:
    import psycopg

LOCK_TIMEOUT = "5s"


@contextmanager
def connect(url: DatabaseURL) -> Iterator["psycopg.Connection"]:
    """A psycopg connection in a transaction; connection failures become exit 3."""
    from todoctl.db.engine import psycopg_connection

    conn = psycopg_connection(url, autocommit=False, application_name="todoctl seed")
    # On any exception psycopg rolls back before closing: nothing is left half-done.
    with conn:
        yield conn


@contextmanager
def database_errors(url: DatabaseURL, doing: str) -> Iterator[None]:
    """Turn driver errors raised while seeding into TodoctlErrors; the transaction is rolled back."""
    import psycopg
    from psycopg import errors

    try:
        yield
    except errors.LockNotAvailable:
        raise TodoctlError(
            f"the app tables of {url.display} are locked by another session (waited {LOCK_TIMEOUT})",
            hint="a migration or another seed may be running; try again when it has finished",
            exit_code=ExitCode.BUSY,
        ) from None
    except (errors.IntegrityError, errors.DataError) as exc:
        diag = exc.diag
        where = f" on {diag.table_name}" if diag.table_name else ""
        constraint = f" (constraint {diag.constraint_name})" if diag.constraint_name else ""
        raise TodoctlError(
            f"seeding failed{where} while {doing}: {mask(diag.message_primary or str(exc))}{constraint}; "
            "nothing was written",
            hint="the database schema may differ from todoctl's models: `todoctl migrate status`",
            exit_code=ExitCode.CHECK_FAILED,
        ) from exc
    except errors.QueryCanceled as exc:
        # Ctrl-C never lands here: psycopg cancels the statement itself and re-raises
        # KeyboardInterrupt. This is a statement_timeout or a pg_cancel_backend().
        raise TodoctlError(
            f"the server canceled a statement while {doing}: {mask(exc.diag.message_primary or str(exc))}; "
            "nothing was written",
            hint="a statement_timeout set for this role or database, or someone canceled the session",
            exit_code=ExitCode.CHECK_FAILED,
        ) from exc
    except psycopg.OperationalError as exc:
        first = (mask(str(exc)).strip().splitlines() or ["connection error"])[0]
        raise connection_error(
            f"lost the connection to {url.display} while {doing}: {first}",
            "nothing was committed; check the server and run the seed again",
        ) from exc


# ---------------------------------------------------------------- checks before loading


def missing_schema(conn: "psycopg.Connection", plan) -> list[str]:
    """Tables or columns the seed writes that are not in the database."""
    # By the schema-qualified name the seed writes to, not the bare one (``shop.order`` is not
    # ``public.order``).
    rows = conn.execute(
        "SELECT t, a.attname FROM unnest(%s::text[]) t JOIN pg_attribute a ON a.attrelid = to_regclass(t) "
        "WHERE a.attnum > 0 AND NOT a.attisdropped",
        ([t.table.quoted for t in plan.tables.values()],),
    ).fetchall()
    present = {(t, c) for t, c in rows}
    tables_present = {t for t, _ in present}
    missing = []
    for table in plan.tables.values():
        if table.table.quoted not in tables_present:
            missing.append(table.table.key)
            continue
        missing += [f"{table.table.key}.{c.name}" for c in table.written if (table.table.quoted, c.name) not in present]
    return missing


def lock_tables(conn: "psycopg.Connection", plan) -> None:
    conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    conn.execute(f"LOCK TABLE {', '.join(t.table.quoted for t in plan.tables.values())} IN ACCESS EXCLUSIVE MODE")
    conn.execute("SET LOCAL lock_timeout = 0")


def tables_with_rows(conn: "psycopg.Connection", plan) -> list[str]:
    return [t.name for t in plan.tables.values() if conn.execute(f"SELECT EXISTS (SELECT FROM {t.table.quoted})").fetchone()[0]]


def truncate(conn: "psycopg.Connection", plan) -> None:
    conn.execute(f"TRUNCATE {', '.join(t.table.quoted for t in plan.tables.values())}")


def offsets(conn: "psycopg.Connection", plan):
    """What an append continues from: each table's rows, and its integer keys' largest values."""
    import todoctl.core.seed.key_generators as kg
    from todoctl.core.seed.rows import Offsets

    out = Offsets()
    for table in plan.tables.values():
        out.rows[table.key] = int(conn.execute(f"SELECT count(*) FROM {table.table.quoted}").fetchone()[0])
        for column in table.written:
            if isinstance(column.gen, kg.KeyInteger):
                value = conn.execute(f"SELECT max({column.column.quoted}) FROM {table.table.quoted}").fetchone()[0]
                out.keys[(table.key, column.name)] = int(value or 0)
    return out


def element_types(conn: "psycopg.Connection", plan) -> dict[tuple[str, str], int]:
    """The element type of each array column the seed writes (binary arrays name it)."""
    wanted = [(t, c) for t in plan.tables.values() for c in t.written if c.column.kind == "array"]
    out = {}
    for table, column in wanted:
        row = conn.execute(
            "SELECT t.typelem FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s::regclass AND a.attname = %s",
            (table.table.quoted, column.name),
        ).fetchone()
        out[(table.key, column.name)] = int(row[0]) if row else 0
    return out


def converter(conn: "psycopg.Connection"):
    """``convert(column, texts) -> [binary field]``: values of any type, encoded by the server."""

    def convert(column, texts: list[str]) -> list[bytes]:
        out = []
        with conn.cursor(binary=True) as cursor:
            for text in texts:
                cursor.execute(f"SELECT %s::text::{column.sql_type}", (text,))
                value = cursor.pgresult.get_value(0, 0)
                out.append(len(value).to_bytes(4, "big") + bytes(value))
        return out

    return convert


def advance_sequences(conn: "psycopg.Connection", plan, offsets) -> None:
    """Identity and serial columns: the sequence moves past the values the seed drew, so the
    app's next insert does not collide with a seeded row."""
    import todoctl.core.seed.key_generators as kg

    for table in plan.tables.values():
        for column in table.written:
            if isinstance(column.gen, kg.KeyInteger) and table.count:
                last = offsets.keys.get((table.key, column.name), 0) + table.count
                conn.execute(
                    "SELECT setval(s, %s) FROM pg_get_serial_sequence(%s, %s) s WHERE s IS NOT NULL",
                    (last, table.table.quoted, column.name),
                )


# ---------------------------------------------------------------- COPY


def copy_rows(conn: "psycopg.Connection", table, chunks, progress=None, total=0) -> int:
    """Stream binary COPY chunks into ``table`` (a TablePlan); return the number of rows.
    ``total`` (a number, or a function giving it) is passed on to ``progress``."""
    columns = ", ".join(c.column.quoted for c in table.written)
    statement = f"COPY {table.table.quoted} ({columns}) FROM STDIN (FORMAT BINARY)"
    done = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(COPY_SIGNATURE)
        if progress is not None:
            progress(table.name, 0, total() if callable(total) else total)
        for data, rows in chunks:
            copy.write(data)
            done += rows
            if progress is not None:
                progress(table.name, done, total() if callable(total) else total)
        copy.write(COPY_TRAILER)
    return done


# ---------------------------------------------------------------- fast path: rebuild indexes


@dataclass(frozen=True)
class Restore:
    """One statement that brings back a dropped key, index or foreign key, and the app tables
    that must be loaded before it can run (its own; for a foreign key, the referenced one too)."""

    statement: str
    needs: frozenset[str]


@dataclass(frozen=True)
class Deferred:
    """Indexes and constraints dropped for a bulk load, and the statements that restore them."""

    drops: list[str]
    steps: list[Restore]

    @property
    def restores(self) -> list[str]:
        return [step.statement for step in self.steps]


def defer_indexes(conn: "psycopg.Connection", plan, *, keys: bool = False, keep: frozenset[str] = frozenset()) -> Deferred:
    """Drop the app tables' foreign keys and secondary indexes (and, with ``keys``, primary
    keys and unique indexes too), remembering their exact definitions from the catalog.
    Indexes named in ``keep`` stay (maintained row by row during the COPY)."""
    found = conn.execute(
        "SELECT t, to_regclass(t)::oid FROM unnest(%s::text[]) t", ([t.table.quoted for t in plan.tables.values()],)
    ).fetchall()
    by_quoted = {t.table.quoted: t.key for t in plan.tables.values()}
    table_of_oid = {oid: by_quoted[name] for name, oid in found}
    oids = list(table_of_oid)
    kinds = ["f", "p", "u"] if keys else ["f"]
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype, "
        "coalesce(confrelid::regclass::text, ''), conrelid::oid, confrelid::oid "
        "FROM pg_constraint WHERE contype = ANY(%s) "
        # Foreign keys of other tables that point at an app table's key must go (and come back) too.
        "AND (conrelid = ANY(%s) OR (%s AND contype = 'f' AND confrelid = ANY(%s))) "
        "ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname",
        (kinds, oids, keys, oids),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indrelid::oid FROM pg_index i "
        "WHERE i.indrelid = ANY(%s) AND (%s OR NOT i.indisunique) "
        "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
        "AND NOT i.indexrelid::regclass::text = ANY(%s) "
        "ORDER BY 1",
        (oids, keys, sorted(keep)),
    ).fetchall()

    def needs(*oids_: int) -> frozenset[str]:
        return frozenset(table_of_oid[o] for o in oids_ if o in table_of_oid)

    drops = [f"ALTER TABLE {row[0]} DROP CONSTRAINT {row[1]}" for row in constraints]
    drops += [f"DROP INDEX {name}" for name, _, _ in indexes]
    # Keys and indexes first, foreign keys last (they need the referenced keys back).
    steps = [Restore(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}", needs(oid)) for t, n, d, kind, _, oid, _ in constraints if kind != "f"]
    steps += [Restore(definition, needs(oid)) for _, definition, oid in indexes]
    steps += [
        Restore(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}", needs(oid, ref))
        for t, n, d, kind, _, oid, ref in constraints
        if kind == "f"
    ]
    for statement in drops:
        conn.execute(statement)
    return Deferred(drops, steps)


def restore_indexes(conn: "psycopg.Connection", steps: list[Restore], progress=None, done: int = 0, total: int = 0) -> int:
    """Run restore ``steps`` (in order); return how many restore steps are done in all."""
    # More memory for sorts makes index builds faster; it is released at commit.
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for step in steps:
        conn.execute(step.statement)
        done += 1
        if progress is not None:
            progress("indexes", done, total)
    return done


def flush_counts_at_commit(conn: "psycopg.Connection") -> None:
    """Have the server publish this transaction's row counts as soon as it commits, before it
    answers the next statement (PostgreSQL 15+; before that they reach the statistics collector
    on their own schedule, as they always did). Else a backend that flushed less than a second
    ago holds them back, and they arrive after the ANALYZE that follows the commit."""
    if conn.info.server_version >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")


def analyze_committed(conn: "psycopg.Connection", tables, progress=None) -> None:
    """ANALYZE each table after the commit (fresh planner statistics, so EXPLAIN right after a
    seed shows realistic plans). Not inside the transaction: the server adds the inserted rows to
    n_mod_since_analyze only at commit, after such an ANALYZE, so every seeded table looked stale
    (to explain, and to autovacuum, which analyzed it again a minute later)."""
    import psycopg

    try:
        for number, table in enumerate(tables, 1):
            conn.execute(f"ANALYZE {table.table.quoted}")
            conn.commit()
            if progress is not None:
                progress("analyze", number, len(tables))
    except KeyboardInterrupt:
        # Not "rolled back": the rows are in. Only the statistics wait for autovacuum.
        raise TodoctlError(
            "interrupted after the seed was committed: the rows are in, ANALYZE did not finish",
            hint="run ANALYZE on the app tables, or let autovacuum do it",
            exit_code=ExitCode.INTERRUPTED,
        ) from None
    except psycopg.Error as exc:
        conn.rollback()
        first = (mask(str(exc)).strip().splitlines() or ["error"])[0]
        raise TodoctlError(
            f"the seeded rows are committed, but ANALYZE after the commit failed: {first}",
            hint="run ANALYZE on the app tables, or let autovacuum do it",
            exit_code=ExitCode.CHECK_FAILED,
        ) from exc


# ---------------------------------------------------------------- fingerprint


def fingerprinted(schema) -> dict[str, tuple[str, list[str]]]:
    """Per table (in load order, by its MetaData key: ``shop.order`` and ``order`` are two): its
    quoted name and the quoted columns the fingerprint hashes: every column but those the server
    generates, from the models alone (no profile needed)."""
    return {
        table.key: (table.quoted, [_hashable(c) for c in table.columns.values() if not c.generated])
        for table in schema.tables.values()
    }


def _hashable(column) -> str:
    """The column as hash_record_extended takes it, the same in every database: json (and types
    the seed does not know, such as point) have no hash function, and an enum's hash is that of
    its label's OID, which each database assigns anew: their text is hashed instead."""
    item = column.item.kind if column.item is not None else None
    if column.kind in ("json", "enum", None) or item in ("json", "enum"):
        return f"{column.quoted}::text"
    return column.quoted


def fingerprint(conn: "psycopg.Connection", schema) -> str:
    """A content hash of the app tables that ignores row order and physical layout.

    Per table: the row count and the sum of every row's 64-bit hash (a sum does not depend on
    order). ``hash_record_extended`` (PostgreSQL 14+) hashes each value with its type's hash
    function (the stable ones hash partitioning relies on): no text rendering, so neither the
    session's TimeZone nor DateStyle matters, and it is several times cheaper than md5 of text.
    """
    tables = fingerprinted(schema)
    return combine({name: table_fingerprint(conn, name, quoted, columns) for name, (quoted, columns) in tables.items()}, list(tables))


def table_fingerprint(conn: "psycopg.Connection", name: str, quoted: str, columns: list[str]) -> str:
    """One table's part of the fingerprint: its row count and the sum of its rows' hashes."""
    count, total = conn.execute(
        f"SELECT count(*), coalesce(sum(hash_record_extended(ROW({', '.join(columns)}), 0)), 0) FROM {quoted}"
    ).fetchone()
    return f"{name}:{count}:{total};"


def combine(parts: dict[str, str], order: list[str]) -> str:
    """The fingerprint from every table's part, in table order (parts may be computed in any order)."""
    digest = hashlib.sha256()
    for table in order:
        digest.update(parts[table].encode())
    return digest.hexdigest()[:32]

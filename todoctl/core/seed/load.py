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

from todoctl.core.seed.pools import COPY_SIGNATURE, COPY_TRAILER
from todoctl.core.seed.rows import COLUMNS
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, connection_error

if TYPE_CHECKING:
    import psycopg

LOCK_TIMEOUT = "5s"

# Fingerprinted columns: everything the seed writes (search_vector is derived from them).
FINGERPRINT_COLUMNS = COLUMNS


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


def missing_schema(conn: "psycopg.Connection") -> list[str]:
    """App tables or columns the seed writes that are not in the database."""
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
        (list(COLUMNS),),
    ).fetchall()
    present = {(t, c) for t, c in rows}
    missing = []
    for table, columns in COLUMNS.items():
        if not any(t == table for t, _ in present):
            missing.append(table)
            continue
        missing += [f"{table}.{c}" for c in columns if (table, c) not in present]
    return missing


def lock_tables(conn: "psycopg.Connection") -> None:
    conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    conn.execute(f"LOCK TABLE {', '.join(COLUMNS)} IN ACCESS EXCLUSIVE MODE")
    conn.execute("SET LOCAL lock_timeout = 0")


def tables_with_rows(conn: "psycopg.Connection") -> list[str]:
    return [t for t in COLUMNS if conn.execute(f"SELECT EXISTS (SELECT FROM {t})").fetchone()[0]]


def truncate(conn: "psycopg.Connection") -> None:
    conn.execute(f"TRUNCATE {', '.join(COLUMNS)}")


def last_email_number(conn: "psycopg.Connection") -> int:
    """The highest N among emails shaped like the seed's (``first.last.N@example.*``)."""
    row = conn.execute(
        r"SELECT max((substring(email from '\.([0-9]{1,12})@example\.(?:com|org|net)$'))::bigint) FROM users"
    ).fetchone()
    return int(row[0] or 0)


# ---------------------------------------------------------------- COPY


def copy_rows(conn: "psycopg.Connection", table: str, chunks, progress=None, total=0) -> int:
    """Stream binary COPY chunks into ``table``; return the number of rows. ``total`` (a number,
    or a function giving it once the first chunk is in) is passed on to ``progress``."""
    statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN (FORMAT BINARY)"
    done = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(COPY_SIGNATURE)
        if progress is not None:
            progress(table, 0, total() if callable(total) else total)
        for data, rows in chunks:
            copy.write(data)
            done += rows
            if progress is not None:
                progress(table, done, total() if callable(total) else total)
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


def defer_indexes(conn: "psycopg.Connection", *, keys: bool = False, keep: frozenset[str] = frozenset()) -> Deferred:
    """Drop the app tables' foreign keys and secondary indexes (and, with ``keys``, primary
    keys and unique indexes too), remembering their exact definitions from the catalog.
    Indexes named in ``keep`` stay (maintained row by row during the COPY)."""
    oids = [r[0] for r in conn.execute("SELECT to_regclass(t)::oid FROM unnest(%s::text[]) t", (list(COLUMNS),))]
    kinds = ["f", "p", "u"] if keys else ["f"]
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype, "
        "coalesce(confrelid::regclass::text, '') "
        "FROM pg_constraint WHERE contype = ANY(%s) "
        # Foreign keys of other tables that point at an app table's key must go (and come back) too.
        "AND (conrelid = ANY(%s) OR (%s AND contype = 'f' AND confrelid = ANY(%s))) "
        "ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname",
        (kinds, oids, keys, oids),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indrelid::regclass::text FROM pg_index i "
        "WHERE i.indrelid = ANY(%s) AND (%s OR NOT i.indisunique) "
        "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
        "AND NOT i.indexrelid::regclass::text = ANY(%s) "
        "ORDER BY 1",
        (oids, keys, sorted(keep)),
    ).fetchall()

    def needs(*tables: str) -> frozenset[str]:
        return frozenset(t for t in tables if t in COLUMNS)

    drops = [f"ALTER TABLE {table} DROP CONSTRAINT {name}" for table, name, _, _, _ in constraints]
    drops += [f"DROP INDEX {name}" for name, _, _ in indexes]
    # Keys and indexes first, foreign keys last (they need the referenced keys back).
    steps = [Restore(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}", needs(t)) for t, n, d, kind, _ in constraints if kind != "f"]
    steps += [Restore(definition, needs(table)) for _, definition, table in indexes]
    steps += [
        Restore(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}", needs(t, ref)) for t, n, d, kind, ref in constraints if kind == "f"
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


def analyze(conn: "psycopg.Connection", tables=COLUMNS) -> None:
    """Fresh planner statistics, so EXPLAIN right after a seed shows realistic plans."""
    conn.execute(f"ANALYZE {', '.join(tables)}")


# ---------------------------------------------------------------- fingerprint


def fingerprint(conn: "psycopg.Connection") -> str:
    """A content hash of the app tables that ignores row order and physical layout.

    Per table: the row count and the sum of every row's 64-bit hash (a sum does not depend on
    order). ``hash_record_extended`` (PostgreSQL 14+) hashes each value with its type's hash
    function (the stable ones hash partitioning relies on): no text rendering, so neither the
    session's TimeZone nor DateStyle matters, and it is several times cheaper than md5 of text.
    """
    return combine({table: table_fingerprint(conn, table) for table in FINGERPRINT_COLUMNS})


def table_fingerprint(conn: "psycopg.Connection", table: str) -> str:
    """One table's part of the fingerprint: its row count and the sum of its rows' hashes."""
    columns = FINGERPRINT_COLUMNS[table]
    count, total = conn.execute(
        f"SELECT count(*), coalesce(sum(hash_record_extended(ROW({', '.join(columns)}), 0)), 0) FROM {table}"
    ).fetchone()
    return f"{table}:{count}:{total};"


def combine(parts: dict[str, str]) -> str:
    """The fingerprint from every table's part, in table order (parts may be computed in any order)."""
    digest = hashlib.sha256()
    for table in FINGERPRINT_COLUMNS:
        digest.update(parts[table].encode())
    return digest.hexdigest()[:32]

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


def copy_rows(conn: "psycopg.Connection", table: str, chunks, progress=None, total: int = 0) -> int:
    """Stream binary COPY chunks into ``table``; return the number of rows."""
    statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN (FORMAT BINARY)"
    done = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(COPY_SIGNATURE)
        for data, rows in chunks:
            copy.write(data)
            done += rows
            if progress is not None:
                progress(table, done, total)
        copy.write(COPY_TRAILER)
    return done


# ---------------------------------------------------------------- fast path: rebuild indexes


@dataclass(frozen=True)
class Deferred:
    """Indexes and constraints dropped for a bulk load, and the statements that restore them."""

    drops: list[str]
    restores: list[str]


def defer_indexes(conn: "psycopg.Connection", *, keys: bool = False) -> Deferred:
    """Drop the app tables' foreign keys and secondary indexes (and, with ``keys``, primary
    keys and unique indexes too), remembering their exact definitions from the catalog."""
    oids = [r[0] for r in conn.execute("SELECT to_regclass(t)::oid FROM unnest(%s::text[]) t", (list(COLUMNS),))]
    kinds = ["f", "p", "u"] if keys else ["f"]
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE contype = ANY(%s) "
        # Foreign keys of other tables that point at an app table's key must go (and come back) too.
        "AND (conrelid = ANY(%s) OR (%s AND contype = 'f' AND confrelid = ANY(%s))) "
        "ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname",
        (kinds, oids, keys, oids),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s) AND (%s OR NOT i.indisunique) "
        "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
        "ORDER BY 1",
        (oids, keys),
    ).fetchall()
    drops = [f"ALTER TABLE {table} DROP CONSTRAINT {name}" for table, name, _, _ in constraints]
    drops += [f"DROP INDEX {name}" for name, _ in indexes]
    # Keys and indexes first, foreign keys last (they need the referenced keys back).
    restores = [f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, d, kind in constraints if kind != "f"]
    restores += [definition for _, definition in indexes]
    restores += [f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, d, kind in constraints if kind == "f"]
    for statement in drops:
        conn.execute(statement)
    return Deferred(drops, restores)


def restore_indexes(conn: "psycopg.Connection", deferred: Deferred, progress=None) -> None:
    # More memory for sorts makes index builds faster; it is released at commit.
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    total = len(deferred.restores)
    for done, statement in enumerate(deferred.restores, 1):
        conn.execute(statement)
        if progress is not None:
            progress("indexes", done, total)


def analyze(conn: "psycopg.Connection") -> None:
    """Fresh planner statistics, so EXPLAIN right after a seed shows realistic plans."""
    conn.execute(f"ANALYZE {', '.join(COLUMNS)}")


# ---------------------------------------------------------------- fingerprint


def fingerprint(conn: "psycopg.Connection") -> str:
    """A content hash of the app tables that ignores row order and physical layout.

    Per table: the row count and the sum of every row's 64-bit hash (a sum does not depend on
    order). ``hash_record_extended`` (PostgreSQL 14+) hashes each value with its type's hash
    function (the stable ones hash partitioning relies on): no text rendering, so neither the
    session's TimeZone nor DateStyle matters, and it is several times cheaper than md5 of text.
    """
    digest = hashlib.sha256()
    for table, columns in FINGERPRINT_COLUMNS.items():
        count, total = conn.execute(
            f"SELECT count(*), coalesce(sum(hash_record_extended(ROW({', '.join(columns)}), 0)), 0) FROM {table}"
        ).fetchone()
        digest.update(f"{table}:{count}:{total};".encode())
    return digest.hexdigest()[:32]

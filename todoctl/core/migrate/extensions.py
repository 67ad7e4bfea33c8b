"""Extensions a revision creates that the server does not have.

A revision that runs ``CREATE EXTENSION`` on a server without that extension fails (SQLSTATE
0A000 "extension ... is not available" on PostgreSQL 16 and later, 58P01 for the missing control
file before) and is rolled back like any failed revision. This module tells that failure apart
from the others, so the run can say which extension is missing and where to run the history
instead: PostgreSQL's grammar (pglast) finds the CREATE EXTENSION statements in the SQL the server
refused, and ``pg_available_extensions`` says which of them the server lacks.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from todoctl.db.engine import connection
from todoctl.db.url import DatabaseURL
from todoctl.errors import TodoctlError

# What a server answers to CREATE EXTENSION of an extension it does not have.
_NOT_AVAILABLE = frozenset({"0A000", "58P01"})  # feature_not_supported (16+), undefined_file (14, 15)

HINT = (
    "run the history on a server that has it (Neon offers the common contrib extensions): "
    "`todoctl --database-url URL migrate up`, or set DATABASE_URL"
)


def created_extensions(sql: str) -> list[str]:
    """The extensions ``sql`` creates, in order (none when it does not parse as PostgreSQL)."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(sql)
    except ParseError:  # e.g. bound parameters in the driver's own placeholder style
        return []
    return [raw.stmt.extname for raw in statements if isinstance(raw.stmt, ast.CreateExtensionStmt)]


def missing_extensions(url: DatabaseURL, error: DBAPIError) -> list[str]:
    """The extensions the statement behind ``error`` creates that the server at ``url`` lacks.

    Empty unless the server refused a CREATE EXTENSION the way it refuses an unknown extension,
    and the extension is neither available on the server nor already in the database.
    """
    if getattr(error.orig, "sqlstate", None) not in _NOT_AVAILABLE or not error.statement:
        return []
    names = created_extensions(error.statement)
    if not names:
        return []
    try:
        with connection(url) as conn:
            have = set(
                conn.execute(
                    text(
                        "SELECT name FROM pg_available_extensions WHERE name = ANY(:names) "
                        "UNION SELECT extname FROM pg_extension WHERE extname = ANY(:names)"
                    ),
                    {"names": names},
                ).scalars()
            )
    except (DBAPIError, TodoctlError):  # the server is gone: the plain failure message stands
        return []
    return [name for name in dict.fromkeys(names) if name not in have]

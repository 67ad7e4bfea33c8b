"""Review rules: suggestions — things a production database usually has, found absent. Never fail.

- replication-ha: no ``DATABASE_URL_REPLICA`` (a standby/read replica the app can fail over or read from).
- caching: no cache server in the app's settings (``REDIS_URL``, ``VALKEY_URL``, ``MEMCACHED_URL``, ``CACHE_URL``).
- audit-log: no audit table in the models (a table named ``*audit*`` or ``*_history``).
- soft-delete: a table holding users' data (every table with ``user_id``, and the table its foreign key
  refers to) without ``deleted_at``.
- text-search-index: a named query filtering with LIKE/ILIKE on a column without a trigram
  (``gin_trgm_ops``/``gist_trgm_ops``) index.
- slow-query-monitoring (live): the ``pg_stat_statements`` extension is not installed.
- backups-pitr: ``DATABASE_URL`` is not a Neon host (Neon keeps a history for point-in-time restore).
- partitioning (live): a table larger than ``TODOCTL_REVIEW_PARTITION_SIZE`` (a PostgreSQL size
  such as ``10GB``, the default; read by the server's ``pg_size_bytes``) that is not partitioned.
- analytics-replica: a cross-user named query (a batch job over every user) with no replica to run on.
- pooled-url: a remote ``DATABASE_URL`` that is not Neon's pooled (``-pooler``) endpoint, or that
  equals ``DATABASE_URL_UNPOOLED``.
"""

from __future__ import annotations

from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule
from todoctl.core.sql_names import ident, table_ref
from todoctl.project import find_table

REPLICA_VARIABLES = ("DATABASE_URL_REPLICA",)
CACHE_VARIABLES = ("REDIS_URL", "VALKEY_URL", "MEMCACHED_URL", "CACHE_URL")
PARTITION_SIZE_VARIABLE = "TODOCTL_REVIEW_PARTITION_SIZE"
DEFAULT_PARTITION_SIZE = "10GB"
NEON_DOMAIN = ".neon.tech"


def _set(ctx: ReviewContext, name: str) -> bool:
    value = ctx.environ.get(name)
    return bool(value and value.strip())


def _url(ctx: ReviewContext, name: str):
    """The variable as a DatabaseURL, or None (unset, or unusable: the security rules report that)."""
    from todoctl.db.url import normalise
    from todoctl.errors import TodoctlError

    if not _set(ctx, name):
        return None
    try:
        return normalise(ctx.environ[name], source=name)
    except TodoctlError:
        return None


def _owned_tables(ctx: ReviewContext) -> list[str]:
    """The app's tables holding users' data: those with a ``user_id`` column, and the users' table
    those columns refer to (by their foreign keys)."""
    owned = {t.key for t in ctx.metadata.tables.values() if "user_id" in t.c}
    for name in list(owned):
        for fk in find_table(ctx.metadata, name).c["user_id"].foreign_keys:
            owned.add(fk.column.table.key)
    return sorted(owned)


@rule(
    "replication-ha",
    "suggestion",
    "replication / high availability: a replica URL configured",
    why="a replica lets the app keep reading, and fail over, when the primary is down or busy",
)
def replication_ha(ctx: ReviewContext) -> Iterator[Finding]:
    if not any(_set(ctx, v) for v in REPLICA_VARIABLES):
        yield Finding(
            "replication-ha",
            "DATABASE_URL_REPLICA",
            "no replica is configured: the primary is the only copy the app can reach",
            "create a read replica (on Neon: a read-replica compute on the branch) and set DATABASE_URL_REPLICA",
        )


@rule(
    "caching",
    "suggestion",
    "a cache in front of hot reads",
    why="an app's hottest reads (a page's counts, a lookup by key) are read far more often than they change",
)
def caching(ctx: ReviewContext) -> Iterator[Finding]:
    if not any(_set(ctx, v) for v in CACHE_VARIABLES):
        reads = [q.name for q in ctx.queries.values() if not getattr(q, "modifies", False) and not getattr(q, "cross_user", False)]
        which = f" such as {', '.join(reads[:2])}" if reads else ""
        yield Finding(
            "caching",
            "environment",
            f"no cache server is configured ({', '.join(CACHE_VARIABLES)})",
            f"cache the app's hot reads{which} for a short TTL (Redis/Valkey), invalidated when the rows they read change",
        )


@rule(
    "audit-log",
    "suggestion",
    "audit logging of changes to the app's data",
    why="without an audit trail nobody can say who changed or deleted a row, or when",
)
def audit_log(ctx: ReviewContext) -> Iterator[Finding]:
    names = [t.name for t in ctx.metadata.tables.values()]
    if not any("audit" in n or n.endswith("_history") for n in names):
        yield Finding(
            "audit-log",
            "schema",
            "no audit table in the models (a table named *audit* or *_history)",
            "add an audit_log table (table, row id, user, action, old/new values, at) written by a trigger "
            "or by the app in the same transaction",
        )


@rule(
    "soft-delete",
    "suggestion",
    "soft deletes (deleted_at) on the rows people own",
    why="a hard delete cannot be undone by the user, support, or a restore short of the whole database",
)
def soft_delete(ctx: ReviewContext) -> Iterator[Finding]:
    for name in _owned_tables(ctx):
        if "deleted_at" not in find_table(ctx.metadata, name).c:
            sql = f"ALTER TABLE {table_ref(name)} ADD COLUMN deleted_at timestamptz;"
            yield Finding(
                "soft-delete",
                name,
                f"{name} has no deleted_at column: a delete removes the row for good",
                f"{sql}  then filter deleted_at IS NULL in the named queries, and purge old deleted rows in a job",
                sql=sql,
            )


@rule(
    "text-search-index",
    "suggestion",
    "full-text or trigram index where a named query searches text with LIKE/ILIKE",
    why="LIKE '%word%' cannot use a btree index: every row of the user's (or every user's) table is read",
)
def text_search_index(ctx: ReviewContext) -> Iterator[Finding]:
    from todoctl.core.review.query_shape import shape_of

    for named in ctx.queries.values():
        shape = shape_of(named, ctx.metadata)
        for condition in shape.conditions:
            if condition.kind == "like" and not _trigram_indexed(ctx, condition.table, condition.key):
                from todoctl.core.sql_names import key

                sql = (
                    f"CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY ON {table_ref(condition.table)} "
                    f"USING gin ({key(condition.key)} gin_trgm_ops);"
                )
                if _trigram_available(ctx):
                    hint = f"{sql}  or search a tsvector column with a GIN index"
                else:
                    sql, hint = "", "search a tsvector column with a GIN index (pg_trgm, for a trigram index, is not available on this server)"
                yield Finding(
                    "text-search-index",
                    f"query {named.name}",
                    f"searches {condition.table}.{condition.key} with {condition.operator} and no trigram index serves it",
                    hint,
                    sql=sql,
                )


def _trigram_available(ctx: ReviewContext) -> bool:
    """Whether the server can CREATE EXTENSION pg_trgm (offline: assumed, as on Neon and most servers)."""
    if ctx.offline:
        return True

    def ask() -> bool:
        from sqlalchemy import text

        return bool(
            ctx.connection().execute(text("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')")).scalar()
        )

    return ctx.cached("pg_trgm available", ask)


def _trigram_indexed(ctx: ReviewContext, table: str, column: str) -> bool:
    found = find_table(ctx.metadata, table)
    for index in found.indexes if found is not None else ():
        options = index.dialect_options["postgresql"]
        ops = options.get("ops") or {}
        if (options.get("using") or "").lower() in ("gin", "gist") and "trgm" in str(ops.get(column, "")):
            return True
    return False


@rule(
    "slow-query-monitoring",
    "suggestion",
    "slow-query monitoring (pg_stat_statements)",
    why="without per-statement statistics a slow query is found by the people waiting for it, not by its owners",
    live=True,
)
def slow_query_monitoring(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy import text

    installed, available = ctx.connection().execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'), "
            "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')"
        )
    ).one()
    if installed:
        return
    yield Finding(
        "slow-query-monitoring",
        "database",
        "pg_stat_statements is not installed" + ("" if available else ", and this server does not ship it"),
        "CREATE EXTENSION pg_stat_statements; (it must be in shared_preload_libraries; Neon has it) — "
        "then `todoctl health` can list the slowest statements",
        sql="CREATE EXTENSION pg_stat_statements;" if available else "",
    )


@rule(
    "backups-pitr",
    "suggestion",
    "backups and point-in-time restore",
    why="a bad migration or a mistaken DELETE is undone only by restoring to the moment before it",
)
def backups_pitr(ctx: ReviewContext) -> Iterator[Finding]:
    url = _url(ctx, "DATABASE_URL")
    if url is not None and url.host.endswith(NEON_DOMAIN):
        return  # Neon keeps the history: restore a branch to any moment in the retention window
    where = f"the server at {url.host}" if url is not None and url.host else "the local or embedded server"
    yield Finding(
        "backups-pitr",
        "DATABASE_URL",
        f"no point-in-time restore is known for {where}",
        "archive WAL and take base backups (pgBackRest, WAL-G, or the provider's PITR), and test a restore; "
        "on Neon, history retention provides it",
    )


@rule(
    "partitioning",
    "suggestion",
    f"partitioning for tables over {PARTITION_SIZE_VARIABLE} (default {DEFAULT_PARTITION_SIZE})",
    why="vacuum, index builds and deletes of old rows on one huge table take hours; on partitions they take minutes",
    live=True,
)
def partitioning(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from todoctl.errors import usage_error

    size = ctx.environ.get(PARTITION_SIZE_VARIABLE) or DEFAULT_PARTITION_SIZE
    conn = ctx.connection()
    try:
        limit = conn.execute(text("SELECT pg_size_bytes(:size)"), {"size": size}).scalar_one()
    except DBAPIError:
        conn.rollback()
        raise usage_error(
            f"{PARTITION_SIZE_VARIABLE}={size!r} is not a size", f"a PostgreSQL size such as 10GB, 500MB or 1TB (default {DEFAULT_PARTITION_SIZE})"
        ) from None
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_total_relation_size(c.oid), pg_size_pretty(pg_total_relation_size(c.oid)) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition "
            "AND pg_total_relation_size(c.oid) > :limit ORDER BY 2 DESC"
        ),
        {"limit": limit},
    ).all()
    for name, _, pretty in rows:
        yield Finding(
            "partitioning",
            name,
            f"{name} is {pretty}, over {size}, and not partitioned",
            f"partition {name} by range of a timestamp column (or by hash of its key) with a migration, or raise {PARTITION_SIZE_VARIABLE}",
        )


@rule(
    "analytics-replica",
    "suggestion",
    "read replica for analytics and cross-user jobs",
    why="a job that reads every user's rows competes with the app for the primary's cache and I/O",
)
def analytics_replica(ctx: ReviewContext) -> Iterator[Finding]:
    if any(_set(ctx, v) for v in REPLICA_VARIABLES):
        return
    for named in ctx.queries.values():
        if getattr(named, "cross_user", False):
            yield Finding(
                "analytics-replica",
                f"query {named.name}",
                "reads every user's rows on the primary: no replica is configured for it",
                "run cross-user jobs and reports against a read replica (DATABASE_URL_REPLICA)",
            )


@rule(
    "pooled-url",
    "suggestion",
    "a pooled URL for the app (Neon's -pooler host, not DATABASE_URL_UNPOOLED)",
    why="each app process holds its pool's connections; a pooler lets many processes share few server connections",
)
def pooled_url(ctx: ReviewContext) -> Iterator[Finding]:
    url = _url(ctx, "DATABASE_URL")
    if url is None or url.is_local or url.is_pooled:
        return
    unpooled = _url(ctx, "DATABASE_URL_UNPOOLED")
    same = unpooled is not None and unpooled.url == url.url
    yield Finding(
        "pooled-url",
        "DATABASE_URL",
        f"the app connects straight to {url.host}" + (" (the same URL as DATABASE_URL_UNPOOLED)" if same else ""),
        "point DATABASE_URL at the pooled endpoint (on Neon the host with -pooler) and keep the direct one in "
        "DATABASE_URL_UNPOOLED for migrations",
    )

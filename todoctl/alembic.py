"""The body of an app's Alembic ``env.py``, done the way todoctl needs it, in one call.

    # app/alembic/env.py
    from app.models import SQLModel
    from todoctl.alembic import run_migrations

    run_migrations(SQLModel.metadata)

What it does:

- **The shared connection.** When a caller hands Alembic a connection (todoctl does, and so does
  pytest-alembic: ``config.attributes["connection"]``, Alembic's connection-sharing recipe), the
  migrations run on it and nowhere else. Stock ``alembic upgrade head`` gets a connection from
  ``sqlalchemy.url`` in the ini, else the URL todoctl would choose (``DATABASE_URL_UNPOOLED``,
  ``DATABASE_URL``, ``.env``; the embedded server when nothing is configured).
- **todoctl's lock and timeouts.** ``lock_timeout`` and ``statement_timeout`` are set for the
  session; run by stock ``alembic``, the migration advisory lock that ``todoctl migrate up`` takes
  is taken too, so the two never run revisions at the same time.
- **One transaction per revision**, types compared in autogenerate, todoctl's own tables
  (``todoctl_*``) left out of autogenerate, the schemas the models name (``{"schema": "shop"}``)
  compared by autogenerate, and **offline mode** (``alembic upgrade --sql``).

Keyword arguments go to ``context.configure`` (``include_object`` is combined with todoctl's).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

__all__ = ["run_migrations", "include_object", "schema_options"]


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave todoctl's own bookkeeping tables (``todoctl_meta``, ...) out of the app's schema."""
    return not (type_ == "table" and name and name.startswith("todoctl_"))


def schema_options(target_metadata: Any, version_table_schema: str | None = None) -> dict:
    """``context.configure`` options that make autogenerate look at the schemas the models live in:
    the default schema (None, where Alembic's version table is unless told otherwise) and every
    schema a table names, and no other (another app's, PostGIS's ``tiger``...)."""
    schemas = {None, version_table_schema}
    for metadata in target_metadata if isinstance(target_metadata, (list, tuple)) else [target_metadata]:
        schemas |= {table.schema for table in getattr(metadata, "tables", {}).values()}

    def include_name(name, type_, parent_names) -> bool:
        return name in schemas if type_ == "schema" else True

    return {"include_schemas": True, "include_name": include_name}


def run_migrations(target_metadata: Any, **configure: Any) -> None:
    """Run the migrations Alembic asked for, offline or online; the whole body of ``env.py``."""
    from alembic import context

    config = context.config
    # todoctl reports progress itself; stock `alembic` logs as its ini configures.
    if config.config_file_name and not config.attributes.get("todoctl"):
        from logging.config import fileConfig

        try:
            fileConfig(config.config_file_name, disable_existing_loggers=False)
        except (KeyError, ValueError):  # an ini without logging sections
            pass
    theirs = configure.pop("include_object", None)
    options = dict(
        target_metadata=target_metadata,
        include_object=_both(theirs),
        compare_type=True,
        transaction_per_migration=True,
        on_version_apply=config.attributes.get("on_version_apply"),
    )
    if "include_schemas" not in configure and "include_name" not in configure:
        options.update(schema_options(target_metadata, configure.get("version_table_schema")))
    options.update(configure)
    if context.is_offline_mode():
        _offline(context, config, options)
    else:
        _online(context, config, options)


def _both(theirs: Callable | None) -> Callable:
    if theirs is None:
        return include_object

    def combined(obj, name, type_, reflected, compare_to) -> bool:
        return include_object(obj, name, type_, reflected, compare_to) and theirs(obj, name, type_, reflected, compare_to)

    return combined


def _offline(context, config, options: dict) -> None:
    from todoctl.core.migrate.settings import timeout_statements

    url = config.get_main_option("sqlalchemy.url") or "postgresql+psycopg://"
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
    with context.begin_transaction():
        for statement in timeout_statements(config.attributes.get("timeouts")):
            context.execute(statement)
        context.run_migrations()


def _online(context, config, options: dict) -> None:
    from sqlalchemy.engine import Connection

    shared = config.attributes.get("connection")
    if isinstance(shared, Connection):
        _run_on(context, config, shared, options)
    elif shared is not None:  # an Engine (pytest-alembic's alembic_engine, for one)
        with shared.connect() as conn:
            _run_on(context, config, conn, options)
    else:
        from todoctl.db.engine import connection, resolve

        url = resolve(config.get_main_option("sqlalchemy.url") or None, direct=True)
        with connection(url) as conn, _migration_lock(conn):
            _run_on(context, config, conn, options)


def _run_on(context, config, connection, options: dict) -> None:
    from todoctl.core.migrate.settings import timeout_statements

    _refuse_a_callers_transaction(connection)
    # Session-level settings: they hold for every per-revision transaction that follows.
    for statement in timeout_statements(config.attributes.get("timeouts")):
        connection.exec_driver_sql(statement)
    if connection.dialect.server_version_info >= (14,):
        # If the client dies (kill -9, lost network), the server cancels the running statement
        # within seconds instead of finishing a long DDL for nobody.
        connection.exec_driver_sql("SET client_connection_check_interval = '2s'")
    connection.commit()
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


def _refuse_a_callers_transaction(connection) -> None:
    # SQLAlchemy has no public flag for "inside the caller's `with engine.begin()`" (an
    # autobegun transaction, which todoctl leaves after reading the current revision, is fine).
    if getattr(connection, "_trans_context_manager", None) is not None:
        from alembic.util import CommandError

        raise CommandError(
            "migrations commit once per revision (and may build indexes CONCURRENTLY), so they "
            "cannot run inside the caller's transaction: share `engine.connect()` or the Engine, "
            "not `engine.begin()`"
        )


@contextmanager
def _migration_lock(connection) -> Iterator[None]:
    """todoctl's migration advisory lock, held by this session while stock ``alembic`` migrates."""
    import time

    from alembic.util import CommandError

    from todoctl.core.migrate.lock import LOCK_KEY, lock_wait_seconds

    deadline = time.monotonic() + lock_wait_seconds()
    while not connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({LOCK_KEY})").scalar():
        if time.monotonic() >= deadline:
            connection.rollback()
            raise CommandError("another migration holds todoctl's migration lock; try again when it has finished")
        time.sleep(0.25)
    connection.commit()
    try:
        yield
    finally:
        try:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK_KEY})")
            connection.commit()
        except Exception:  # the session is gone, and its lock with it
            pass

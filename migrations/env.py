"""Alembic environment, kept close to the stock template.

Alembic's connection-sharing recipe: a caller may put a Connection (todoctl does) or an
Engine (pytest-alembic's ``alembic_engine`` does) in ``config.attributes["connection"]``;
otherwise, as with stock ``alembic`` commands, the URL is resolved the way todoctl does.
todoctl's session settings apply in every case.
"""

from alembic import context
from sqlmodel import SQLModel

import todoctl.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from todoctl.core.migrate.settings import timeout_statements

config = context.config
# todoctl reports progress itself; stock `alembic` logs as configured in alembic.ini.
if config.config_file_name and not config.attributes.get("todoctl"):
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # todoctl's own bookkeeping tables are not part of the app's schema.
    if type_ == "table" and name and name.startswith("todoctl_"):
        return False
    return True


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
        on_version_apply=config.attributes.get("on_version_apply"),
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url="postgresql+psycopg://", literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        for statement in timeout_statements(config.attributes.get("timeouts")):
            context.execute(statement)
        context.run_migrations()


def _refuse_a_callers_transaction(connection) -> None:
    # SQLAlchemy has no public flag for "inside the caller's `with engine.begin()`" (an
    # autobegun transaction, which todoctl leaves after reading the current revision, is fine).
    if getattr(connection, "_trans_context_manager", None) is not None:
        from alembic.util import CommandError

        raise CommandError(
            "this migration history commits once per revision and builds indexes CONCURRENTLY, so it "
            "cannot run inside the caller's transaction: share `engine.connect()` or the Engine, "
            "not `engine.begin()`"
        )


def _run_on(connection) -> None:
    _refuse_a_callers_transaction(connection)
    # Session-level settings: they hold for every per-revision transaction that follows.
    for statement in timeout_statements(config.attributes.get("timeouts")):
        connection.exec_driver_sql(statement)
    if connection.dialect.server_version_info >= (14,):
        # If the client dies (kill -9, lost network), the server cancels the running statement
        # within seconds instead of finishing a long DDL for nobody.
        connection.exec_driver_sql("SET client_connection_check_interval = '2s'")
    connection.commit()
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    from sqlalchemy.engine import Connection

    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        _run_on(connectable)
    elif connectable is not None:  # an Engine (pytest-alembic's alembic_engine, for one)
        with connectable.connect() as conn:
            _run_on(conn)
    else:
        from todoctl.db.engine import connection, resolve

        url = resolve(config.get_main_option("sqlalchemy.url") or None, direct=True)
        with connection(url) as conn:
            _run_on(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

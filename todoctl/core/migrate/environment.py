"""Running the app's ``env.py``, and refusing one that would touch another database.

todoctl hands ``env.py`` its connection in ``config.attributes["connection"]`` (Alembic's
connection-sharing recipe). An ``env.py`` that ignores it — builds its own engine from its own
settings, as the stock template does — would migrate whatever database *it* names while todoctl
reports the one it was given. :class:`GuardedEnvironment` sees the connection ``env.py`` passes to
``context.configure`` and refuses (exit 4) before ``run_migrations`` can apply anything.

The verbs here are Alembic's own ``command.upgrade`` / ``downgrade`` / ``stamp`` / ``revision``
(alembic/command.py), each a few lines around an ``EnvironmentContext``, with that context
replaced by the guarded one. Autogenerate also renders SQLModel's column types as plain
SQLAlchemy ones, so a new revision needs no ``import sqlmodel`` to run.
"""

from __future__ import annotations

from typing import Any, Callable

from alembic import autogenerate
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from alembic.util import to_tuple

from todoctl.errors import ExitCode, TodoctlError, usage_error

# What to write in env.py, for the refusal's hint.
SHARED_CONNECTION_LINES = (
    'connectable = config.attributes.get("connection") or engine_from_config(...); '
    "context.configure(connection=connectable, target_metadata=target_metadata) "
    "(or the whole body: `from todoctl.alembic import run_migrations; run_migrations(target_metadata)`)"
)


class EnvIgnoresConnection(TodoctlError):
    def __init__(self, env_py: str, why: str) -> None:
        super().__init__(
            f"{env_py} {why}, not the one todoctl gave it in config.attributes[\"connection\"]; "
            "nothing was run: todoctl never works on a database other than the one it names",
            hint=f"in env.py, use the shared connection when it is set: {SHARED_CONNECTION_LINES}",
            exit_code=ExitCode.REFUSED,
        )


def _same_connection(given: Any, shared: Any) -> bool:
    from sqlalchemy.engine import Connection, Engine

    if given is shared:
        return True
    if isinstance(shared, Engine) and isinstance(given, Connection):
        return given.engine is shared
    if isinstance(shared, Connection) and isinstance(given, Connection):
        return given.connection.dbapi_connection is shared.connection.dbapi_connection
    return False


def _describe(connection: Any) -> str:
    from todoctl.db.url import mask

    engine = getattr(connection, "engine", None)
    url = getattr(engine, "url", None)
    if url is None:
        return "configured Alembic without a connection"
    return f"configured Alembic with a connection of its own ({mask(url.render_as_string(hide_password=True))})"


class GuardedEnvironment(EnvironmentContext):
    """An EnvironmentContext whose ``configure`` insists on the connection todoctl shared."""

    def configure(self, connection=None, url=None, **kwargs):  # noqa: D401 - Alembic's signature
        shared = self.config.attributes.get("connection")
        if shared is not None and not self.is_offline_mode() and not _same_connection(connection, shared):
            env_py = f"{self.script.dir}/env.py"
            raise EnvIgnoresConnection(env_py, _describe(connection))
        kwargs["render_item"] = _chain_render_item(kwargs.get("render_item"))
        if "include_schemas" not in kwargs and "include_name" not in kwargs and kwargs.get("target_metadata") is not None:
            # An env.py of its own (not run_migrations): autogenerate still sees the models' schemas.
            from todoctl.alembic import schema_options

            kwargs.update(schema_options(kwargs["target_metadata"], kwargs.get("version_table_schema")))
        return super().configure(connection=connection, url=url, **kwargs)


# `from alembic import context` in env.py is a module whose functions Alembic points at the active
# EnvironmentContext, through a registry keyed by class: the subclass shares its parent's entry.
GuardedEnvironment._setups[GuardedEnvironment] = EnvironmentContext._setups[EnvironmentContext]


def _chain_render_item(theirs: Callable | None) -> Callable:
    def render_item(type_, obj, autogen_context):
        if theirs is not None:
            rendered = theirs(type_, obj, autogen_context)
            if rendered is not False:
                return rendered
        return render_type(type_, obj, autogen_context)

    return render_item


def render_type(type_: str, obj: Any, autogen_context) -> str | bool:
    """SQLModel's column types as the SQLAlchemy types they stand for; any other type from outside
    SQLAlchemy gets its module imported in the revision. ``False``: Alembic's own rendering."""
    if type_ != "type":
        return False
    module = type(obj).__module__
    if module.startswith("sqlmodel"):
        impl = getattr(obj, "impl", None)  # AutoString -> String(length=...), UTCDateTime -> DateTime(...)
        if impl is not None and type(impl).__module__.startswith("sqlalchemy.sql"):
            return f"sa.{impl!r}"
    if not module.startswith(("sqlalchemy", "builtins")) and autogen_context.imports is not None:
        # Alembic writes such a type as module.Class(...) but imports nothing: the revision would
        # fail with NameError on `migrate up`.
        autogen_context.imports.add(f"import {module}")
    return False


def _offline_dialect(config: Config) -> None:
    """A stock env.py renders offline SQL (migrate sql, down --dry-run, verify's renders) with the
    dialect of alembic.ini's sqlalchemy.url, often alembic init's `driver://` placeholder. todoctl
    works on PostgreSQL only: offline, the URL is the dialect and nothing more (nothing connects)."""
    url = config.get_main_option("sqlalchemy.url") or ""
    if not url.split("://")[0].startswith("postgres"):
        config.set_main_option("sqlalchemy.url", "postgresql+psycopg://")


def _run(config: Config, script: ScriptDirectory, fn, **opts) -> None:
    from sqlalchemy.exc import DBAPIError

    if opts.get("as_sql"):
        _offline_dialect(config)

    with GuardedEnvironment(config, script, fn=fn, **opts) as environment:
        try:
            script.run_env()
        except TodoctlError:
            raise
        except DBAPIError as exc:
            shared = config.attributes.get("connection")
            if shared is None or environment._migration_context is not None:
                raise
            # env.py failed on a database call before it configured Alembic: with a connection
            # given to it, that call was on a connection of its own.
            from todoctl.db.url import mask

            first = (mask(str(getattr(exc, "orig", None) or exc)).strip().splitlines() or ["?"])[0]
            raise EnvIgnoresConnection(
                f"{script.dir}/env.py", f"failed on a connection of its own before configuring Alembic ({first})"
            ) from None
        except Exception as exc:
            if environment._migration_context is not None:
                raise  # a revision failed: the caller says which, and where the database stands
            from todoctl.project import describe_failure

            raise usage_error(
                f"{script.dir}/env.py failed before it configured Alembic: {describe_failure(exc)}",
                "fix the app's env.py or the modules it imports (see --verbose for the traceback)",
            ) from exc


def upgrade(config: Config, revision: str, *, sql: bool = False) -> None:
    """``alembic.command.upgrade`` through the guard."""
    script = ScriptDirectory.from_config(config)
    starting = None
    if ":" in revision:
        starting, revision = revision.split(":", 1)
    _run(config, script, lambda rev, ctx: script._upgrade_revs(revision, rev), as_sql=sql,
         starting_rev=starting, destination_rev=revision)


def downgrade(config: Config, revision: str, *, sql: bool = False) -> None:
    """``alembic.command.downgrade`` through the guard."""
    script = ScriptDirectory.from_config(config)
    starting = None
    if ":" in revision:
        starting, revision = revision.split(":", 1)
    _run(config, script, lambda rev, ctx: script._downgrade_revs(revision, rev), as_sql=sql,
         starting_rev=starting, destination_rev=revision)


def offline_sql(config: Config, rev_range: str, direction: str, *, range_hint: str) -> str:
    """The SQL of ``rev_range`` (``FROM:TO``) as Alembic's ``--sql`` mode writes it.

    A range Alembic cannot walk is a usage error with ``range_hint``; a revision whose Python
    cannot run offline (its ``upgrade()`` reads the database, say) is exit 1 naming its file.
    """
    import io

    from alembic.util.exc import CommandError
    from sqlalchemy.exc import CompileError

    buffer = io.StringIO()
    config.output_buffer = buffer  # where Alembic writes offline SQL
    run = upgrade if direction == "up" else downgrade
    try:
        run(config, rev_range, sql=True)
    except TodoctlError:
        raise
    except CommandError as exc:
        raise usage_error(f"cannot produce SQL for {direction} {rev_range}: {exc}", range_hint) from None
    except CompileError as exc:
        unnamed = _unnamed_constraint(exc)
        if unnamed is None:
            raise TodoctlError(
                f"cannot render {rev_range} as SQL: {str(exc).splitlines()[0]}",
                hint="fix the operation in the revision file",
                exit_code=ExitCode.CHECK_FAILED,
            ) from exc
        raise TodoctlError(
            f"cannot render {rev_range} as SQL: it drops a constraint that has no name ({unnamed})",
            hint="write the constraint's name in the revision's op.drop_constraint(...) (PostgreSQL's default is "
            "<table>_<column>_fkey for a foreign key, <table>_<column>_key for a unique one; see `todoctl schema "
            "show TABLE`), and give the app's MetaData a naming_convention so the next revision names it itself",
            exit_code=ExitCode.CHECK_FAILED,
        ) from exc
    except Exception as exc:
        from todoctl.db.url import mask
        from todoctl.project import describe_failure

        raise TodoctlError(
            f"cannot render {rev_range} as SQL offline: {mask(describe_failure(exc))}",
            hint="a revision that reads the database cannot run in --sql mode: write its steps as op.execute(...) "
            "statements, or branch on context.is_offline_mode()",
            exit_code=ExitCode.CHECK_FAILED,
        ) from exc
    return buffer.getvalue()


def _unnamed_constraint(exc: BaseException) -> str | None:
    """The unnamed constraint SQLAlchemy refused to DROP ("it has no name"), as `KIND on TABLE (COLUMNS)`.

    The CompileError carries only the constraint's repr (with object addresses); the constraint
    itself is the ``drop.element`` of SQLAlchemy's visit_drop_constraint frame."""
    if "it has no name" not in str(exc):
        return None
    tb = exc.__traceback__
    while tb is not None:
        constraint = getattr(tb.tb_frame.f_locals.get("drop"), "element", None)
        if constraint is not None and getattr(constraint, "table", None) is not None:
            columns = ", ".join(c.name for c in getattr(constraint, "columns", []))
            kind = type(constraint).__name__.replace("Constraint", "") or "constraint"
            return f"{kind} on {constraint.table.name}" + (f" ({columns})" if columns else "")
        tb = tb.tb_next
    return "a constraint"


def stamp(config: Config, revision: str, *, purge: bool = False) -> None:
    """``alembic.command.stamp`` (online) through the guard."""
    script = ScriptDirectory.from_config(config)
    destination = to_tuple([revision])
    _run(config, script, lambda rev, ctx: script._stamp_revs(destination, rev),
         destination_rev=destination, purge=purge)


def revision(config: Config, *, message: str, rev_id: str | None, autogenerate_: bool,
             process_revision_directives: Callable | None = None):
    """``alembic.command.revision`` through the guard; returns the Script written (None: nothing)."""
    script = ScriptDirectory.from_config(config)
    args = dict(message=message, autogenerate=autogenerate_, sql=False, head="head", splice=False,
                branch_label=None, version_path=None, rev_id=rev_id, depends_on=None)

    def directives(ctx, revision_, found) -> None:
        if found and found[0].upgrade_ops_list:
            from todoctl.core.migrate.unnamed import name_unnamed

            # First, while the downgrade is still the upgrade reversed (it is rebuilt from the named one).
            for script_ in found:
                name_unnamed(script_)
        native_enum_types(ctx, found)
        missing_schemas(ctx, found)
        if process_revision_directives is not None:
            process_revision_directives(ctx, revision_, found)

    context = autogenerate.RevisionContext(config, script, args, process_revision_directives=directives)

    def retrieve(rev, ctx):
        if autogenerate_:
            from todoctl.core.drift.models import quiet_reflection

            with quiet_reflection():
                context.run_autogenerate(rev, ctx)
        else:
            context.run_no_autogenerate(rev, ctx)
        return []

    _run(config, script, retrieve, as_sql=False, template_args=context.template_args, revision_context=context)
    scripts = [s for s in context.generate_scripts()]
    return scripts[0] if len(scripts) == 1 else scripts


def native_enum_types(context, directives) -> None:
    """PostgreSQL enum types that autogenerate uses but does not manage: ``create_table`` makes the
    type implicitly but ``drop_table`` leaves it (a downgrade and upgrade again fails: "type already
    exists"), and ``add_column`` does not make it at all ("type does not exist"). For each native
    enum type the database does not have yet, the upgrade creates it before its first use where
    needed and the downgrade drops it at the end."""
    from alembic.operations import ops
    from sqlalchemy import Enum

    connection = getattr(context, "connection", None)
    if connection is None or not directives:
        return
    script = directives[0]
    default = connection.exec_driver_sql("SELECT current_schema()").scalar()
    existing = {tuple(row) for row in connection.exec_driver_sql(
        "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e'"
    )}

    def enums_of(op) -> list:
        columns = []
        if isinstance(op, ops.CreateTableOp):
            columns = [c for c in op.columns if hasattr(c, "type")]
        elif isinstance(op, ops.AddColumnOp):
            columns = [op.column]
        elif isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
            return [op.modify_type] if isinstance(op.modify_type, Enum) else []
        return [c.type for c in columns if isinstance(c.type, Enum)]

    created: dict[tuple[str, str], Enum] = {}  # (schema, name): a type lives in its schema, the default one if none
    for upgrade_ops in script.upgrade_ops_list:
        flat = _flatten(upgrade_ops.ops)
        for op in flat:
            for enum in enums_of(op):
                where = (enum.schema or default, enum.name)
                if not enum.native_enum or not enum.name or where in existing or where in created:
                    continue
                created[where] = enum
                if not isinstance(op, ops.CreateTableOp):  # create_table makes its own types
                    _insert_before(upgrade_ops, op, ops.ExecuteSQLOp(_create_type(enum)))
    if not created:
        return
    for downgrade_ops in script.downgrade_ops_list:
        for enum in created.values():
            downgrade_ops.ops.append(ops.ExecuteSQLOp(f"DROP TYPE IF EXISTS {_type_name(enum)}"))


def missing_schemas(context, directives) -> None:
    """Alembic never creates a schema: a new table in a schema the database does not have yet
    (``__table_args__ = {"schema": "billing"}``) gets ``CREATE SCHEMA IF NOT EXISTS`` first in upgrade()."""
    from alembic.operations import ops

    connection = getattr(context, "connection", None)
    if connection is None or not directives:
        return
    existing = {row[0] for row in connection.exec_driver_sql("SELECT nspname FROM pg_namespace")}
    for upgrade_ops in directives[0].upgrade_ops_list:
        wanted = []
        for op in _flatten(upgrade_ops.ops):
            schema = getattr(op, "schema", None)
            if isinstance(op, ops.CreateTableOp) and schema and schema not in existing and schema not in wanted:
                wanted.append(schema)
        for schema in reversed(wanted):
            upgrade_ops.ops.insert(0, ops.ExecuteSQLOp(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}"))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _type_name(enum) -> str:
    """The enum type's name as SQL: qualified by its schema when it names one (``"shop"."status"``),
    so a downgrade drops that type and not one of the same name the search path finds first."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in (enum.schema, enum.name) if part)


def _create_type(enum) -> str:
    labels = ", ".join("'" + str(v).replace("'", "''") + "'" for v in enum.enums)
    return f"CREATE TYPE {_type_name(enum)} AS ENUM ({labels})"


def _flatten(items: list) -> list:
    flat = []
    for op in items:
        flat.extend(_flatten(op.ops) if hasattr(op, "ops") else [op])
    return flat


def _insert_before(container, target, new) -> bool:
    for index, op in enumerate(container.ops):
        if op is target:
            container.ops.insert(index, new)
            return True
        if hasattr(op, "ops") and _insert_before(op, target, new):
            return True
    return False

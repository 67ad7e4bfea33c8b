"""The app's own engine (``engine`` in ``[tool.todoctl]``), as health and review see it.

``engine`` names the app's ``Engine``, or a function returning one. A function that takes an
argument is given the URL of the database todoctl works on, and builds the app's pool on it exactly
as the app would; otherwise todoctl reads the Engine the app built and describes it
(:class:`EngineFacts`): the pool class, ``pool_size``, ``max_overflow``, ``pool_timeout``,
``pool_recycle``, ``pool_pre_ping``, and the arguments its dialect would hand the driver (the URL's
query and ``connect_args``: ``connect_timeout``, ``sslmode``, ``application_name``, the startup
``options`` such as ``-c statement_timeout=5s``). Those are read without connecting: a
``do_connect`` listener (SQLAlchemy's hook for exactly these arguments) captures them and hands back
a stand-in instead of a connection.

To measure that pool on todoctl's target database (``health --probe``, and the live half of
``review``'s query-timeout), :func:`on_target` builds a new Engine with the same pool class and
settings and the same connect arguments, with the address replaced: the target URL's host, port,
database, user and password, and any parameter the target URL sets itself (``sslmode``), win; the
startup ``options`` of both are kept. Listeners the app attached to its own Engine are not copied
(a function taking the URL builds them itself). Every connection the engine opens is checked to
have reached the target database before it is used: todoctl never touches another one.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from todoctl.project import Project

# Parameters that say where to connect and as whom: the target's replace the app's.
ADDRESS_KEYS = frozenset({"host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "servicefile"})
# psycopg arguments that are not libpq's but change what the app's sessions do.
DRIVER_KEYS = frozenset({"prepare_threshold"})
# The server settings a session's startup options can set that bound a session's waits.
TIMEOUT_SETTINGS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "transaction_timeout")
SSL_REQUIRED = frozenset({"require", "verify-ca", "verify-full"})  # libpq sslmodes at least as strict as require


@dataclass(frozen=True)
class EngineFacts:
    """What the app's Engine is configured with, read without connecting."""

    engine: str  # the reference in [tool.todoctl], e.g. "shelf.db:engine"
    pool_class: str  # QueuePool, NullPool, StaticPool, ...
    pool_size: int | None  # connections kept open (QueuePool); None for a pool without the notion
    max_overflow: int | None  # opened beyond pool_size under load; None: unbounded
    pool_max: int | None  # the most it opens at once; None: unbounded (NullPool: one per checkout)
    pool_timeout: float | None  # seconds a checkout waits for a connection before failing
    pool_recycle: int | None  # seconds before a connection is replaced; None: never
    pre_ping: bool  # a connection is tested before each checkout
    host: str  # "" for a Unix socket or libpq's default (never the whole URL: it may hold a password)
    local: bool
    sslmode: str | None  # as the driver gets it; None: libpq's default (prefer)
    connect_timeout: float | None  # seconds; None: wait as long as the OS does
    startup: dict[str, str] = field(default_factory=dict)  # -c name=value in the startup options
    application_name: str | None = None
    built_on_target: bool = False  # the engine function was given todoctl's URL
    notes: tuple[str, ...] = ()  # what todoctl could not read, and why

    def timeout(self, name: str) -> str | None:
        """A timeout its connect arguments set (``statement_timeout``...), as written; None: not set."""
        value = self.startup.get(name)
        return value if value not in (None, "", "0") else None


@dataclass
class AppEngine:
    """The app's engine, loaded: the object itself, what it is configured with, its connect arguments."""

    ref: str
    engine: "Engine"
    facts: EngineFacts
    connect_params: dict[str, Any] | None  # what the dialect hands the driver (None: a custom creator)
    built_on_target: bool  # the engine function was called with the target URL: it is the target's already


def skipped_reason(project: "Project") -> str | None:
    """Why the app's engine cannot be judged (no ``engine`` key), or None when it can."""
    if project.engine_ref:
        return None
    return f"no engine in [tool.todoctl] of {project.where}: add engine = \"module:attribute\" naming the app's Engine"


def load(project: "Project", url: DatabaseURL | None = None) -> AppEngine | None:
    """The app's engine (None when the project names none). A function taking an argument is called
    with ``url`` (the URL todoctl works on); with no ``url`` such a function cannot be called (None).
    Importing it or calling it failing is a usage error (exit 2) naming the key and the app's line."""
    if not project.engine_ref:
        return None
    found = project.load(project.engine_ref, "engine")
    built_on_target = False
    if callable(found) and not _is_engine(found):
        wants_url = _takes_an_argument(found)
        if wants_url and url is None:
            return None
        try:
            found = found(url.url) if wants_url else found()
        except TodoctlError:
            raise
        except Exception as exc:
            from todoctl.project import describe_failure

            raise project.error(
                "engine",
                f"{project.engine_ref}() failed: {mask(describe_failure(exc))}",
                "fix the app's configuration (the variables its engine reads), or name the Engine itself",
            ) from None
        built_on_target = wants_url
    if not _is_engine(found):
        raise project.error("engine", f"{project.engine_ref} is a {type(found).__name__}, not a SQLAlchemy Engine")
    params = connect_params(found)
    return AppEngine(project.engine_ref, found, describe(project.engine_ref, found, params, built_on_target), params, built_on_target)


def _is_engine(value: Any) -> bool:
    from sqlalchemy.engine import Engine

    return isinstance(value, Engine)


def _takes_an_argument(function: Any) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in signature.parameters.values()
    )


class _NotAConnection:
    """What the capturing do_connect listener returns instead of connecting."""


def connect_params(engine: "Engine") -> dict[str, Any] | None:
    """The keyword arguments the engine's dialect hands the driver's connect() (URL query and
    ``connect_args`` merged), captured by a do_connect listener that connects nothing; None when the
    engine connects through the app's own ``creator`` function, which todoctl cannot see into."""
    from sqlalchemy import event

    creator = getattr(engine.pool, "_creator", None)
    if getattr(creator, "__qualname__", "") != "create_engine.<locals>.connect":
        return None
    seen: dict[str, Any] = {}

    def capture(dialect, record, cargs, cparams):
        seen.update(cparams)
        return _NotAConnection()

    event.listen(engine, "do_connect", capture, insert=True)
    try:
        creator(None)
    finally:
        event.remove(engine, "do_connect", capture)
    return seen


def startup_settings(options: str | None) -> dict[str, str]:
    """``-c name=value`` / ``--name=value`` settings in libpq's ``options`` parameter. libpq splits
    it at spaces, except those escaped with a backslash (its documented rule)."""
    words, current, escaped = [], "", False
    for char in options or "":
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    if current:
        words.append(current)
    found: dict[str, str] = {}
    n = 0
    while n < len(words):
        word = words[n]
        if word == "-c" and n + 1 < len(words):
            setting, n = words[n + 1], n + 2
        elif word.startswith("-c"):
            setting, n = word[2:], n + 1
        elif word.startswith("--"):
            setting, n = word[2:], n + 1
        else:
            n += 1
            continue
        name, sep, value = setting.partition("=")
        if sep:
            found[name.strip().lower().replace("-", "_")] = value.strip()
    return found


def describe(ref: str, engine: "Engine", params: dict[str, Any] | None, built_on_target: bool = False) -> EngineFacts:
    """The engine's pool settings and connect arguments (:class:`EngineFacts`)."""
    from sqlalchemy.pool import NullPool, QueuePool, StaticPool

    pool = engine.pool
    notes: list[str] = []
    size = overflow = capacity = None
    timeout = None
    if isinstance(pool, QueuePool):
        size = pool.size()
        overflow_setting = getattr(pool, "_max_overflow", 0)
        overflow = overflow_setting if overflow_setting >= 0 else None
        capacity = size + overflow if overflow is not None else None
        timeout = float(pool.timeout())
    elif isinstance(pool, StaticPool):
        size, overflow, capacity = 1, 0, 1
    elif isinstance(pool, NullPool):
        notes.append("NullPool: a new connection for every checkout, none kept")
    recycle = getattr(pool, "_recycle", -1)
    if params is None:
        notes.append("the engine connects through the app's creator function: its connect arguments are not read")
        params = {}
    if engine.dialect.name != "postgresql":
        notes.append(f"a {engine.dialect.name} engine, not PostgreSQL")
    url = engine.url
    host = str(params.get("host") or url.host or "")
    connect_timeout = params.get("connect_timeout")
    try:
        connect_timeout = float(connect_timeout) if connect_timeout not in (None, "") else None
    except (TypeError, ValueError):
        connect_timeout = None
    return EngineFacts(
        engine=ref,
        pool_class=type(pool).__name__,
        pool_size=size,
        max_overflow=overflow,
        pool_max=capacity,
        pool_timeout=timeout,
        pool_recycle=int(recycle) if recycle is not None and recycle >= 0 else None,
        pre_ping=bool(getattr(pool, "_pre_ping", False)),
        host=host,
        local=host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/"),
        sslmode=str(params["sslmode"]) if params.get("sslmode") else None,
        connect_timeout=connect_timeout,
        startup=startup_settings(params.get("options")),
        application_name=str(params["application_name"]) if params.get("application_name") else None,
        built_on_target=built_on_target,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------- the app's pool on the target


def _libpq_keywords() -> frozenset[str]:
    from psycopg import pq

    return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())


def _target_params(url: DatabaseURL) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(url.libpq)


def engine_kwargs(app: AppEngine, url: DatabaseURL) -> dict[str, Any]:
    """``create_engine`` keywords for the app's pool on ``url``: the app's pool class and settings,
    its connect arguments with the target's address (see the module's docstring)."""
    from sqlalchemy.pool import QueuePool

    facts = app.facts
    pool = app.engine.pool
    kwargs: dict[str, Any] = {"poolclass": type(pool), "pool_pre_ping": facts.pre_ping, "hide_parameters": True}
    if facts.pool_recycle is not None:
        kwargs["pool_recycle"] = facts.pool_recycle
    if isinstance(pool, QueuePool):
        kwargs.update(
            pool_size=facts.pool_size,
            max_overflow=facts.max_overflow if facts.max_overflow is not None else -1,
            pool_timeout=facts.pool_timeout,
            pool_use_lifo=bool(getattr(getattr(pool, "_pool", None), "use_lifo", False)),
        )
    keep = _libpq_keywords() | DRIVER_KEYS
    target = _target_params(url)
    connect_args = {
        k: v for k, v in (app.connect_params or {}).items() if k in keep and k not in ADDRESS_KEYS and k not in target
    }
    if (app.connect_params or {}).get("options") and target.get("options"):
        connect_args["options"] = f"{app.connect_params['options']} {target['options']}"
    kwargs["connect_args"] = connect_args
    return kwargs


@contextmanager
def on_target(app: AppEngine, url: DatabaseURL, *, application_name: str | None = None) -> Iterator["Engine"]:
    """An Engine with the app's pool and connect arguments whose connections go to ``url`` (the
    app's own when the app built it for ``url``), disposed at the end. Each connection is checked
    to have reached ``url``'s database before use (exit 4 otherwise)."""
    from sqlalchemy import create_engine, event

    engine = app.engine if app.built_on_target else create_engine(url.url, **engine_kwargs(app, url))
    engine.echo = False  # the app's SQL echo must not reach todoctl's output
    if application_name:

        @event.listens_for(engine, "do_connect")
        def _name(dialect, record, cargs, cparams):
            cparams["application_name"] = application_name

    @event.listens_for(engine, "connect", insert=True)
    def _reached_target(dbapi_connection, record):
        reached = _database_of(dbapi_connection)
        if reached != url.database:
            dbapi_connection.close()
            raise TodoctlError(
                f"the app's engine ({app.ref}) connected to database {reached!r}, not {url.database!r}: "
                "todoctl works only on the database it names",
                hint="make the engine function build its engine from the URL it is given",
                exit_code=ExitCode.REFUSED,
            )

    try:
        yield engine
    finally:
        engine.dispose()


def _database_of(dbapi_connection) -> str | None:
    info = getattr(dbapi_connection, "info", None)
    name = getattr(info, "dbname", None)
    if name:
        return name
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]
    finally:
        cursor.close()


@dataclass(frozen=True)
class SessionSettings:
    """What a session through the app's pool on the target gets, read from the server (the role's and
    database's settings, the startup options, and what the engine's listeners set, all applied)."""

    statement_timeout: str
    lock_timeout: str
    idle_in_transaction_session_timeout: str
    ssl: bool | None


def session_settings(engine: "Engine") -> SessionSettings:
    """One connection from ``engine``, asked inside a transaction (which is rolled back)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
                "current_setting('idle_in_transaction_session_timeout'), "
                "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())"
            )
        ).one()
        conn.rollback()
    return SessionSettings(row[0], row[1], row[2], row[3])

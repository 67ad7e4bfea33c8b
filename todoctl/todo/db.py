"""The Todo app's database module: one engine and its sessions, configured from the app's variables.

    from todoctl.todo.db import get_session, session_scope, ping

    with session_scope() as session:          # commit on success, rollback on any exception
        session.add(task)

    @app.get("/tasks")                         # FastAPI
    def read_tasks(session: Session = Depends(get_session)): ...

    @app.get("/health/db")
    def health_db(): return ping().as_dict()

Variables (environment first, then ``.env``), docs/todo-app.md "The app's database module":
``DATABASE_URL``, ``DB_POOL_MIN`` (5), ``DB_POOL_MAX`` (20), ``DB_POOL_RECYCLE`` (3600 s),
``DB_POOL_TIMEOUT`` (30 s), ``DB_CONNECT_TIMEOUT`` (10 s), ``DB_QUERY_TIMEOUT`` (30 s, 0: none),
``DEBUG`` (false; true echoes SQL). ``todoctl health`` measures this very pool.

No CLI library is imported here; the engine is built on first use, never at import.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Collection, Iterator, Mapping
from urllib.parse import parse_qsl

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from todoctl.db.url import DatabaseURL, mask, normalise
from todoctl.errors import TodoctlError

__all__ = [
    "APP_VARIABLES",
    "AppSettings",
    "PingResult",
    "dispose_engine",
    "engine_for_url",
    "engine_from_env",
    "engine_from_settings",
    "get_engine",
    "get_session",
    "ping",
    "pool_stats",
    "session_scope",
    "sslmode",
]

# field -> (variable, default as the deployment would write it, smallest accepted value)
APP_VARIABLES: dict[str, tuple[str, str, float | None]] = {
    "pool_min": ("DB_POOL_MIN", "5", 1),  # QueuePool reads pool_size=0 as "no limit": not a minimum
    "pool_max": ("DB_POOL_MAX", "20", 1),
    "pool_recycle": ("DB_POOL_RECYCLE", "3600", 1),
    "pool_timeout": ("DB_POOL_TIMEOUT", "30", None),  # seconds, a positive number
    "connect_timeout": ("DB_CONNECT_TIMEOUT", "10", 1),
    "query_timeout": ("DB_QUERY_TIMEOUT", "30", 0),  # 0: no statement_timeout
    "debug": ("DEBUG", "false", None),
}
# Names `todoctl health` once read for its own copy of the pool; the app never did.
RETIRED_VARIABLES = {
    "DB_POOL_SIZE": "DB_POOL_MIN",
    "DB_POOL_MAX_OVERFLOW": "DB_POOL_MAX (the total, not the overflow)",
    "DB_POOL_PRE_PING": "nothing: pre-ping is always on",
}
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}
# sslmode values at least as strict as "require" (libpq's order).
_SSL_REQUIRED = {"require", "verify-ca", "verify-full"}


@dataclass(frozen=True)
class AppSettings:
    """The app's database settings; ``from_env`` reads them, ``engine_from_settings`` uses them."""

    url: DatabaseURL | None = field(default=None, repr=False)  # repr: it holds the password
    pool_min: int = 5
    pool_max: int = 20
    pool_recycle: int = 3600
    pool_timeout: float = 30.0
    connect_timeout: int = 10
    query_timeout: int = 30
    debug: bool = False
    application_name: str = "todo-app"
    # field -> "DB_POOL_MIN", "DB_POOL_MIN (.env)" or "default"
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    # Retired variables found set (e.g. DB_POOL_SIZE), each with what replaces it.
    notes: tuple[str, ...] = field(default=(), compare=False)

    __json_properties__ = ("max_overflow",)

    def __post_init__(self) -> None:
        if self.pool_min > self.pool_max:
            raise ValueError(
                f"DB_POOL_MIN ({self.pool_min}) must not be greater than DB_POOL_MAX ({self.pool_max})"
            )

    @property
    def max_overflow(self) -> int:
        """Connections opened beyond ``pool_min`` under load (SQLAlchemy's ``max_overflow``)."""
        return self.pool_max - self.pool_min

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        ignore: Collection[str] = (),
        application_name: str = "todo-app",
    ) -> "AppSettings":
        """Read and check the app's variables; a bad value is a ValueError naming the variable.

        ``environ=None`` reads ``os.environ`` then ``.env`` (python-dotenv, found from the working
        directory), as todoctl does; an explicit mapping is read alone. Variables named in ``ignore``
        are not read (their defaults apply; ``DATABASE_URL``: ``url`` None): todoctl health resolves
        its own URL (``--database-url``) and never echoes SQL; ``dataclasses.replace`` adds them.
        """
        lookup = _lookup(environ)
        values: dict = {}
        sources: dict[str, str] = {}
        for name, (variable, default, low) in APP_VARIABLES.items():
            raw, source = lookup(variable) if variable not in ignore else (None, "")
            if raw is None:
                raw, source = default, "default"
            values[name] = _parse(variable, raw.strip(), low, boolean=name == "debug", whole=name != "pool_timeout")
            sources[name] = source
        url = None
        if "DATABASE_URL" not in ignore:
            raw, source = lookup("DATABASE_URL")
            url = _app_url(raw, source) if raw is not None else None
        if url is not None:
            sslmode(url)  # refuse an unencrypted remote URL now, not at the first request
        notes = tuple(
            f"{old} is set but no longer read; the app's pool uses {new}"
            for old, new in RETIRED_VARIABLES.items()
            if lookup(old)[0] is not None
        )
        return cls(url=url, application_name=application_name, sources=sources, notes=notes, **values)


def _lookup(environ: Mapping[str, str] | None):
    """A function variable -> (value or None, source); an empty value counts as unset, as for DATABASE_URL."""
    if environ is not None:
        def given(name: str) -> tuple[str | None, str]:
            value = environ.get(name)
            return (value if value and value.strip() else None), name

        return given
    dotenv: dict[str, str] | None = None

    def lookup(name: str) -> tuple[str | None, str]:
        nonlocal dotenv
        value = os.environ.get(name)
        if value and value.strip():
            return value, name
        if dotenv is None:
            dotenv = _dotenv()
        value = dotenv.get(name)
        return (value if value and value.strip() else None), f"{name} (.env)"

    return lookup


def _dotenv() -> dict[str, str]:
    from dotenv import dotenv_values, find_dotenv

    path = find_dotenv(usecwd=True)
    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}


def _parse(variable: str, raw: str, low: float | None, *, boolean: bool, whole: bool):
    if boolean:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError(f"{variable} must be true or false (1/0, yes/no, on/off), not {raw!r}")
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ValueError(f"{variable} must be {'a whole number' if whole else 'a number'}, not {raw!r}") from None
    if low is None and not value > 0:
        raise ValueError(f"{variable} must be more than 0, not {raw!r}")
    if low is not None and value < low:
        raise ValueError(f"{variable} must be {low} or more, not {raw!r}")
    return value


def _app_url(raw: str, source: str) -> DatabaseURL:
    try:
        return normalise(raw, source=source)
    except TodoctlError as exc:  # the app knows ValueError, not todoctl's CLI error
        raise ValueError(f"{source}: {exc.message}") from None


def sslmode(url: DatabaseURL) -> str | None:
    """The sslmode the app connects with: at least ``require`` off this machine; None leaves libpq's default.

    A remote URL that asks for ``disable`` is refused (ValueError): the password and the data
    would cross the network in clear.
    """
    asked = dict(parse_qsl(url.parts.query)).get("sslmode")
    if url.is_local:
        return asked
    if asked == "disable":
        raise ValueError(
            f"{url.source}: sslmode=disable is refused for the remote host {url.host!r}; "
            "remove it (the app adds sslmode=require) or use verify-full"
        )
    return asked if asked in _SSL_REQUIRED else "require"


# ----------------------------------------------------------------------------- the engine


def engine_from_settings(settings: AppSettings) -> Engine:
    """The app's engine: a QueuePool of DB_POOL_MIN..DB_POOL_MAX connections, checked before use."""
    url = settings.url
    if url is None:
        raise ValueError("DATABASE_URL is not set: the app needs postgresql://USER:PASSWORD@HOST/DBNAME")
    connect_args: dict = {
        "connect_timeout": settings.connect_timeout,
        "application_name": settings.application_name,
    }
    mode = sslmode(url)
    if mode:
        connect_args["sslmode"] = mode
    # PgBouncer in transaction mode cannot keep server-side prepared statements, and it drops (or
    # refuses) the startup "options" parameter: there the timeout is set in each transaction.
    per_transaction = url.is_pooled
    if url.is_pooled:
        connect_args["prepare_threshold"] = None
    timeout_ms = settings.query_timeout * 1000
    if timeout_ms and not per_transaction:
        given = dict(parse_qsl(url.parts.query)).get("options", "")
        connect_args["options"] = f"{given} -c statement_timeout={timeout_ms}".strip()
    engine = create_engine(
        url.url,
        poolclass=QueuePool,
        pool_size=settings.pool_min,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=True,
        echo=settings.debug,
        hide_parameters=True,
        connect_args=connect_args,
    )
    if timeout_ms:
        _enforce_statement_timeout(engine, timeout_ms, per_transaction=per_transaction)
    return engine


def _enforce_statement_timeout(engine: Engine, timeout_ms: int, *, per_transaction: bool) -> None:
    """Make DB_QUERY_TIMEOUT hold on every transaction, whether or not a pooler sits in between."""
    state = {"per_transaction": per_transaction}

    @event.listens_for(engine, "connect")
    def _check_startup_options(dbapi_conn, record) -> None:
        if state["per_transaction"]:
            return
        # A pooler without "-pooler" in its host name may have dropped the startup options
        # silently (PgBouncer's ignore_startup_parameters): then fall back to SET LOCAL.
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
            got = cursor.fetchone()[0]
        dbapi_conn.rollback()
        if str(got) != str(timeout_ms):
            state["per_transaction"] = True

    @event.listens_for(engine, "begin")
    def _set_local_timeout(conn) -> None:
        if not state["per_transaction"]:
            return
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.autocommit:  # SET LOCAL outside a transaction does nothing
            return
        # The DBAPI cursor, not conn.execute(): the Connection is still beginning its transaction.
        # SET LOCAL ends with the transaction, so nothing leaks into PgBouncer's shared connection.
        with dbapi_conn.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


def engine_for_url(url: str) -> Engine:
    """The app's engine on ``url``, every other setting from the app's variables (``DB_POOL_*``,
    ``DB_*_TIMEOUT``): how ``[tool.todoctl] engine`` names it, so that ``todoctl health`` and
    ``review`` measure this very pool on the database they were given."""
    from dataclasses import replace

    settings = AppSettings.from_env(ignore=("DATABASE_URL", "DEBUG"))
    return engine_from_settings(replace(settings, url=_app_url(url, "the database todoctl works on")))


def engine_from_env(environ: Mapping[str, str] | None = None) -> Engine:
    """``engine_from_settings(AppSettings.from_env(environ))``."""
    return engine_from_settings(AppSettings.from_env(environ))


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The module's engine, built from the environment on first use (never at import)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = engine_from_env()
    return _engine


def dispose_engine() -> None:
    """Close the module's engine (on shutdown, or after changing the variables); the next use rebuilds it."""
    global _engine
    with _engine_lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None


# ----------------------------------------------------------------------------- sessions


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends, rolls back on any exception (Ctrl-C too), and is closed."""
    session = Session(engine or get_engine())
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session() -> Iterator[Session]:
    """A FastAPI dependency: ``session: Session = Depends(get_session)``.

    It does not commit: the endpoint calls ``session.commit()``, so that a failed commit becomes
    an error response (FastAPI may run a dependency's exit code after the response has gone).
    An exception rolls back; the session is always closed.
    """
    session = Session(get_engine())
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# ----------------------------------------------------------------------------- ping


@dataclass
class PoolStats:
    size: int | None  # DB_POOL_MIN: connections kept open
    checked_in: int | None  # open and idle
    checked_out: int | None  # in use by a session now
    overflow: int | None  # open beyond DB_POOL_MIN
    max: int | None  # DB_POOL_MAX


@dataclass
class PingResult:
    status: str  # "ok" | "fail"
    latency_ms: float
    server_time: datetime | None
    server_version: str | None
    pool: PoolStats
    error: str | None = None

    def as_dict(self) -> dict:
        """A JSON-ready dict, e.g. the body of an app's ``/health/db``."""
        data = asdict(self)
        data["server_time"] = self.server_time.isoformat() if self.server_time else None
        return data


def pool_stats(engine: Engine) -> PoolStats:
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return PoolStats(None, None, None, None, None)
    # QueuePool.overflow() counts from -pool_size up; the max overflow has no public accessor.
    max_overflow = getattr(pool, "_max_overflow", 0)
    return PoolStats(
        size=pool.size(),
        checked_in=pool.checkedin(),
        checked_out=pool.checkedout(),
        overflow=max(0, pool.overflow()),
        max=pool.size() + max_overflow if max_overflow >= 0 else None,
    )


def ping(engine: Engine | None = None) -> PingResult:
    """Check out a connection and ask the server its time and version; never raises for a down database.

    ``latency_ms`` is what a request pays: the checkout (with its pre-ping) and one round trip.
    """
    from sqlalchemy import text

    started = time.perf_counter()
    try:
        engine = engine or get_engine()
        with engine.connect() as conn:
            now, version = conn.execute(text("SELECT now(), current_setting('server_version')")).one()
            conn.rollback()
        status, error = "ok", None
    except Exception as exc:  # a down or refusing server is a "fail", not an exception for the app
        now = version = None
        lines = mask(str(getattr(exc, "orig", None) or exc)).strip().splitlines()
        status, error = "fail", (lines[0] if lines else type(exc).__name__)
    latency = round((time.perf_counter() - started) * 1000, 2)
    stats = pool_stats(engine) if isinstance(engine, Engine) else PoolStats(None, None, None, None, None)
    return PingResult(status, latency, now, version, stats, error)

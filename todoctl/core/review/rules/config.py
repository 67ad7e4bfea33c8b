"""Review rules: the app's connection settings, as ``todoctl.app.AppSettings`` reads them.

The settings are read from the review's environment (process environment over ``.env``) with the
app's own parser, so the review judges exactly what the app would run with. ``DATABASE_URL`` is
left to the security rules (ssl-required, hardcoded-credentials).

- pool-size (warning): ``DB_POOL_MIN`` (SQLAlchemy's pool_size: connections kept open) under 5, or
  ``DB_POOL_MAX`` (the most the app opens) over 50.
- pool-recycle (warning): ``DB_POOL_RECYCLE`` under 60 seconds.
- query-timeout (warning): ``DB_QUERY_TIMEOUT=0`` and, live, no ``statement_timeout`` that a new
  session of the reviewing role on this database starts with (the configuration file, ``ALTER
  DATABASE``/``ALTER ROLE ... SET``, or the URL's ``options``). Offline, 0 alone is a finding.
"""

from __future__ import annotations

from typing import Iterator

from todoctl.core.review.engine import Finding, ReviewContext, rule

POOL_MIN_FLOOR = 5
POOL_MAX_CEILING = 50
RECYCLE_FLOOR_S = 60


def _settings(ctx: ReviewContext):
    """``(AppSettings, None)`` or ``(None, the app's own error message)``."""
    from todoctl.todo.db import AppSettings

    try:
        return AppSettings.from_env(ctx.environ, ignore=("DATABASE_URL",)), None
    except ValueError as exc:
        return None, str(exc)


def _where(settings, name: str, variable: str) -> str:
    source = settings.sources.get(name, "default")
    return variable if source != "default" else f"{variable} (default)"


@rule(
    "pool-size",
    "warning",
    f"app pool too small (DB_POOL_MIN < {POOL_MIN_FLOOR}) or too large (DB_POOL_MAX > {POOL_MAX_CEILING})",
    why="too few kept connections pay a connection setup on every burst; too many exhaust the server's connection slots",
)
def pool_size(ctx: ReviewContext) -> Iterator[Finding]:
    settings, error = _settings(ctx)
    if settings is None:
        yield Finding(
            "pool-size",
            "environment",
            f"the app's database settings do not load: {error}",
            "fix the variable named; the app would refuse to start with it",
        )
        return
    if settings.pool_min < POOL_MIN_FLOOR:
        yield Finding(
            "pool-size",
            _where(settings, "pool_min", "DB_POOL_MIN"),
            f"DB_POOL_MIN={settings.pool_min} keeps fewer than {POOL_MIN_FLOOR} connections open",
            f"set DB_POOL_MIN={POOL_MIN_FLOOR} or more (connections kept open between requests)",
        )
    if settings.pool_max > POOL_MAX_CEILING:
        yield Finding(
            "pool-size",
            _where(settings, "pool_max", "DB_POOL_MAX"),
            f"DB_POOL_MAX={settings.pool_max} lets one app process open more than {POOL_MAX_CEILING} connections",
            f"set DB_POOL_MAX={POOL_MAX_CEILING} or less, and put a pooler (Neon's -pooler URL, PgBouncer) in front for more clients",
        )


@rule(
    "pool-recycle",
    "warning",
    f"pool recycles connections more often than every {RECYCLE_FLOOR_S} s",
    why="a connection replaced every few seconds pays a new TCP/TLS handshake and authentication each time",
)
def pool_recycle(ctx: ReviewContext) -> Iterator[Finding]:
    settings, _ = _settings(ctx)  # an unreadable setting is reported once, by pool-size
    if settings is not None and settings.pool_recycle < RECYCLE_FLOOR_S:
        yield Finding(
            "pool-recycle",
            _where(settings, "pool_recycle", "DB_POOL_RECYCLE"),
            f"DB_POOL_RECYCLE={settings.pool_recycle} s replaces every connection within a minute",
            "set DB_POOL_RECYCLE=3600 (an hour; below the server's or proxy's idle timeout if it has one)",
        )


@rule(
    "query-timeout",
    "warning",
    "no query timeout (neither DB_QUERY_TIMEOUT nor a role or database statement_timeout)",
    why="without a statement timeout one runaway query holds a connection and its locks until someone kills it",
)
def query_timeout(ctx: ReviewContext) -> Iterator[Finding]:
    settings, _ = _settings(ctx)
    if settings is None or settings.query_timeout > 0:
        return
    hint = "set DB_QUERY_TIMEOUT=30 (seconds), or ALTER ROLE <app role> SET statement_timeout = '30s'"
    if ctx.offline:
        yield Finding(
            "query-timeout",
            _where(settings, "query_timeout", "DB_QUERY_TIMEOUT"),
            "DB_QUERY_TIMEOUT=0 turns the app's statement_timeout off (a server-side timeout was not checked: --offline)",
            hint,
        )
        return
    from sqlalchemy import text

    # reset_val, not setting: the review's own connection runs under SET LOCAL statement_timeout;
    # what RESET returns to is what the role, database, configuration or URL options give the app.
    (setting,) = ctx.connection().execute(
        text("SELECT reset_val FROM pg_settings WHERE name = 'statement_timeout'")
    ).one()
    if setting != "0":
        return  # the role, the database, the server's configuration or the URL's options set one
    yield Finding(
        "query-timeout",
        _where(settings, "query_timeout", "DB_QUERY_TIMEOUT"),
        "DB_QUERY_TIMEOUT=0 and the server sets no statement_timeout for this role and database",
        hint,
    )

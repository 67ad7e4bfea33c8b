"""Review rules: the app's connection pool, as the app's own engine (``engine`` in ``[tool.todoctl]``)
is configured (core/app_engine.py reads it without connecting).

- pool-size (warning): a QueuePool keeping fewer than 5 connections (``pool_size``), or able to
  open more than 50 at once (``pool_size + max_overflow``; ``max_overflow=-1`` has no limit).
- pool-recycle (warning): ``pool_recycle`` under 60 seconds.
- query-timeout (warning): the engine sets no ``statement_timeout`` (its connect arguments' startup
  options) and, live, a session through the app's pool on this database gets none either (the
  role's, the database's or the server's setting, or what the engine's own listeners set). Offline,
  the engine's arguments alone decide.

Without ``engine`` in ``[tool.todoctl]`` each rule is listed as skipped, with why: todoctl judges
the app's pool, never its own.
"""

from __future__ import annotations

from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule

POOL_MIN_FLOOR = 5
POOL_MAX_CEILING = 50
RECYCLE_FLOOR_S = 60


def _app(ctx: ReviewContext):
    app = ctx.app_engine()
    if app is None:
        ctx.skip(ctx.engine_skipped())
    return app


def _where(app) -> str:
    return f"engine {app.ref}"


@rule(
    "pool-size",
    "warning",
    f"app pool too small (pool_size < {POOL_MIN_FLOOR}) or too large (more than {POOL_MAX_CEILING} connections)",
    why="too few kept connections pay a connection setup on every burst; too many exhaust the server's connection slots",
)
def pool_size(ctx: ReviewContext) -> Iterator[Finding]:
    app = _app(ctx)
    if app is None:
        return
    facts = app.facts
    if facts.pool_size is None:
        return  # NullPool, StaticPool...: no pool size to judge
    if facts.pool_size < POOL_MIN_FLOOR:
        yield Finding(
            "pool-size",
            _where(app),
            f"the app's {facts.pool_class} keeps {facts.pool_size} connection(s) open (pool_size), fewer than {POOL_MIN_FLOOR}",
            f"create_engine(..., pool_size={POOL_MIN_FLOOR}) or more (connections kept open between requests)",
        )
    if facts.pool_max is None or facts.pool_max > POOL_MAX_CEILING:
        most = "any number of" if facts.pool_max is None else f"{facts.pool_max}"
        yield Finding(
            "pool-size",
            _where(app),
            f"the app's pool can open {most} connections at once (pool_size {facts.pool_size} + max_overflow "
            f"{'unbounded' if facts.max_overflow is None else facts.max_overflow}), more than {POOL_MAX_CEILING}",
            f"keep pool_size + max_overflow at {POOL_MAX_CEILING} or less per process, and put a pooler (Neon's -pooler "
            "URL, PgBouncer) in front for more clients",
        )


@rule(
    "pool-recycle",
    "warning",
    f"pool recycles connections more often than every {RECYCLE_FLOOR_S} s",
    why="a connection replaced every few seconds pays a new TCP/TLS handshake and authentication each time",
)
def pool_recycle(ctx: ReviewContext) -> Iterator[Finding]:
    app = _app(ctx)
    if app is not None and app.facts.pool_recycle is not None and app.facts.pool_recycle < RECYCLE_FLOOR_S:
        yield Finding(
            "pool-recycle",
            _where(app),
            f"pool_recycle={app.facts.pool_recycle} s replaces every connection within a minute",
            "create_engine(..., pool_recycle=3600) (an hour; below the server's or proxy's idle timeout if it has one)",
        )


@rule(
    "query-timeout",
    "warning",
    "no query timeout (neither the app's engine nor the role, database or server sets statement_timeout)",
    why="without a statement timeout one runaway query holds a connection and its locks until someone kills it",
    live_part="the statement_timeout a session through the app's pool gets on this database",
)
def query_timeout(ctx: ReviewContext) -> Iterator[Finding]:
    app = _app(ctx)
    if app is None or app.facts.timeout("statement_timeout"):
        return
    hint = (
        "create_engine(..., connect_args={\"options\": \"-c statement_timeout=30s\"}), "
        "or ALTER ROLE <app role> SET statement_timeout = '30s'"
    )
    if ctx.offline:
        yield Finding(
            "query-timeout",
            _where(app),
            "the app's engine sets no statement_timeout (a server-side one was not checked: --offline)",
            hint,
        )
        return
    from sqlalchemy.exc import DBAPIError

    import todoctl.core.app_engine as app_engine
    from todoctl.db.url import mask

    try:
        with app_engine.on_target(app, ctx.url, application_name="todoctl review") as engine:
            settings = app_engine.session_settings(engine)
    except DBAPIError as exc:
        lines = mask(str(exc.orig or exc)).strip().splitlines()
        ctx.skip(f"no session through the app's pool on this database: {lines[0] if lines else type(exc).__name__}")
        return
    if settings.statement_timeout != "0":
        return  # the role, the database, the server's configuration or the engine's listeners set one
    yield Finding(
        "query-timeout",
        _where(app),
        "the app's engine sets no statement_timeout, and a session through it on this database gets none "
        "from the role, the database or the server",
        hint,
    )

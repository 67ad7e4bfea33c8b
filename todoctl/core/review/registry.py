"""What a review rule is, the registry it joins with ``@rule``, and the context it reads.

Rule modules (``rules/``) import this module only; the engine (engine.py) imports them to run them.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from todoctl.core.review.report import TIERS, Finding  # noqa: F401 - rules import them from here

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

    from todoctl.core.app_engine import AppEngine
    from todoctl.db.url import DatabaseURL
    from todoctl.named_queries import NamedQuery
    from todoctl.project import Project

# A live rule's query gets this long (orphan counts scan child tables); then the review fails loudly.
REVIEW_STATEMENT_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Rule:
    id: str
    tier: str
    title: str  # what it checks, as in the checklist
    why: str  # why it matters, one sentence
    live: bool
    check: Callable[["ReviewContext"], Iterable[Finding]]
    # A rule that runs offline but also looks at the database when it can (``ctx.offline`` tells it):
    # what that live half checks, listed among the skipped with --offline.
    live_part: str | None = None


RULES: dict[str, Rule] = {}


def rule(id: str, tier: str, title: str, *, why: str, live: bool = False, live_part: str | None = None):
    """Register a rule function ``(ctx) -> Iterable[Finding]`` under a stable id.

    ``live=True``: the rule needs the database and is skipped offline. ``live_part="..."``: the rule
    runs offline too (on the models, files, settings) and checks ``ctx.offline`` before its live half.
    """
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not one of {TIERS}")
    if live and live_part:
        raise ValueError(f"rule {id!r}: live=True runs only online; live_part is for rules that run offline too")

    def register(check: Callable[["ReviewContext"], Iterable[Finding]]):
        if id in RULES:
            raise ValueError(f"review rule {id!r} registered twice")
        RULES[id] = Rule(id, tier, title, why, live, check, live_part)
        return check

    return register


@dataclass
class ReviewContext:
    """What the rules look at. Tests build one over a small model, query set, directory or database.

    ``connection()`` opens (once) a read-only connection to ``url``; rules with ``live=True`` only.
    """

    root: Path  # the project directory: files are read from here, locations are relative to it
    metadata: "MetaData"  # the app's tables (SQLModel.metadata)
    queries: Mapping[str, "NamedQuery"]  # the named-query registry
    environ: Mapping[str, str]  # the app's settings: process environment over .env
    url: "DatabaseURL | None" = None  # None when offline
    schema: str | None = None  # the database schema live rules read (None: the app's schemas)
    sources: tuple[str, ...] = ()  # globs (relative to root) of the app's code: what sql-injection scans
    project: "Project | None" = None  # the app's [tool.todoctl]: its engine (None: no engine to judge)
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)
    _conn: "Connection | None" = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)
    _skips: list = field(default_factory=list, repr=False)

    @property
    def offline(self) -> bool:
        return self.url is None

    def skip(self, why: str) -> None:
        """The running rule (or a part of it) could not judge: listed among the skipped, with ``why``."""
        self._skips.append(why)

    def source_files(self) -> list[Path]:
        """The files the ``sources`` globs match under the root, in order, each once."""
        found: dict[Path, None] = {}
        for pattern in self.sources:
            for path in sorted(self.root.glob(pattern)):
                if path.is_file():
                    found.setdefault(path, None)
        return list(found)

    def app_engine(self) -> "AppEngine | None":
        """The app's engine (loaded once); None, with the reason recorded by :meth:`engine_skipped`,
        when the project names none or it is built from a URL and none is known offline."""
        return self.cached("app-engine", self._load_engine)

    def _load_engine(self):
        import todoctl.core.app_engine as app_engine

        if self.project is None or not self.project.engine_ref:
            return None
        url = self.url
        if url is None:
            from todoctl.db.target import configured_url
            from todoctl.errors import TodoctlError

            try:
                url = configured_url()  # offline: the URL the app would be given, if one is configured
            except TodoctlError:
                url = None  # an unusable DATABASE_URL is ssl-required's (and every command's) to report
        return app_engine.load(self.project, url)

    def engine_skipped(self) -> str:
        """Why :meth:`app_engine` is None."""
        import todoctl.core.app_engine as app_engine

        if self.project is None:
            return "no project: the app's engine is not known"
        return app_engine.skipped_reason(self.project) or (
            f"the app's engine ({self.project.engine_ref}) is built from the database URL, and none is "
            "configured (--offline without DATABASE_URL)"
        )

    def connection(self) -> "Connection":
        """One connection for every live rule, in one READ ONLY transaction (never committed) with a
        statement_timeout, so a review is safe to point at production. Unreachable: exit 3."""
        if self.url is None:
            raise RuntimeError("a live rule ran offline")  # the engine skips live rules offline
        if self._conn is None:
            from sqlalchemy import text

            from todoctl.db.engine import connection

            conn = self._stack.enter_context(connection(self.url))
            conn.execute(text("SET TRANSACTION READ ONLY"))
            # SET LOCAL: ends with the transaction, so nothing leaks into a pooler's shared session.
            conn.execute(text(f"SET LOCAL statement_timeout = {int(REVIEW_STATEMENT_TIMEOUT_MS)}"))
            self._stack.callback(conn.rollback)
            self._conn = conn
        return self._conn

    def cached(self, key: str, compute: Callable[[], object]):
        """``compute()`` once per review: facts several rules read (a catalog snapshot, the tracked files)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def close(self) -> None:
        self._stack.close()
        self._conn = None
        self._cache.clear()

    def relative(self, path: Path) -> str:
        """``path`` as a location relative to the project root (posix separators)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()


def app_context(root: Path | None = None, url: "DatabaseURL | None" = None, environ: Mapping[str, str] | None = None) -> ReviewContext:
    """The context for reviewing this app: its models, its named queries, its settings."""
    from todoctl.named_queries import app_queries
    from todoctl.project import current

    project = current()
    root = Path(root or project.root)
    if environ is None:
        environ = _app_environ(root)
    return ReviewContext(
        root=root,
        metadata=project.metadata(),
        queries=app_queries(),
        environ=environ,
        url=url,
        sources=project.sources,
        project=project,
    )


def _app_environ(root: Path) -> dict[str, str]:
    """The process environment over the project's ``.env`` (read by python-dotenv, as the app does)."""
    merged: dict[str, str] = {}
    dotenv = root / ".env"
    if dotenv.is_file():
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(os.environ)
    return merged

"""Review rules: security — password hashing, credentials in the repository, SSL to remote hosts.

All three are critical. None of them ever prints a password or a password hash: URLs are masked,
rows are counted.
"""

from __future__ import annotations

import re
from typing import Iterator

from todoctl.core.review.engine import Finding, ReviewContext, rule
from todoctl.core.review.facts import in_the_models, live_schema, merge_sources, model_checks, sources_text
from todoctl.core.review import repo_files

# ---------------------------------------------------------------- password-hash

# What a stored password looks like when it was hashed: bcrypt ($2a$/$2b$/$2y$, cost, 53 characters
# of salt and digest) or argon2 (PHC string format). Both are POSIX regexes PostgreSQL's ~ accepts.
BCRYPT = r"^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"
ARGON2 = r"^\$argon2(id|i|d)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
# A CHECK constraint is a hash-format constraint when its pattern takes a real hash and refuses a
# plain password; these samples decide (made for this purpose, not anyone's password).
HASH_SAMPLES = (
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
)
PLAIN_SAMPLES = ("correct horse battery staple", "hunter2", "Passw0rd!")
_PASSWORD_NAME = re.compile(r"passw(or)?d|passwd|pwd", re.IGNORECASE)


def _password_column(name: str, type_is_text: bool) -> bool:
    # password_changed_at is a timestamp, not a password: only text columns hold one.
    return type_is_text and bool(_PASSWORD_NAME.search(name))


def _python_matches(pattern: str, value: str) -> bool | None:
    """Python's re on a PostgreSQL pattern; None where Python reads it otherwise (POSIX classes)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "possible nested set": [[:alpha:]] is not Python's syntax
        try:
            return re.search(pattern, value) is not None
        except (re.error, FutureWarning):
            return None


def _hash_format(patterns: tuple[str, ...], matches) -> bool:
    """Do these patterns (any of them) take a real hash and refuse every plain password?

    ``matches(pattern, value)`` is the server's ``~`` when live, Python's re on the models; a pattern
    it cannot evaluate proves nothing (the finding stays, with the pattern to use in its hint).
    """
    def accepts(value: str) -> bool | None:
        answers = [matches(p, value) for p in patterns]
        return None if None in answers else any(answers)

    hashes = [accepts(s) for s in HASH_SAMPLES]
    plains = [accepts(s) for s in PLAIN_SAMPLES]
    if None in hashes or None in plains:
        return False
    return any(hashes) and not any(plains)


def _has_hash_check(checks: list[str], column: str, matches=_python_matches) -> bool:
    from todoctl.core.review.facts import column_tests

    return any(
        _hash_format(test.values, matches)
        for check in checks
        for test in column_tests(check)
        if test.kind == "regex" and test.column == column
    )


def _server_matches(ctx: ReviewContext):
    from sqlalchemy import text

    conn = ctx.connection()

    def matches(pattern: str, value: str) -> bool | None:
        return bool(conn.execute(text("SELECT CAST(:value AS text) ~ CAST(:pattern AS text)"), {"value": value, "pattern": pattern}).scalar())

    return matches


@rule(
    "password-hash",
    "critical",
    "user passwords stored without hashing",
    why="a leaked table of plain (or reversibly stored) passwords gives away every account, here and "
    "wherever its users reused them",
    live_part="rows whose password column is not a bcrypt/argon2 hash",
)
def password_hash(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy.types import String

    found: dict[str, list[str]] = {}
    for table in ctx.metadata.tables.values():
        checks = model_checks(table)
        for column in table.columns:
            if _password_column(column.name, isinstance(column.type, String)) and not _has_hash_check(checks, column.name):
                merge_sources(found, f"{table.name}.{column.name}", in_the_models(ctx, table.name, column.name))
    live_columns: list[tuple[str, str]] = []
    if not ctx.offline:
        for table in live_schema(ctx).snap.tables.values():
            checks = [c.definition for c in table.constraints.values() if c.kind == "check"]
            for column in table.columns.values():
                text_type = column.type.startswith(("text", "character", "varchar", "citext"))
                if not _password_column(column.name, text_type):
                    continue
                live_columns.append((table.name, column.name))
                if not _has_hash_check(checks, column.name, _server_matches(ctx)):
                    merge_sources(found, f"{table.name}.{column.name}", "the database")
    for location, sources in sorted(found.items()):
        table, column = location.split(".", 1)
        yield Finding(
            "password-hash",
            location,
            f"{location} holds passwords but no CHECK constraint holds it to a hash format (in {sources_text(sources)})",
            f"store bcrypt or argon2 hashes only, and say so in the schema: CheckConstraint(\"{column} ~ "
            f"'^\\$2[aby]\\$[0-9]{{2}}\\$[./A-Za-z0-9]{{53}}$'\") (NOT VALID, then VALIDATE once old rows are hashed)",
            table=table,
            subject=column,
        )
    for table, column in live_columns:
        yield from _unhashed_rows(ctx, table, column)


def _unhashed_rows(ctx: ReviewContext, table: str, column: str) -> Iterator[Finding]:
    from sqlalchemy import text

    conn = ctx.connection()
    quote = conn.dialect.identifier_preparer.quote_identifier
    # Counted, never selected: not one value leaves the server.
    count = conn.execute(
        text(
            f"SELECT count(*) FROM {quote(ctx.schema)}.{quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} !~ :bcrypt AND {quote(column)} !~ :argon2"
        ),
        {"bcrypt": BCRYPT, "argon2": ARGON2},
    ).scalar_one()
    if count:
        yield Finding(
            "password-hash",
            f"{table}.{column}",
            f"{count:,} row(s) of {table} hold a {column} that is not a bcrypt or argon2 hash",
            "hash them (bcrypt or argon2) or, if the plain value is unknown, reset those accounts' passwords; "
            "then add the hash-format CHECK constraint",
            table=table,
            subject=column,
        )


# ---------------------------------------------------------------- hardcoded-credentials


@rule(
    "hardcoded-credentials",
    "critical",
    "database credentials hard-coded in the repository; .env not ignored by git",
    why="a password in the repository is in every clone, fork, CI log and backup of it, for good: "
    "removing it later does not take it out of the history",
)
def hardcoded_credentials(ctx: ReviewContext) -> Iterator[Finding]:
    files = ctx.cached("repo-files", lambda: repo_files.listed(ctx.root))
    for path in files.paths:
        for line, described in repo_files.credentials_in(ctx.root / path):
            location = f"{path}:{line}" if line else path
            yield Finding(
                "hardcoded-credentials",
                location,
                described,
                "read it from the environment (DATABASE_URL, or a .env that git ignores), rotate the password, "
                "and keep a placeholder (postgresql://USER:PASSWORD@HOST/DB) where an example is needed",
            )
    if not files.git:
        return
    if repo_files.tracked(ctx.root, ".env"):
        yield Finding(
            "hardcoded-credentials",
            ".env",
            ".env is committed: whatever it holds is in the repository",
            "git rm --cached .env, add .env to .gitignore, and rotate any password it held",
        )
    elif not repo_files.ignored(ctx.root, ".env"):
        yield Finding(
            "hardcoded-credentials",
            ".gitignore",
            ".env is not ignored by git: the first `git add -A` commits the database URL in it",
            "add a line `.env` to .gitignore (and commit an .env.example with placeholders instead)",
        )


# ---------------------------------------------------------------- ssl-required

# The variables that carry the app's URLs (DATABASE_URL_UNPOOLED: migrations on Neon's direct endpoint).
URL_VARIABLES = ("DATABASE_URL", "DATABASE_URL_UNPOOLED")


@rule(
    "ssl-required",
    "critical",
    "no SSL to a remote host",
    why="without sslmode=require (or verify-ca/verify-full) libpq falls back to a clear-text connection: "
    "the password and every row cross the network readable, and a man in the middle can downgrade it",
    live_part="the live session is encrypted (pg_stat_ssl)",
)
def ssl_required(ctx: ReviewContext) -> Iterator[Finding]:
    from urllib.parse import parse_qsl

    from todoctl.todo.db import _SSL_REQUIRED
    from todoctl.db.url import normalise
    from todoctl.errors import TodoctlError

    for variable in URL_VARIABLES:
        raw = ctx.environ.get(variable)
        if not raw or not raw.strip():
            continue
        try:
            url = normalise(raw, source=variable)
        except TodoctlError:
            continue  # an unusable URL is every command's exit 3, not this rule's finding
        if url.is_local:
            continue
        asked = dict(parse_qsl(url.parts.query)).get("sslmode")
        if asked in _SSL_REQUIRED:
            continue
        said = f"sslmode={asked}" if asked else "no sslmode (libpq's default, prefer, falls back to clear text)"
        yield Finding(
            "ssl-required",
            variable,
            f"{variable} points at the remote host {url.host} with {said}",
            "add ?sslmode=require to the URL (verify-full with sslrootcert= also checks the server's certificate); "
            "the app's pool upgrades it, but psql, pg_dump and stock alembic read the URL as written",
        )
    if ctx.offline or ctx.url is None or ctx.url.is_local:
        return
    from sqlalchemy import text

    encrypted = ctx.connection().execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
    if not encrypted:
        yield Finding(
            "ssl-required",
            "database",
            f"this review's session to the remote host {ctx.url.host} is not encrypted (pg_stat_ssl.ssl is false)",
            "connect with sslmode=require or stricter, and turn ssl on at the server (ssl = on, with a certificate)",
        )


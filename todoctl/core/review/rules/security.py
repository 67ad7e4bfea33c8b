"""Review rules: security — password hashing, credentials in the repository, SSL to remote hosts.

All three are critical. None of them ever prints a password or a password hash: URLs are masked,
rows are counted.
"""

from __future__ import annotations

import re
from typing import Iterator

from todoctl.core.review.registry import Finding, ReviewContext, rule
import todoctl.core.review.repo_files as repo_files
from todoctl.core.review.facts import in_the_models, live_schema, merge_sources, model_checks, sources_text

# ---------------------------------------------------------------- password-hash

# What a stored password looks like when it was hashed, scheme by scheme, in the formats the common
# libraries write (passlib/libpass, argon2-cffi, bcrypt, Django, Werkzeug, hashlib's PHC strings).
# Each is a POSIX regex PostgreSQL's ~ accepts and Python's re reads the same way.
HASH_FORMATS: dict[str, tuple[str, ...]] = {
    "bcrypt": (r"^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$",),
    "argon2": (r"^\$argon2(id|i|d)(\$v=[0-9]+)?\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$",),
    "scrypt": (
        r"^\$scrypt\$ln=[0-9]+,r=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/.]+\$[A-Za-z0-9+/.]+$",  # passlib (PHC)
        r"^scrypt:[0-9]+:[0-9]+:[0-9]+\$[^$]+\$[0-9a-f]+$",  # Werkzeug
        r"^scrypt\$[0-9]+\$[^$]+\$[0-9]+\$[0-9]+\$[A-Za-z0-9+/=]+$",  # Django
    ),
    "pbkdf2": (
        r"^\$pbkdf2(-sha(1|256|512))?\$[0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+$",  # passlib
        r"^pbkdf2:sha(1|256|512)(:[0-9]+)?\$[^$]+\$[0-9a-f]+$",  # Werkzeug
        r"^pbkdf2_sha(1|256|512)\$[0-9]+\$[^$]+\$[A-Za-z0-9+/=]+$",  # Django
    ),
}
SCHEMES = tuple(HASH_FORMATS)
# A CHECK constraint is a hash-format constraint when its pattern takes a real hash and refuses a
# plain password; these samples decide (made for this purpose, not anyone's password).
HASH_SAMPLES = (
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
    "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
    "scrypt:32768:8:1$Qa8ARx4Y$1d4c1c0b4a9e5bd8b1d6e1a2a0f0c8b7a6d5e4f3c2b1a0f9e8d7c6b5a4f3e2d1",
    "pbkdf2_sha256$600000$c2FsdHNhbHQ$3mPAbz6sDxbvoQ8+wZ1TjPy3Z/8SSu2S0VZyuvFwLzI=",
    "pbkdf2:sha256:600000$Qa8ARx4Y$0b4a9e5bd8b1d6e1a2a0f0c8b7a6d5e4f3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8",
)
PLAIN_SAMPLES = ("correct horse battery staple", "hunter2", "Passw0rd!")
_PASSWORD_NAME = re.compile(r"passw(or)?d|passwd|pwd", re.IGNORECASE)


def _password_column(name: str, type_is_text: bool) -> bool:
    # password_changed_at is a timestamp, not a password: only text columns hold one.
    return type_is_text and bool(_PASSWORD_NAME.search(name))


def _python_matches(operator: str, pattern: str, value: str) -> bool | None:
    """``value <operator> pattern`` (~, ~*, ~~ or ~~*) in Python, as the seed reads a CHECK's pattern;
    None where Python reads the pattern otherwise (POSIX classes)."""
    import warnings

    from todoctl.core.review.facts import PATTERN_OPERATORS
    from todoctl.core.seed.checks import Pattern

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "possible nested set": [[:alpha:]] is not Python's syntax
        try:
            return Pattern(PATTERN_OPERATORS[operator], pattern, ignore_case=operator.endswith("*")).matches(value)
        except (re.error, FutureWarning):
            return None


def _hash_format(operator: str, patterns: tuple[str, ...], matches) -> bool:
    """Do these patterns (any of them) take a real hash and refuse every plain password?

    ``matches(operator, pattern, value)`` is the server's operator (``~``, ``~~`` (LIKE), ...) when
    live, Python's reading of it on the models; a pattern it cannot evaluate proves nothing (the
    finding stays, with the pattern to use in its hint).
    """
    def accepts(value: str) -> bool | None:
        answers = [matches(operator, p, value) for p in patterns]
        return None if None in answers else any(answers)

    hashes = [accepts(s) for s in HASH_SAMPLES]
    plains = [accepts(s) for s in PLAIN_SAMPLES]
    if None in hashes or None in plains:
        return False
    return any(hashes) and not any(plains)


def scheme_of(value: str) -> str | None:
    """The hashing scheme whose format ``value`` has (bcrypt, argon2, scrypt, pbkdf2), or None."""
    for scheme, patterns in HASH_FORMATS.items():
        if any(re.search(p, value) for p in patterns):
            return scheme
    return None


def hash_check_sql(table: str, column: str, schemes: tuple[str, ...], *, validate: bool) -> str:
    """``ALTER TABLE ... ADD CONSTRAINT ... CHECK (column ~ ... OR ...) NOT VALID`` for these schemes'
    formats, and the VALIDATE that follows when every existing row already matches."""
    from todoctl.core.sql_names import ident, literal, table_name, table_ref

    patterns = [p for scheme in schemes for p in HASH_FORMATS[scheme]]
    test = " OR ".join(f"{ident(column)} ~ {literal(p)}" for p in patterns)
    name = f"{table_name(table)}_{column}_hash_format"[:63]
    sql = f"ALTER TABLE {table_ref(table)} ADD CONSTRAINT {ident(name)} CHECK ({test}) NOT VALID;"
    if validate:
        sql += f" ALTER TABLE {table_ref(table)} VALIDATE CONSTRAINT {ident(name)};"
    return sql


def _has_hash_check(checks: list[str], column: str, matches=_python_matches) -> bool:
    from todoctl.core.review.facts import column_tests

    # A regex or a LIKE pattern (CHECK (hashed_password LIKE '$argon2id$%')): either holds the column
    # to a hash format when it takes the sample hashes and refuses the plain passwords.
    return any(
        _hash_format(test.operator, test.values, matches)
        for check in checks
        for test in column_tests(check)
        if test.kind in ("regex", "like") and test.column == column
    )


def _server_matches(ctx: ReviewContext):
    from sqlalchemy import text

    from todoctl.core.review.facts import PATTERN_OPERATORS

    conn = ctx.connection()

    def matches(operator: str, pattern: str, value: str) -> bool | None:
        assert operator in PATTERN_OPERATORS  # one of four fixed operators, never text from the catalog
        statement = text(f"SELECT CAST(:value AS text) {operator} CAST(:pattern AS text)")
        return bool(conn.execute(statement, {"value": value, "pattern": pattern}).scalar())

    return matches


@rule(
    "password-hash",
    "critical",
    "user passwords stored without hashing",
    why="a leaked table of plain (or reversibly stored) passwords gives away every account, here and "
    "wherever the same passwords were reused",
    live_part="rows whose password column is not a bcrypt, Argon2, scrypt or PBKDF2 hash, and the scheme in use",
)
def password_hash(ctx: ReviewContext) -> Iterator[Finding]:
    from sqlalchemy.types import String

    found: dict[str, list[str]] = {}
    for table in ctx.metadata.tables.values():
        checks = model_checks(table)
        for column in table.columns:
            if _password_column(column.name, isinstance(column.type, String)) and not _has_hash_check(checks, column.name):
                merge_sources(found, f"{table.key}.{column.name}", in_the_models(ctx, table.name, column.name))
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
    usage = {(t, c): _schemes_in_use(ctx, t, c) for t, c in live_columns}
    for location, sources in sorted(found.items()):
        table, column = location.rsplit(".", 1)
        in_use, unhashed = usage.get((table, column), ((), 0))
        schemes = in_use or SCHEMES
        sql = hash_check_sql(table, column, schemes, validate=bool(in_use) and not unhashed)
        which = (
            f"the {' and '.join(in_use)} hashes its rows hold" if in_use
            else "bcrypt, Argon2, scrypt or PBKDF2 (no stored hash to tell which is in use)"
        )
        yield Finding(
            "password-hash",
            location,
            f"{location} holds passwords but no CHECK constraint holds it to a hash format (in {sources_text(sources)})",
            f"store hashes only, and say so in the schema, accepting {which}: {sql}"
            + ("" if "VALIDATE" in sql else "  (VALIDATE CONSTRAINT once every old row is hashed)"),
            table=table,
            subject=column,
            sql=sql,
        )
    for (table, column), (in_use, unhashed) in usage.items():
        if unhashed:
            yield Finding(
                "password-hash",
                f"{table}.{column}",
                f"{unhashed:,} row(s) of {table} hold a {column} that is not a bcrypt, Argon2, scrypt or PBKDF2 hash",
                "hash them with the app's scheme"
                + (f" ({', '.join(in_use)})" if in_use else "")
                + " or, if the plain value is unknown, reset those accounts' passwords; then add the hash-format CHECK constraint",
                table=table,
                subject=column,
            )


def _schemes_in_use(ctx: ReviewContext, table: str, column: str) -> tuple[tuple[str, ...], int]:
    """The schemes the column's rows are hashed with (those with any row), and how many rows match
    none. Counted by the server, never selected: not one value leaves it."""
    from sqlalchemy import text

    from todoctl.core.sql_names import qualified, table_ref

    conn = ctx.connection()
    counts = ", ".join(
        f"count(*) FILTER (WHERE {' OR '.join(f'c ~ :{scheme}_{n}' for n in range(len(patterns)))})"
        for scheme, patterns in HASH_FORMATS.items()
    )
    any_format = " OR ".join(f"c ~ :{scheme}_{n}" for scheme, patterns in HASH_FORMATS.items() for n in range(len(patterns)))
    params = {f"{scheme}_{n}": p for scheme, patterns in HASH_FORMATS.items() for n, p in enumerate(patterns)}
    row = conn.execute(
        text(
            f"SELECT {counts}, count(*) FILTER (WHERE NOT ({any_format})) "
            f"FROM (SELECT {qualified(column)} AS c FROM {table_ref(table, ctx.schema)} WHERE {qualified(column)} IS NOT NULL) AS v"
        ),
        params,
    ).one()
    in_use = tuple(scheme for scheme, n in zip(SCHEMES, row[:-1]) if n)
    return in_use, int(row[-1])


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
    if not ctx.sources:
        ctx.skip("no sources in [tool.todoctl]: only the project's configuration files were scanned, not its code")
    for path in _scanned(ctx, files.paths):
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


def _scanned(ctx: ReviewContext, paths: list[str]) -> list[str]:
    """The files a commit would hold that are the app's: its ``sources``, and its configuration
    files (.env*, *.toml, *.ini, *.cfg at the project's top level, and its alembic.ini)."""
    sources = {ctx.relative(p) for p in ctx.source_files()}
    alembic_ini = ctx.project.alembic_ini if ctx.project is not None else None
    configuration = {ctx.relative(alembic_ini)} if alembic_ini else set()
    return [p for p in paths if p in sources or p in configuration or ("/" not in p and not p.endswith(".py"))]


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

    from todoctl.core.app_engine import SSL_REQUIRED
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
        if asked in SSL_REQUIRED:
            continue
        said = f"sslmode={asked}" if asked else "no sslmode (libpq's default, prefer, falls back to clear text)"
        yield Finding(
            "ssl-required",
            variable,
            f"{variable} points at the remote host {url.host} with {said}",
            "add ?sslmode=require to the URL (verify-full with sslrootcert= also checks the server's certificate); "
            "the app's pool upgrades it, but psql, pg_dump and stock alembic read the URL as written",
        )
    yield from _engine_ssl(ctx, SSL_REQUIRED)
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


def _engine_ssl(ctx: ReviewContext, required: frozenset[str]) -> Iterator[Finding]:
    """The app's engine: a remote host without an sslmode of require or stricter, as the driver gets it."""
    app = ctx.app_engine()
    if app is None:
        ctx.skip(f"the app's engine part: {ctx.engine_skipped()}")
        return
    facts = app.facts
    if facts.local or facts.sslmode in required:
        return
    said = f"sslmode={facts.sslmode}" if facts.sslmode else "no sslmode (libpq's default, prefer, falls back to clear text)"
    yield Finding(
        "ssl-required",
        f"engine {app.ref}",
        f"the app's engine connects to the remote host {facts.host} with {said}",
        "add sslmode=require to the engine's URL or connect_args (verify-full with sslrootcert= also checks "
        "the server's certificate)",
    )


"""Database URLs: where they come from, how they are normalised, and how they are masked.

Nothing here imports SQLAlchemy or psycopg, so error paths stay cheap.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from todoctl.errors import ExitCode, TodoctlError, connection_error

_ACCEPTED_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+asyncpg",
    "postgresql+psycopg_async",
}
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}

# Every password todoctl has seen this run; mask() scrubs them from any text.
_SECRETS: set[str] = set()

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")
_PARAM_PASSWORD = re.compile(r"(?i)(?P<head>\bpassword\s*=\s*)(?P<pw>'[^']*'|\"[^\"]*\"|[^\s&]+)")


def remember_secret(secret: str | None) -> None:
    # Very short "passwords" would scrub ordinary letters from every message; URL-shaped
    # occurrences of them are still masked by the patterns above.
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)
        quoted = _quote_password(secret)
        if quoted != secret:
            _SECRETS.add(quoted)


def _quote_password(secret: str) -> str:
    from urllib.parse import quote

    return quote(secret, safe="")


def _masked(password: str) -> str:
    # Placeholders in hints ("postgresql://USER:PASSWORD@HOST/DB") stay readable.
    return password if password in ("", "***", "PASSWORD") else "***"


def mask(text: str) -> str:
    """Return ``text`` with every password in it replaced by ``***``."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m["head"] + _masked(m["pw"]) + m["tail"], text)
    text = _PARAM_PASSWORD.sub(lambda m: m["head"] + "***", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class DatabaseURL:
    """A normalised ``postgresql+psycopg://`` URL and where it came from."""

    url: str
    source: str  # "option", "DATABASE_URL", "DATABASE_URL_UNPOOLED", ".env", "embedded"

    @property
    def libpq(self) -> str:
        """The same URL for libpq itself (psycopg.connect, psql, pg_dump)."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def masked(self) -> str:
        return mask(self.url)

    @property
    def parts(self):
        return urlsplit(self.url)

    @property
    def host(self) -> str:
        parts = self.parts
        if parts.hostname:
            return parts.hostname
        query = dict(parse_qsl(parts.query))
        return query.get("host", "")

    @property
    def database(self) -> str:
        return unquote(self.parts.path.lstrip("/")) or (self.parts.username or "")

    @property
    def is_local(self) -> bool:
        return self.host in _LOCAL_HOSTS or self.host.startswith("/")

    @property
    def is_pooled(self) -> bool:
        """Neon's convention: the pooled endpoint's host carries ``-pooler``."""
        return "-pooler" in self.host

    @property
    def display(self) -> str:
        """``host:port/database`` for messages (never a password)."""
        parts = self.parts
        host = self.host or "localhost"
        port = f":{parts.port}" if parts.port else ""
        return f"{host}{port}/{self.database}"


def normalise(raw: str, *, source: str) -> DatabaseURL:
    """Check a URL and rewrite it for SQLAlchemy with psycopg 3."""
    raw = (raw or "").strip()
    if not raw:
        raise connection_error(f"the database URL from {source} is empty", "set it to postgresql://USER:PASSWORD@HOST/DBNAME")
    if "://" not in raw:
        raise connection_error(
            f"malformed database URL from {source}: {mask(raw)!r}",
            "expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
        )
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError on a non-numeric port
    except ValueError as exc:
        raise connection_error(
            f"malformed database URL from {source}: {mask(raw)} ({exc})",
            "expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _ACCEPTED_SCHEMES:
        raise connection_error(
            f"unsupported database URL scheme {scheme!r} from {source}",
            "todoctl speaks PostgreSQL: use postgresql://USER:PASSWORD@HOST/DBNAME",
        )
    if parts.password:
        remember_secret(unquote(parts.password))
        remember_secret(parts.password)
    query = parse_qsl(parts.query, keep_blank_values=True)
    # asyncpg spells sslmode as ssl=...; the app's URL may be an asyncpg one.
    query = [("sslmode", v) if k == "ssl" else (k, v) for k, v in query]
    for key, value in query:
        if key == "password":
            remember_secret(value)
    rebuilt = urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), ""))
    return DatabaseURL(rebuilt, source)


def _dotenv_value(name: str) -> str | None:
    from dotenv import dotenv_values, find_dotenv

    path = find_dotenv(usecwd=True)
    if not path:
        return None
    return dotenv_values(path).get(name) or None


def _setting(name: str) -> tuple[str | None, str]:
    value = os.environ.get(name)
    if value:
        return value, name
    value = _dotenv_value(name)
    return value, f"{name} (.env)"


def configured_url(explicit: str | None = None, *, direct: bool = False) -> DatabaseURL | None:
    """The URL the user configured, or None when todoctl should use the embedded server.

    ``direct=True`` is for commands that change the schema: they prefer
    ``DATABASE_URL_UNPOOLED`` (Neon's direct endpoint) and refuse a pooled URL,
    because a session advisory lock means nothing through a transaction pooler.
    """
    if explicit:
        url = normalise(explicit, source="--database-url")
        if direct:
            require_direct(url)
        return url
    if direct:
        raw, source = _setting("DATABASE_URL_UNPOOLED")
        if raw:
            return require_direct(normalise(raw, source=source))
    raw, source = _setting("DATABASE_URL")
    if raw:
        url = normalise(raw, source=source)
        if direct:
            require_direct(url)
        return url
    return None


def require_direct(url: DatabaseURL) -> DatabaseURL:
    if url.is_pooled:
        raise TodoctlError(
            f"refusing to change the schema through a pooled connection ({url.display}, from {url.source})",
            hint="set DATABASE_URL_UNPOOLED (or pass --database-url) to the direct endpoint: "
            "the same host without '-pooler'",
            exit_code=ExitCode.REFUSED,
        )
    return url

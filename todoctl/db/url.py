"""Database URLs: where they come from, how they are normalised, and how they are masked.

Nothing here imports SQLAlchemy or psycopg, so error paths stay cheap.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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

# scheme://USERINFO@ where USERINFO runs to the *last* '@' of the word: a password with an
# unescaped '/', '#', '?' or '@' is still masked whole, however a URL parser would split it.
_URL_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<creds>\S*)@")
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


def _mask_credentials(match: re.Match) -> str:
    user, colon, password = match["creds"].partition(":")
    if not colon:
        return match[0]  # a user name alone is no secret
    return f"{match['head']}{user}:{_masked(password)}@"


def mask(text: str) -> str:
    """Return ``text`` with every password in it replaced by ``***``."""
    if not text:
        return text
    # Known secrets first: the patterns below could split a password that holds an '@'.
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(_mask_credentials, text)
    return _PARAM_PASSWORD.sub(lambda m: m["head"] + "***", text)


def redact_unparsed(raw: str) -> str:
    """A URL that could not be parsed, for an error message: everything between ``://`` (or the
    start) and the last ``@`` is replaced, since nobody can tell where its password ends."""
    head, sep, rest = raw.partition("://")
    if not sep:
        head, rest = "", raw
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return mask(head + sep + rest)


@dataclass(frozen=True)
class DatabaseURL:
    """A normalised ``postgresql+psycopg://`` URL and where it came from."""

    url: str
    source: str  # "--database-url", "DATABASE_URL", "DATABASE_URL (.env)", "DATABASE_URL_UNPOOLED", "embedded"
    origin: str = ""  # for a .env setting: "PATH line N"

    @property
    def libpq(self) -> str:
        """The same URL for libpq itself (psycopg.connect, psql, pg_dump)."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def masked(self) -> str:
        return mask(self.url)

    def for_child_process(self) -> tuple[str, dict[str, str]]:
        """``(libpq URL without the password, environment carrying it)`` for psql and pg_dump:
        a child's argv is visible to every user of the machine in ``ps``, its environment is not."""
        parts = urlsplit(self.libpq)
        env: dict[str, str] = {}
        netloc = parts.netloc
        if "@" in netloc:
            credentials, host = netloc.rsplit("@", 1)
            user, _, password = credentials.partition(":")
            if password:
                env["PGPASSWORD"] = unquote(password)
            netloc = f"{user}@{host}"
        query = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "password":
                env["PGPASSWORD"] = value
            else:
                query.append((key, value))
        return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), "")), env

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


_EXPECTED = "expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
_ENCODE_HINT = (
    "percent-encode special characters in the user name and password "
    "(/ as %2F, # as %23, ? as %3F, @ as %40, % as %25)"
)


def _malformed(raw: str, source: str, why: str, hint: str = _EXPECTED) -> TodoctlError:
    return connection_error(f"malformed database URL from {source} ({why}): {redact_unparsed(raw)}", hint)


def _require_utf8(raw: str, source: str) -> None:
    # POSIX hands undecodable bytes of the environment and argv to Python as lone surrogates.
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise connection_error(
            f"the database URL from {source} is not valid UTF-8 text",
            "write the URL in UTF-8, percent-encoding any other bytes",
        ) from None


def normalise(raw: str, *, source: str, origin: str = "") -> DatabaseURL:
    """Check a URL and rewrite it for SQLAlchemy with psycopg 3.

    The user name and password are re-encoded, so libpq and SQLAlchemy read the same
    credentials and host from it (libpq splits ``u:p@ss@host`` at the first ``@``).
    """
    raw = raw or ""
    _require_utf8(raw, source)
    raw = raw.strip()
    if not raw:
        raise connection_error(
            f"the database URL from {source} is empty",
            "set it to postgresql://USER:PASSWORD@HOST/DBNAME, or unset it to use the embedded server",
        )
    if "://" not in raw:
        raise _malformed(raw, source, "no scheme")
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError on a non-numeric port
    except ValueError:
        # The error text would quote the "port": often the start of a password holding a '/'.
        raise _malformed(raw, source, "the host or port cannot be read", _ENCODE_HINT) from None
    if "@" in parts.path + parts.query + parts.fragment:
        # A '/', '?' or '#' in the password ended the host part early: the URL would name
        # another host and database than the one meant.
        raise _malformed(raw, source, "an '@' after the host part", _ENCODE_HINT)
    scheme = parts.scheme.lower()
    if scheme not in _ACCEPTED_SCHEMES:
        raise connection_error(
            f"unsupported database URL scheme {scheme!r} from {source}",
            "todoctl speaks PostgreSQL: use postgresql://USER:PASSWORD@HOST/DBNAME",
        )
    netloc = parts.netloc
    if "@" in netloc:
        host_port = netloc.rpartition("@")[2]
        credentials = quote(unquote(parts.username or ""), safe="")
        if parts.password is not None:
            password = unquote(parts.password)
            remember_secret(password)
            remember_secret(parts.password)
            credentials += ":" + quote(password, safe="")
        netloc = f"{credentials}@{host_port}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    # asyncpg spells sslmode as ssl=...; the app's URL may be an asyncpg one.
    query = [("sslmode", v) if k == "ssl" else (k, v) for k, v in query]
    for key, value in query:
        if key == "password":
            remember_secret(value)
    # Not urlunsplit: it drops the "//" of a URL without a host ("postgresql:///app", or plain
    # "postgresql://", libpq's defaults), which SQLAlchemy then cannot parse.
    encoded = urlencode(query)
    rebuilt = f"postgresql+psycopg://{netloc}{parts.path}" + (f"?{encoded}" if encoded else "")
    return DatabaseURL(rebuilt, source, origin)


def _unusable(name: str, where: str, why: str) -> TodoctlError:
    return connection_error(
        f"{name} in {where} {why}",
        f"fix or remove it: todoctl uses the embedded server only when {name} is not configured at all",
    )


def _dotenv_setting(name: str) -> tuple[str, str] | None:
    """``(value, "PATH line N")`` of ``name`` in the .env file python-dotenv finds, or None.

    A line python-dotenv cannot parse that names the variable, an entry without a value, or
    a file that is not UTF-8 is an error: falling back to the embedded server would run the
    command against another database than the one configured.
    """
    import io

    from dotenv import dotenv_values, find_dotenv
    from dotenv.parser import parse_stream

    path = find_dotenv(usecwd=True)
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _unusable(name, f"{path} line {line}", "cannot be read: the file is not UTF-8 text") from None
    except OSError as exc:
        raise connection_error(f"cannot read {path}: {exc.strerror}", "fix its permissions, or remove it") from None
    mentions = re.compile(rf"\b{re.escape(name)}\b")
    found = None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error and mentions.search(binding.original.string):
            raise _unusable(name, f"{path} line {binding.original.line}", "cannot be parsed by python-dotenv")
        if binding.key == name:
            found = binding  # the last one wins, as in python-dotenv
    if found is None:
        return None
    where = f"{path} line {found.original.line}"
    # The value as the app's python-dotenv reads it (with ${VAR} interpolation).
    value = dotenv_values(stream=io.StringIO(text)).get(name)
    if value is None or not value.strip():
        raise _unusable(name, where, "is empty")
    return value, where


def _setting(name: str) -> DatabaseURL | None:
    """``name`` from the environment, else from .env; None when it is not configured at all."""
    value = os.environ.get(name)
    if value is not None:
        if not value.strip():
            raise _unusable(name, "the environment", "is set but empty")
        return normalise(value, source=name)
    found = _dotenv_setting(name)
    if found is None:
        return None
    value, where = found
    return normalise(value, source=f"{name} (.env)", origin=where)


def configured_url(explicit: str | None = None, *, direct: bool = False) -> DatabaseURL | None:
    """The URL the user configured, or None when todoctl should use the embedded server.

    ``direct=True`` is for commands that change the schema: they prefer
    ``DATABASE_URL_UNPOOLED`` (Neon's direct endpoint) and refuse a pooled URL,
    because a session advisory lock means nothing through a transaction pooler.
    A setting that is present but unusable is an error (exit 3), never a fall-back.
    """
    if explicit is not None:
        url = normalise(explicit, source="--database-url")
        return require_direct(url) if direct else url
    if direct:
        url = _setting("DATABASE_URL_UNPOOLED")
        if url is not None:
            return require_direct(url)
    url = _setting("DATABASE_URL")
    if url is not None and direct:
        require_direct(url)
    return url


def require_direct(url: DatabaseURL) -> DatabaseURL:
    if url.is_pooled:
        raise TodoctlError(
            f"refusing to change the schema through a pooled connection ({url.display}, from {url.source})",
            hint="set DATABASE_URL_UNPOOLED (or pass --database-url) to the direct endpoint: "
            "the same host without '-pooler'",
            exit_code=ExitCode.REFUSED,
        )
    return url


def replica_url() -> DatabaseURL | None:
    """``DATABASE_URL_REPLICA`` (environment, then .env): a read replica or standby whose lag health
    reports; None when it is not configured. Resolved, normalised and masked like ``DATABASE_URL``."""
    return _setting("DATABASE_URL_REPLICA")

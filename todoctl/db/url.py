"""Database URLs: how they are read (by libpq's own parser), normalised and shown.

Which URL a command uses is decided in one place, :mod:`todoctl.db.target` (the precedence
table); how a URL or a password is shown, in :mod:`todoctl.db.secrets`. Nothing here imports
SQLAlchemy; psycopg (for libpq's parser) is imported only when a URL is read.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from todoctl.db import libpq
from todoctl.db.secrets import mask, mask_url, redact_unparsed, remember, remember_secret  # noqa: F401  (re-exported)
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
_DRIVER = "postgresql+psycopg"


@dataclass(frozen=True)
class DatabaseURL:
    """A ``postgresql+psycopg://`` URL (SQLAlchemy's spelling) and where it came from."""

    url: str
    source: str  # "--database-url", "DATABASE_URL", "DATABASE_URL_UNPOOLED (.env)", "PGHOST", "embedded", ...
    origin: str = ""  # for a .env setting: "PATH line N"

    @property
    def libpq(self) -> str:
        """The same URL for libpq itself (psycopg.connect, psql, pg_dump)."""
        return libpq.libpq_form(self.url)

    @cached_property
    def params(self) -> dict[str, str]:
        """libpq's reading of the URL alone."""
        return libpq.parse(self.url)

    @cached_property
    def effective(self) -> dict[str, str]:
        """What libpq connects with: the URL, then a service file's entries, then PG* variables."""
        return libpq.effective(self.params)

    @cached_property
    def shown(self) -> str:
        """The libpq URL, with what libpq takes from the environment or a service file filled in:
        the target line shows where the command really goes."""
        filled = {
            key: self.effective[key]
            for key in ("user", "host", "hostaddr", "port", "dbname")
            if key in self.effective and not self.params.get(key)
        }
        return libpq.build({**self.params, **filled}) if filled else self.libpq

    @property
    def masked(self) -> str:
        return mask_url(self.shown)

    def for_child_process(self) -> tuple[str, dict[str, str]]:
        """``(libpq URL without any secret, environment carrying them)`` for psql and pg_dump:
        a child's argv is visible to every user of the machine in ``ps``, its environment is not.
        The password goes in ``PGPASSWORD``; secrets libpq reads from no variable (sslpassword,
        oauth_client_secret, ...) go in a service file only this user can read, named by
        ``PGSERVICEFILE``/``PGSERVICE`` and removed when todoctl exits."""
        params = dict(self.params)
        secrets = {key: params.pop(key) for key in list(params) if libpq.is_secret(key)}
        env = {"PGPASSWORD": secrets.pop("password")} if "password" in secrets else {}
        if secrets:
            if "service" in params or "servicefile" in params:
                raise TodoctlError(
                    f"cannot pass {', '.join(sorted(secrets))} to a child process without showing it in its command line",
                    hint="put it in the service file the URL names (service=...), not in the URL",
                )
            env.update(_service_file(secrets))
        return libpq.build(params), env

    def with_database(self, database: str) -> "DatabaseURL":
        """The same server and credentials, another database."""
        return DatabaseURL(libpq.build({**self.params, "dbname": database}, scheme=_DRIVER), self.source, self.origin)

    @property
    def parts(self):
        return urlsplit(self.url)

    @property
    def _endpoints(self) -> list[tuple[str, str]]:
        """``(host, hostaddr)`` for each server libpq may try, in order (a list is tried in turn)."""
        names = self.effective.get("host", "").split(",")
        addresses = self.effective.get("hostaddr", "").split(",")
        count = max(len(names), len(addresses))
        return [
            (names[i] if i < len(names) else "", addresses[i] if i < len(addresses) else "") for i in range(count)
        ]

    @property
    def hosts(self) -> list[str]:
        """Every host name and address the connection names."""
        return [value for pair in self._endpoints for value in pair if value]

    @property
    def host(self) -> str:
        names = [name for name, _ in self._endpoints if name]
        return names[0] if names else (self.hosts[0] if self.hosts else "")

    @property
    def database(self) -> str:
        effective = self.effective
        return effective.get("dbname") or effective.get("user") or getpass.getuser()

    @property
    def is_local(self) -> bool:
        """Every server libpq may reach is this machine: a socket, localhost, a loopback address
        (where a hostaddr is given, the connection goes there, whatever the host name says)."""
        targets = [address or name for name, address in self._endpoints]
        return all(t in _LOCAL_HOSTS or t.startswith(("/", "@")) for t in targets)

    @property
    def is_pooled(self) -> bool:
        """Neon's convention: the pooled endpoint's host carries ``-pooler`` — whether the URL, the
        query's ``host=``, PGHOST, PGHOSTADDR or a service file names it."""
        return any("-pooler" in h.lower() for h in self.hosts)

    @property
    def display(self) -> str:
        """``host:port/database`` for messages (never a password); a socket directory without its port."""
        host = self.host or "localhost"
        port = "" if host.startswith(("/", "@")) else self.effective.get("port", "")
        return f"{host}:{port}/{self.database}" if port else f"{host}/{self.database}"


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


def _ambiguity(rest: str) -> str | None:
    """Why parsers would read this URL (after ``scheme://``) differently, or None.

    libpq takes the user info up to the first '@' before the first '/'; Python's urllib and
    SQLAlchemy split at other characters. Where they could disagree, the URL is refused: it may
    name another host and database than the one meant.
    """
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    if authority.count("@") > 1:
        return "more than one '@' before the host"
    userinfo = authority.partition("@")[0] if "@" in authority else ""
    if any(c in userinfo for c in "?#"):
        return "a '?' or '#' in the user name or password"
    path = rest[len(authority) :].partition("?")[0]
    if "@" in path:  # a '/' in the password ended the host part early (a database name holds %40)
        return "an '@' after the host part"
    return None


def _sslmode_for_asyncpg(rest: str) -> str:
    # asyncpg spells sslmode as ssl=...; the app's URL may be an asyncpg one.
    head, question, query = rest.partition("?")
    if not question:
        return rest
    pairs = ["sslmode" + pair[3:] if pair.startswith("ssl=") else pair for pair in query.split("&")]
    return f"{head}?{'&'.join(pairs)}"


def normalise(raw: str, *, source: str, origin: str = "") -> DatabaseURL:
    """Check a URL and rewrite it for SQLAlchemy with psycopg 3, as libpq reads it.

    The URL is read by libpq's own parser and rebuilt from that reading (user and password
    percent-encoded), so libpq, psql, pg_dump and SQLAlchemy all see the same connection.
    """
    raw = raw or ""
    _require_utf8(raw, source)
    raw = raw.strip()
    if not raw:
        raise connection_error(
            f"the database URL from {source} is empty",
            "set it to postgresql://USER:PASSWORD@HOST/DBNAME, or unset it to use the embedded server",
        )
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise _malformed(raw, source, "no scheme")
    if scheme.lower() not in _ACCEPTED_SCHEMES:
        raise connection_error(
            f"unsupported database URL scheme {scheme.lower()!r} from {source}",
            "todoctl speaks PostgreSQL: use postgresql://USER:PASSWORD@HOST/DBNAME",
        )
    why = _ambiguity(rest)
    if why:
        raise _malformed(raw, source, why, _ENCODE_HINT)
    try:
        params = libpq.parse("postgresql://" + _sslmode_for_asyncpg(rest))
    except libpq.Unparseable:
        raise _malformed(raw, source, "libpq cannot read it", _ENCODE_HINT) from None
    if not all(port.isdigit() for port in params.get("port", "0").split(",") if port):
        # The "port" is often the start of a password holding a '/': never quoted back.
        raise _malformed(raw, source, "the host or port cannot be read", _ENCODE_HINT)
    remember(params)
    url = libpq.build(params, scheme=_DRIVER)
    if libpq.parse(url) != params:  # pragma: no cover - build() is tested to round-trip
        raise _malformed(raw, source, "it cannot be rebuilt as libpq reads it", _ENCODE_HINT)
    return DatabaseURL(url, source, origin)


def require_direct(url: DatabaseURL) -> DatabaseURL:
    if url.is_pooled:
        raise TodoctlError(
            f"refusing to change the schema through a pooled connection ({url.display}, from {url.source})",
            hint="set DATABASE_URL_UNPOOLED (or pass --database-url) to the direct endpoint: "
            "the same host without '-pooler'",
            exit_code=ExitCode.REFUSED,
        )
    return url


def _service_file(secrets: dict[str, str]) -> dict[str, str]:
    """A libpq service file holding ``secrets`` (mode 0600, in a private directory removed at exit)."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    directory = Path(tempfile.mkdtemp(prefix="todoctl-service-"))
    atexit.register(shutil.rmtree, directory, True)
    path = directory / "pg_service.conf"
    lines = ["[todoctl]"] + [f"{key}={value}" for key, value in secrets.items()]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"PGSERVICEFILE": str(path), "PGSERVICE": "todoctl"}

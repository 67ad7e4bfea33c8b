"""libpq's own reading of a connection: its conninfo parser, its environment variables, its service
files. todoctl never guesses what libpq will do with a URL; it asks libpq (through psycopg).

psycopg is imported lazily: `todoctl --help` imports none of this.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from urllib.parse import quote, urlencode

# The variables that say *where* libpq connects: which server (host, address, port, a service
# naming both) or which database. Any of them, set, means "a database is configured" (README,
# "Connection"). The rest of libpq's variables (PGUSER, PGPASSWORD, PGSSLMODE, PGOPTIONS, ...) say
# *how* to connect; on their own they name no database, so the embedded server stays the default.
SELECTING = ("PGSERVICE", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE")

# Parts of a connection that are shown (never secret): the target line prints them.
SHOWN_KEYS = ("user", "host", "hostaddr", "port", "dbname", "service")

_DRIVER_SCHEMES = ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql+asyncpg://", "postgresql+psycopg_async://")


# libpq's secret keywords when libpq cannot be asked (see ``secret_keys``).
_KNOWN_SECRETS = frozenset({"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"})


@lru_cache(maxsize=1)
def secret_keys() -> frozenset[str]:
    """The keywords whose values are secrets, as libpq itself marks them (PQconndefaults: display
    character ``*``, "hide the value", e.g. password, sslpassword, oauth_client_secret; and the
    SCRAM keys, debug options holding key material). Asked of the libpq in use, so a keyword a newer
    libpq adds is masked without a change here; the known ones are always included."""
    try:
        from psycopg.pq import Conninfo

        options = Conninfo.get_defaults()
    except Exception:  # noqa: BLE001 - no libpq to ask: the known ones
        return _KNOWN_SECRETS
    found = {
        o.keyword.decode()
        for o in options
        if o.dispchar == b"*" or (o.dispchar == b"D" and o.keyword.decode().endswith("_key"))
    }
    return frozenset(found | _KNOWN_SECRETS)


def is_secret(keyword: str) -> bool:
    return keyword.strip().lower() in secret_keys()


class Unparseable(ValueError):
    """libpq cannot read this connection string (the reason is withheld: it may quote the password)."""


def libpq_form(text: str) -> str:
    """A URL as libpq takes it: SQLAlchemy's ``postgresql+driver://`` becomes ``postgresql://``."""
    for scheme in _DRIVER_SCHEMES:
        if text[: len(scheme)].lower() == scheme:
            return "postgresql://" + text[len(scheme) :]
    return text


def parse(conninfo: str) -> dict[str, str]:
    """libpq's reading of a URL or ``key=value`` string (PQconninfoParse): keyword -> value."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(libpq_form(conninfo)).items()}
    except (ProgrammingError, UnicodeError, ValueError):
        raise Unparseable("libpq cannot parse this connection string") from None


@lru_cache(maxsize=1)
def variables() -> dict[str, str]:
    """libpq's environment variables and the keyword each sets (PGHOST -> host), from libpq itself."""
    from psycopg.pq import Conninfo

    return {o.envvar.decode(): o.keyword.decode() for o in Conninfo.get_defaults() if o.envvar}


_ENVIRON_LOCK = threading.Lock()


def _conndefaults(changes: dict[str, str | None]) -> dict[str, str]:
    """PQconndefaults with some environment variables changed for the call: libpq's defaults from
    the environment and from the service file of PGSERVICE (libpq reads both itself, and has no
    other way to be handed a service name without connecting)."""
    from psycopg.pq import Conninfo

    with _ENVIRON_LOCK:
        saved = {name: os.environ.get(name) for name in changes}
        try:
            for name, value in changes.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            return {
                o.keyword.decode(): o.val.decode("utf-8", "surrogateescape")
                for o in Conninfo.get_defaults()
                if o.val is not None
            }
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def defaults(params: dict[str, str] | None = None) -> dict[str, str]:
    """What libpq adds to ``params``: the values of PG* variables, and a service file's entries
    (which beat the variables) when a service is named by ``params`` or PGSERVICE.

    Without a service this only reads the environment. With one, libpq's own PQconndefaults reads
    the service file; a service named in ``params`` is handed to it in PGSERVICE for that call.
    """
    params = params or {}
    found = {key: os.environ[name] for name, key in variables().items() if os.environ.get(name)}
    service = params.get("service") or os.environ.get("PGSERVICE")
    if not service:
        return found
    changes: dict[str, str | None] = {"PGSERVICE": service}
    if params.get("servicefile"):
        changes["PGSERVICEFILE"] = params["servicefile"]
    with_service = _conndefaults(changes)
    without = _conndefaults({"PGSERVICE": None})
    return {**found, **{k: v for k, v in with_service.items() if without.get(k) != v}}


def effective(params: dict[str, str]) -> dict[str, str]:
    """The parameters libpq will connect with: ``params``, then the service file's, then PG* variables."""
    return {**defaults(params), **{k: v for k, v in params.items() if v != ""}}


def _plain_host(host: str) -> bool:
    """One host name or address that fits in a URL's authority as it is."""
    if not host or host.startswith(("/", "@")) or "," in host:
        return False
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")
    return set(host) <= allowed


def build(params: dict[str, str], scheme: str = "postgresql") -> str:
    """A URL that libpq (and SQLAlchemy) read back as exactly ``params``.

    User and password are percent-encoded in the authority; one plain host and a numeric port go
    there too; socket directories, host lists and everything else go in the query string.
    """
    rest = dict(params)
    user, password = rest.pop("user", None), rest.pop("password", None)
    host, port, dbname = rest.pop("host", None), rest.pop("port", None), rest.pop("dbname", None)
    netloc = ""
    if user is not None or password is not None:
        netloc = quote(user or "", safe="") + (":" + quote(password, safe="") if password is not None else "") + "@"
    query: list[tuple[str, str]] = []
    if host and _plain_host(host):
        netloc += f"[{host}]" if ":" in host else host
        if port and port.isdigit():
            netloc += f":{port}"
        elif port:
            query.append(("port", port))
    else:
        if host:
            query.append(("host", host))
        if port:
            query.append(("port", port))
    query += list(rest.items())
    path = "/" + quote(dbname, safe="") if dbname else ("/" if query else "")
    encoded = urlencode(query, quote_via=quote, safe="/")
    return f"{scheme}://{netloc}{path}" + (f"?{encoded}" if encoded else "")

"""Which database a command works on: one precedence table, in one function (:func:`choose`).

    step  where            what configures a database
    1     command line     --database-url
    2     environment      DATABASE_URL, DATABASE_URL_UNPOOLED
    3     .env             DATABASE_URL, DATABASE_URL_UNPOOLED (the first .env upwards)
    4     environment      PGSERVICE, PGHOST, PGHOSTADDR, PGPORT, PGDATABASE
    5     .env             the same libpq variables
    6     (nothing)        the embedded server

The first step that configures a database wins, whole: nothing is mixed across steps. Within it,
a schema change (``direct``) takes DATABASE_URL_UNPOOLED and every other command DATABASE_URL;
when only one of the pair is there, every command takes it. The app's URLs come before libpq's
variables wherever they are set, because they are what the app itself connects to (python-dotenv
reads the .env, SQLAlchemy the URL): a PGHOST exported in the shell for psql must not send
`migrate reset` somewhere the app never goes. A variable that is set but unusable (empty,
unparseable, not UTF-8) is exit 3, never a step down the table. README: "Connection".
"""

from __future__ import annotations

import os
from typing import Iterator

from todoctl.db import dotenv_file, libpq
from todoctl.db.dotenv_file import Setting
from todoctl.db.secrets import remember, remember_secret
from todoctl.db.url import DatabaseURL, normalise, require_direct
from todoctl.errors import TodoctlError, connection_error

POOLED = "DATABASE_URL"
DIRECT = "DATABASE_URL_UNPOOLED"
REPLICA = "DATABASE_URL_REPLICA"
OPTION = "--database-url"
_DRIVER = "postgresql+psycopg"


def _environment(names) -> dict[str, Setting]:
    return {name: Setting(name, os.environ[name], "environment") for name in names if name in os.environ}


def _layers(explicit: str | None) -> Iterator[tuple[str, dict[str, Setting]]]:
    """The layers, highest first; ``.env`` is read only if the layers above set no URL.

    The environment's other libpq variables are libpq's to read; a ``.env``'s are all read (any
    ``PG*`` name), since todoctl hands them to libpq itself. Nothing here imports psycopg: with
    nothing configured, `todoctl version` stays light.
    """
    yield "command line", ({OPTION: Setting(OPTION, explicit, "command line")} if explicit is not None else {})
    yield "environment", _environment((POOLED, DIRECT, *libpq.SELECTING))
    yield ".env", dotenv_file.read({POOLED, DIRECT, *libpq.SELECTING}, prefix="PG")


def choose(explicit: str | None = None, *, direct: bool = False) -> DatabaseURL | None:
    """The precedence table: the URL a command uses, or None for the embedded server."""
    remember_secret(os.environ.get("PGPASSWORD"))  # libpq sends it with any URL that has none
    pair = (DIRECT, POOLED) if direct else (POOLED, DIRECT)
    layers = []
    for layer, settings in _layers(explicit):  # the URLs first, layer by layer
        if OPTION in settings:
            return normalise(explicit or "", source=OPTION)
        chosen = next((name for name in pair if name in settings), None)
        if chosen is not None:
            url = _from_url(settings[chosen])
            if layer == ".env":
                url = _with_dotenv_defaults(url, settings)
            remember(url.effective)
            return url
        layers.append(settings)
    for settings in layers:  # then libpq's own variables, layer by layer
        selecting = [name for name in libpq.SELECTING if name in settings]
        if selecting:
            url = _from_libpq_variables(settings, selecting)
            remember(url.effective)
            return url
    return None


def _source(setting: Setting) -> str:
    return setting.name if setting.layer == "environment" else f"{setting.name} ({setting.layer})"


def _where(setting: Setting) -> str:
    return setting.origin or f"the {setting.layer}"


def _unusable(setting: Setting, why: str) -> TodoctlError:
    return connection_error(
        f"{setting.name} in {_where(setting)} {why}",
        "fix or remove it: todoctl uses the embedded server only when no database is configured at all",
    )


def _from_url(setting: Setting) -> DatabaseURL:
    if not setting.value.strip():
        raise _unusable(setting, "is set but empty" if setting.layer == "environment" else "is empty")
    return normalise(setting.value, source=_source(setting), origin=setting.origin)


def _libpq_settings(settings: dict[str, Setting]) -> dict[str, str]:
    """A layer's libpq variables as connection parameters (PGHOST -> host)."""
    if not any(name.startswith("PG") for name in settings):
        return {}
    keywords = libpq.variables()
    return {keywords[name]: s.value for name, s in settings.items() if name in keywords and s.value != ""}


def _from_libpq_variables(settings: dict[str, Setting], selecting: list[str]) -> DatabaseURL:
    for name in selecting:
        setting = settings[name]
        try:
            setting.value.encode("utf-8")
        except UnicodeEncodeError:
            raise _unusable(setting, "is not valid UTF-8 text") from None
        if not setting.value.strip():
            raise _unusable(setting, "is set but empty" if setting.layer == "environment" else "is empty")
    first = settings[selecting[0]]
    source = ", ".join(selecting) + ("" if first.layer == "environment" else f" ({first.layer})")
    origin = ""
    if first.layer == ".env":
        path = first.origin.rpartition(" line ")[0]
        origin = f"{path} line " + ", ".join(settings[n].origin.rpartition(" ")[2] for n in selecting)
        # A variable the environment also sets is left to libpq: the environment beats .env.
        params = {k: v for k, v in _libpq_settings(settings).items() if not _set_in_environment(k)}
        return DatabaseURL(libpq.build(params, scheme=_DRIVER), source, origin)
    # The environment's own: libpq reads PGHOST, PGSERVICE, ... itself, as psql does.
    return DatabaseURL(f"{_DRIVER}://", source, origin)


def _set_in_environment(keyword: str) -> bool:
    return any(name in os.environ for name, key in libpq.variables().items() if key == keyword)


def _with_dotenv_defaults(url: DatabaseURL, settings: dict[str, Setting]) -> DatabaseURL:
    """A .env's libpq variables fill what its URL leaves open, as the environment's do for libpq
    (a variable set in the environment itself is left to libpq: the environment beats .env)."""
    extra = {
        k: v for k, v in _libpq_settings(settings).items() if k not in url.params and not _set_in_environment(k)
    }
    if not extra:
        return url
    remember(extra)
    return DatabaseURL(libpq.build({**url.params, **extra}, scheme=_DRIVER), url.source, url.origin)


def replica() -> DatabaseURL | None:
    """DATABASE_URL_REPLICA: the environment's, else the .env's; None when not configured."""
    setting = _environment((REPLICA,)).get(REPLICA) or dotenv_file.read({REPLICA}).get(REPLICA)
    return None if setting is None else _from_url(setting)


def configured_url(explicit: str | None = None, *, direct: bool = False) -> DatabaseURL | None:
    """The configured database (the precedence table, :func:`choose`), or None
    when todoctl should use the embedded server. ``direct=True``: a schema change, which refuses a
    pooled URL (a session advisory lock means nothing through a transaction pooler)."""
    url = choose(explicit, direct=direct)
    if url is not None and direct:
        require_direct(url)
    return url

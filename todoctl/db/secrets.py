"""Passwords (and every other value libpq marks secret) never shown: one function for every URL or conninfo todoctl prints, one for free text.

``mask_url`` reads a URL or a ``key=value`` string with libpq's own parser and shows it with
``***`` in the password slot and nothing else changed; whatever libpq cannot read is not shown
(``postgresql://***``). ``mask`` is for free text (a driver's error, a traceback): the URLs in it
go through ``mask_url``, and every password todoctl has read this run is replaced by ``***``,
except where that would only mangle the message: a password that is (or is inside) a part the
target line shows anyway — the user name, host, port, database name or the scheme — is left,
since replacing it hides nothing that is not printed in the clear a line above.
"""

from __future__ import annotations

import re

from todoctl.db import libpq

MASK = "***"
# Placeholders in hints ("postgresql://USER:PASSWORD@HOST/DB") stay readable.
_PLACEHOLDERS = {"", MASK, "PASSWORD"}
# Secrets shorter than this are replaced only where they stand as a word of their own.
_SHORT = 4

# Every password todoctl has read this run (as written and percent-encoded), and the parts of
# connections that are shown (user names, hosts, ports, database names, schemes).
_SECRETS: set[str] = set()
_SHOWN: set[str] = {"postgresql", "postgres", "psycopg", "postgresql+psycopg", "asyncpg", "psycopg2"}


def remember_secret(secret: str | None) -> None:
    from urllib.parse import quote

    if secret and secret not in _PLACEHOLDERS:
        _SECRETS.add(secret)
        _SECRETS.add(quote(secret, safe=""))


def remember(params: dict[str, str]) -> None:
    """Remember a connection's secrets (password, sslpassword, ...) and the parts of it that are shown."""
    for key, value in params.items():
        if libpq.is_secret(key):
            remember_secret(value)
    for key in libpq.SHOWN_KEYS:
        value = params.get(key)
        if value:
            _SHOWN.update(value.split(","))


# ------------------------------------------------------------------ one URL or conninfo


def mask_url(text: str) -> str:
    """``text`` (a URL or libpq ``key=value`` string) with ``***`` in its password slots.

    The text is masked where it stands and the result is read back by libpq: it must mean the same
    connection with ``***`` for a password. If it does not, the connection is shown rebuilt from
    libpq's reading; if libpq cannot read the text at all, only its scheme is shown.
    """
    if not text:
        return text
    try:
        params = libpq.parse(text)
    except libpq.Unparseable:
        return _unreadable(text)
    remember(params)
    secrets = {key for key, value in params.items() if libpq.is_secret(key) and value not in _PLACEHOLDERS}
    if not secrets:
        return text
    expected = {**params, **{key: MASK for key in secrets}}
    candidate = _mask_url_in_place(text) if "://" in text else _mask_conninfo_in_place(text)
    if candidate is not None:
        try:
            if libpq.parse(candidate) == expected:
                return candidate
        except libpq.Unparseable:
            pass
    scheme = text.partition("://")[0] if "://" in text else "postgresql"
    return libpq.build(expected, scheme=scheme)


def _unreadable(text: str) -> str:
    scheme, sep, _ = text.partition("://")
    return f"{scheme}://{MASK}" if sep and scheme.replace("+", "").isalnum() else MASK


def _mask_url_in_place(text: str) -> str | None:
    """libpq's URI grammar: the user info runs to the first '@' before the first '/', the password
    is what follows its first ':'; ``password=`` in the query string is the other slot."""
    scheme, _, rest = text.partition("://")
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    at = authority.find("@")
    head = ""
    if at >= 0:
        userinfo = rest[:at]
        user, colon, _ = userinfo.partition(":")
        head = user + (":" + MASK if colon else "") + "@"
        rest = rest[at + 1 :]
    question = rest.find("?")
    if question >= 0:
        pairs = []
        for pair in rest[question + 1 :].split("&"):
            key, eq, _ = pair.partition("=")
            pairs.append(f"{key}={MASK}" if eq and libpq.is_secret(_unquote(key)) else pair)
        rest = rest[: question + 1] + "&".join(pairs)
    return f"{scheme}://{head}{rest}"


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _mask_conninfo_in_place(text: str) -> str | None:
    """libpq's ``key = value`` grammar (values bare or in single quotes, backslash escapes)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        while i < n and text[i].isspace():
            i += 1
        key_start = i
        while i < n and text[i] != "=" and not text[i].isspace():
            i += 1
        key = text[key_start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if key:
                return None
            out.append(text[start:i])
            break
        i += 1
        while i < n and text[i].isspace():
            i += 1
        value_start = i
        if i < n and text[i] == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                return None
            i += 1
        else:
            while i < n and not text[i].isspace():
                i += 2 if text[i] == "\\" else 1
        out.append(text[start:value_start])
        out.append(MASK if libpq.is_secret(key) else text[value_start:i])
    return "".join(out)


# ------------------------------------------------------------------ free text


def mask(text: str) -> str:
    """Free text (an error message, a traceback) with every password in it replaced by ``***``."""
    if not text:
        return text
    text = _replace_known(text)
    return "".join(_mask_word(word) for word in re.split(r"(\s+)", text))


def _replace_known(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret not in text or any(secret in shown for shown in _SHOWN):
            continue
        if len(secret) >= _SHORT:
            text = text.replace(secret, MASK)
        else:  # "ab" is replaced where it stands alone, not inside every word that holds it
            text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", MASK, text)
    return text


_TRAILING = "'\"()<>[]{},;`"


def _mask_word(word: str) -> str:
    """One whitespace-delimited word: a URL in it is masked by mask_url, a ``password=`` value hidden."""
    at = word.find("://")
    if at > 0:
        start = at
        while start > 0 and (word[start - 1].isalnum() or word[start - 1] in "+.-"):
            start -= 1
        end = len(word)
        while end > at + 3 and word[end - 1] in _TRAILING:
            end -= 1
        return word[:start] + mask_url(word[start:end]) + word[end:]
    key, eq, value = word.partition("=")
    if eq and libpq.is_secret(key.lstrip(_TRAILING)) and value.strip(_TRAILING) not in _PLACEHOLDERS:
        end = len(value)
        while end > 0 and value[end - 1] in _TRAILING:
            end -= 1
        return f"{key}={MASK}{value[end:]}"
    return word


def redact_unparsed(raw: str) -> str:
    """A URL todoctl refused (ambiguous or unreadable), for its error message: everything between
    ``://`` and the last ``@`` is hidden, since nobody can tell where its password ends; what
    follows is shown only as libpq reads it, with any ``password=`` masked."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return MASK
    if "@" not in rest:
        return mask_url(raw)
    tail = rest.rpartition("@")[2]
    shown = mask_url(f"{scheme}://{tail}")
    if shown == f"{scheme}://{MASK}":
        return shown
    return f"{scheme}://{MASK}@" + shown.partition("://")[2]

"""The repository's files as a reviewer sees them: which would be committed (git says, not a
guess at .gitignore), and the URLs with passwords in them, read by each format's own parser:
ast for Python, tomllib for TOML, configparser for .ini/.cfg, python-dotenv for .env files; in
their strings, urllib reads URLs and psycopg reads libpq connection strings.

A password found here is never returned: a URL comes back masked (``user:***@host``), a
connection string with ``password=***``, a keyword argument as ``password=...``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

# Directories that are never the project's own files (when git cannot say).
_NOT_SOURCE = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".mypy_cache"}
_SUFFIXES = {".py", ".toml", ".ini", ".cfg"}
# A password that stands for one: PASSWORD, ***, <password>, ${DB_PASSWORD}, %(pw)s, {password}.
_PLACEHOLDER = re.compile(r"^(\*+|[A-Z][A-Z0-9_]*|<[^>]*>|\$\{?\w+\}?|%\(\w+\)s|\{\w*\}|x+|\.\.\.)$")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*$")
# connect(password="..."), URL.create(password="..."), psycopg's and asyncpg's spellings.
_PASSWORD_KEYWORDS = {"password", "passwd", "pwd"}


@dataclass(frozen=True)
class RepoFiles:
    paths: list[str]  # relative to the root, posix separators, the kinds credentials_in reads
    git: bool  # the root is in a git work tree (paths: tracked, or untracked and not ignored)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)


def listed(root: Path) -> RepoFiles:
    """The files a commit would hold (tracked, plus untracked ones git does not ignore)."""
    try:
        result = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        git = result.returncode == 0
    except (OSError, subprocess.TimeoutExpired):  # no git on this machine
        git = False
    if git:
        names = sorted({n for n in result.stdout.split("\0") if n})
    else:
        names = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in _NOT_SOURCE)
            names += [Path(folder, f).relative_to(root).as_posix() for f in files]
    return RepoFiles([n for n in sorted(names) if _readable_kind(n) and (root / n).is_file()], git)


def _readable_kind(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base == ".env" or base.startswith(".env.") or Path(base).suffix in _SUFFIXES


def tracked(root: Path, name: str) -> bool:
    return _git(root, "ls-files", "--error-unmatch", "--", name).returncode == 0


def ignored(root: Path, name: str) -> bool:
    # --no-index: ask the ignore rules themselves, even about a file that does not exist yet.
    return _git(root, "check-ignore", "-q", "--no-index", "--", name).returncode == 0


# ---------------------------------------------------------------- URLs with passwords


def credentials_in(path: Path) -> list[tuple[int | None, str]]:
    """``(line, what was found, masked)`` for every credential in the file (line None: unknown)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    base = path.name
    if base == ".env" or base.startswith(".env."):
        found = _dotenv(text)
    elif path.suffix == ".py":
        found = _python(text)
    elif path.suffix == ".toml":
        found = _located(text, _toml_strings(text), _toml_keyed(text))
    else:
        found = _located(text, _ini_values(text), _ini_keyed(text))
    return list(dict.fromkeys(found))  # an .ini default shows in every section: once is enough


def secrets_in(value: str) -> Iterator[tuple[int, str, str]]:
    """``(offset, text as written, what it is with the secret masked)`` for each URL with a password in ``value``,
    or the whole value when it is a libpq connection string with one (``host=db password=...``)."""
    yield from _secret_urls(value)
    if "password" in value and "://" not in value:
        described = _secret_conninfo(value)
        if described:
            yield 0, value.strip(), described


def _secret_urls(value: str) -> Iterator[tuple[int, str, str]]:
    from todoctl.db.url import mask_url

    for match in re.finditer(r"\S+", value):
        word = match.group()
        at = word.find("://")
        if at <= 0:
            continue
        scheme = _SCHEME.search(word[:at])
        if scheme is None:
            continue
        start = scheme.start()
        url = word[start:].rstrip("'\"()<>[]{},;.`")
        try:
            parts = urlsplit(url)
            password = parts.password
            query = dict(parse_qsl(parts.query))
        except ValueError:
            continue
        password = password or query.get("password")
        if password and not _placeholder(password):
            yield match.start() + start, url, f"a URL with a password in it: {mask_url(url)}"


def _secret_conninfo(value: str) -> str | None:
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    from todoctl.db.url import mask_url

    try:
        params = conninfo_to_dict(value.strip())
    except ProgrammingError:  # not a connection string: ordinary text that mentions a password
        return None
    password = params.get("password")
    if not password or _placeholder(str(password)) or not ({"host", "dbname", "user"} & set(params)):
        return None
    return f"a connection string with a password in it: {mask_url(value.strip())}"


def _placeholder(password: str) -> bool:
    return bool(_PLACEHOLDER.match(password))


def _python(text: str) -> Iterator[tuple[int | None, str]]:
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for offset, _, described in secrets_in(node.value):
                # Lines into a multi-line string (exact for strings written without escapes).
                yield node.lineno + node.value[:offset].count("\n"), described
        elif isinstance(node, ast.keyword) and node.arg in _PASSWORD_KEYWORDS:
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                if not _placeholder(value.value):
                    yield node.lineno, f"a literal password passed as {node.arg}=..."


def _dotenv(text: str) -> Iterator[tuple[int | None, str]]:
    import io

    from dotenv.parser import parse_stream

    for binding in parse_stream(io.StringIO(text)):
        if binding.value:
            for _, _, described in secrets_in(binding.value):
                yield binding.original.line, described


def _password_key(key: str) -> bool:
    """``password``, ``db_password``, ``PGPASSWORD``, ``passwd``, ``pwd``: a key that holds a password
    (``password_reset_url`` does not)."""
    return key.strip().lower().endswith(("password", "passwd", "pwd"))


def _toml_items(text: str) -> Iterator[tuple[str, str]]:
    """Every string in a TOML document with the key it sits under (the list's key for list items)."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, dict):
            stack += [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(key, v) for v in value]


def _toml_strings(text: str) -> Iterator[str]:
    return (value for _, value in _toml_items(text))


def _toml_keyed(text: str) -> Iterator[tuple[str, str]]:
    return ((k, v) for k, v in _toml_items(text) if _password_key(k))


def _ini_keyed(text: str) -> Iterator[tuple[str, str]]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for section in [parser.default_section, *parser.sections()]:
        for key, value in parser[section].items():
            if value and _password_key(key):
                yield key, value


def _ini_values(text: str) -> Iterator[str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for section in [parser.default_section, *parser.sections()]:
        for value in parser[section].values():
            if value:
                yield value


def _located(
    text: str, values: Iterator[str], keyed: Iterator[tuple[str, str]] = iter(())
) -> Iterator[tuple[int | None, str]]:
    """The parser found the value; its line is where the URL is written in the file. ``keyed``:
    ``(key, value)`` pairs whose key says the value is a password (``password = "..."``)."""
    lines = text.splitlines()
    for value in values:
        for _, written, described in secrets_in(value):
            first = written.splitlines()[0] if written else written
            line = next((n for n, text_line in enumerate(lines, 1) if first in text_line), None)
            yield line, described
    for key, value in keyed:
        if not value.strip() or _placeholder(value.strip()) or "://" in value or "password=" in value:
            continue  # a placeholder; a URL or connection string is found (and masked) above
        first = value.splitlines()[0] if value else value
        line = next((n for n, text_line in enumerate(lines, 1) if key in text_line and first in text_line), None)
        yield line, f"a literal password in {key} = ..."

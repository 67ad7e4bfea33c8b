"""Helpers shared by tests: temporary copies of the migrations, and running the real program."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from todoctl import paths

REPO = Path(__file__).resolve().parent.parent


def docs_hook():
    """docs/hooks/todoctl_docs.py, the site's hook that generates its reference parts from the code."""
    import importlib.util

    if "todoctl_docs" not in _LOADED:
        spec = importlib.util.spec_from_file_location("todoctl_docs", REPO / "docs" / "hooks" / "todoctl_docs.py")
        hook = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hook)
        _LOADED["todoctl_docs"] = hook
    return _LOADED["todoctl_docs"]


_LOADED: dict = {}


def docs_page(relative: str) -> str:
    """A page of docs/ as the site shows it, its generated parts expanded by the site's own hook:
    the tests read what readers read."""
    return docs_hook().page(relative)


def unfolded(text: str) -> list[str]:
    """The lines of ``text`` with each folded message joined again: where the width is known
    (a terminal, COLUMNS) an error or a hint folds at words and continues on lines that start with
    spaces (render/layout.py); each such line goes back onto the line it continues."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        if line[:1] == " " and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def copy_migrations(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    """A copy of the migrations directory, plus extra revision files {filename: source}."""
    target = tmp_path / "migrations"
    shutil.copytree(paths.migrations_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, source in (extra or {}).items():
        (target / "versions" / name).write_text(source)
    return target


def revision_source(revision: str, down: str, upgrade: str, downgrade: str = "pass", header: str = "") -> str:
    body_up = "\n".join("    " + line for line in upgrade.strip().splitlines())
    body_down = "\n".join("    " + line for line in downgrade.strip().splitlines())
    return (
        f'"""test revision {revision}"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n"
        f"{header}\n\n"
        f"def upgrade():\n{body_up}\n\n\ndef downgrade():\n{body_down}\n"
    )


def todoctl_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_URL_UNPOOLED")}
    env.update(extra)
    return env


def todoctl_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "todoctl", *args]


def start_todoctl(*args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen(
        todoctl_command(*args),
        cwd=REPO,
        env=todoctl_env(**extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_todoctl(*args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        todoctl_command(*args), cwd=REPO, env=todoctl_env(**extra_env), capture_output=True, text=True, timeout=timeout
    )


def libpq(url) -> str:
    """A DatabaseURL (or a URL string) as libpq reads it, for psycopg.connect in tests."""
    return url if isinstance(url, str) else url.libpq


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def schema_snapshot(url):
    """What is in the live schema (todoctl.core.catalog.snapshot), for before/after comparisons."""
    import todoctl.core.catalog.snapshot as catalog
    from todoctl.db.engine import connection

    with connection(url) as conn:
        snap = catalog.snapshot(conn)
        conn.rollback()
        return snap


class TcpToUnixSocket:
    """A TCP port on ``address`` that forwards every connection to a Unix socket: a server that
    listens only on its socket, reached the way a remote one is (``hostaddr=``). Stopped on exit."""

    def __init__(self, socket_path: str, address: str = "127.0.0.2") -> None:
        import socket
        import threading

        self._socket_path = socket_path
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((address, 0))
        self._listener.listen(16)
        self.address, self.port = self._listener.getsockname()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "TcpToUnixSocket":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self._socket_path)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target) -> None:
        import socket

        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

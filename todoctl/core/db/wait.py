"""`todoctl db wait` (dbmate's `wait`): block until the database accepts connections, or give up."""

from __future__ import annotations

import time
from dataclasses import dataclass

from todoctl.db.url import DatabaseURL
from todoctl.errors import ExitCode, TodoctlError
from todoctl.results import human_only

FIRST_PAUSE = 0.1  # seconds; doubled after each failed attempt
MAX_PAUSE = 2.0


@dataclass(frozen=True)
class WaitResult:
    database: str = human_only()
    attempts: int
    duration_ms: float


def wait_for(url: DatabaseURL, *, timeout: float) -> WaitResult:
    """Connect until one connection succeeds (retrying with backoff), or raise the last error as exit 3.

    Each attempt's connect_timeout is cut to the time that is left, so a host that drops packets
    cannot hold the command past its --timeout by more than a second. A wrong password does not
    fix itself by waiting: it ends the wait at once.
    """
    import psycopg

    from todoctl.db.engine import connect_timeout, explain_connect_failure

    started = time.monotonic()
    deadline = started + timeout
    pause, attempts = FIRST_PAUSE, 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        limit = max(1, min(connect_timeout(), int(remaining + 0.999)))
        try:
            with psycopg.connect(url.libpq, autocommit=True, connect_timeout=limit, application_name="todoctl db wait"):
                return WaitResult(url.display, attempts, round((time.monotonic() - started) * 1000, 3))
        except psycopg.OperationalError as exc:
            last = explain_connect_failure(url, exc)
        if "authentication failed" in last.message:
            raise last
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TodoctlError(
                f"{url.display} did not accept connections within {timeout:g}s ({attempts} attempts); last error: {last.message}",
                hint=last.hint or "check the URL, the server and the network",
                exit_code=ExitCode.CONNECTION,
            )
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, MAX_PAUSE)

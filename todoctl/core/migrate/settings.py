"""Timeouts applied to every migration run (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_LOCK_TIMEOUT = "5s"
DEFAULT_STATEMENT_TIMEOUT = "10min"


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT

    @classmethod
    def from_env(cls, lock_timeout: str | None = None, statement_timeout: str | None = None) -> "Timeouts":
        return cls(
            lock_timeout=lock_timeout or os.environ.get("TODOCTL_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT,
            statement_timeout=statement_timeout
            or os.environ.get("TODOCTL_STATEMENT_TIMEOUT")
            or DEFAULT_STATEMENT_TIMEOUT,
        )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timeout_statements(timeouts: Timeouts | None) -> list[str]:
    timeouts = timeouts or Timeouts.from_env()
    return [
        f"SET lock_timeout = {_quote(timeouts.lock_timeout)}",
        f"SET statement_timeout = {_quote(timeouts.statement_timeout)}",
    ]

"""Timeouts applied to every migration run (documented in docs/commands/migrate.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from todoctl.settings import check_duration

DEFAULT_LOCK_TIMEOUT = "5s"
DEFAULT_STATEMENT_TIMEOUT = "10min"


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT

    def __post_init__(self) -> None:
        check_duration(self.lock_timeout, "lock_timeout")
        check_duration(self.statement_timeout, "statement_timeout")

    @classmethod
    def from_env(cls, lock_timeout: str | None = None, statement_timeout: str | None = None) -> "Timeouts":
        """The options, else TODOCTL_LOCK_TIMEOUT / TODOCTL_STATEMENT_TIMEOUT, else the defaults;
        each checked under the name the user gave it."""
        return cls(
            lock_timeout=_chosen(lock_timeout, "--lock-timeout", "TODOCTL_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT),
            statement_timeout=_chosen(
                statement_timeout, "--statement-timeout", "TODOCTL_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT
            ),
        )


def _chosen(option: str | None, option_name: str, variable: str, default: str) -> str:
    if option is not None:
        return check_duration(option, option_name)
    raw = os.environ.get(variable)
    if raw is not None:
        return check_duration(raw, variable)
    return default


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timeout_statements(timeouts: Timeouts | None) -> list[str]:
    timeouts = timeouts or Timeouts.from_env()
    return [
        f"SET lock_timeout = {_quote(timeouts.lock_timeout)}",
        f"SET statement_timeout = {_quote(timeouts.statement_timeout)}",
    ]

"""The one error type todoctl raises, and the exit-code contract (README and docs/exit-codes.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    CONNECTION = 3
    REFUSED = 4
    BUSY = 5
    INTERRUPTED = 130


# What each code means, the same for every command (the README's and the docs' exit-code tables).
MEANINGS = {
    ExitCode.OK: "success; every check passed",
    ExitCode.CHECK_FAILED: "a check failed: pending migrations, drift, unhealthy, plan budget exceeded, lint or review findings; a revision failed",
    ExitCode.USAGE: "usage error: bad option or argument, unknown revision, query, check or rule name",
    ExitCode.CONNECTION: "cannot connect or authenticate; bad URL; database missing",
    ExitCode.REFUSED: "refused for safety: protected database, pooled URL for a schema change, confirmation needed, rows in the way",
    ExitCode.BUSY: "busy: another migration holds the lock, or lock timeouts used up",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C or SIGTERM); work in flight rolled back",
}


class TodoctlError(Exception):
    """A failure with a message for people, a hint on what to do, and the exit code CI reads."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        exit_code: ExitCode = ExitCode.CHECK_FAILED,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = ExitCode(exit_code)
        self.details = details or {}

    def to_dict(self) -> dict:
        return {
            "message": self.message,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
            "kind": self.exit_code.name.lower(),
            **({"details": self.details} if self.details else {}),
        }


def usage_error(message: str, hint: str | None = None) -> TodoctlError:
    return TodoctlError(message, hint=hint, exit_code=ExitCode.USAGE)


def connection_error(message: str, hint: str | None = None) -> TodoctlError:
    return TodoctlError(message, hint=hint, exit_code=ExitCode.CONNECTION)

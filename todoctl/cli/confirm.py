"""Confirmation prompts that never hang a pipeline."""

from __future__ import annotations

import sys

import typer

from todoctl.errors import ExitCode, TodoctlError


def confirm_or_refuse(question: str, *, yes: bool) -> None:
    """Ask on a terminal; without one (CI), refuse with exit 4 unless --yes was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise TodoctlError(
            f"confirmation needed and there is no terminal to ask: {question}",
            hint="pass --yes to confirm in scripts",
            exit_code=ExitCode.REFUSED,
        )
    if not typer.confirm(question, default=False):
        raise TodoctlError("not confirmed; nothing changed", exit_code=ExitCode.REFUSED)

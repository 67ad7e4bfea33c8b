"""Turn core results into Rich output for people, or into one JSON document for machines."""

from __future__ import annotations

import json
import sys


def jsonable(value):
    """Dataclasses, enums, dates, UUIDs and paths as plain JSON values (render/document.py's serialiser)."""
    from todoctl.render.document import serialise

    return serialise(value)


# Fields every JSON document of this invocation carries: `target_database` (the database the
# command works on) is set by cli/state.database_url, and cleared by the CLI per invocation.
document_fields: dict = {}


def print_json(result, *, ok: bool | None = None) -> None:
    """Exactly one JSON document on stdout: ``result`` (a typed result) inside the envelope."""
    from todoctl.render import document as contract

    shaped = contract.build(result, command=contract.current_command(), ok=ok, target=document_fields.get("target_database"))
    sys.stdout.write(json.dumps(shaped, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def print_error_json(error: dict, *, command: str | None = None) -> None:
    """The JSON document of an error (``ok: false``, ``status: fail``, ``error``) on stdout."""
    from todoctl.render import document as contract

    shaped = contract.error_document(error, command=command or contract.current_command(), target=document_fields.get("target_database"))
    sys.stdout.write(json.dumps(shaped, default=str) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False):
    """The console every view prints on: tables fold to fit (render/layout.py), or --wide."""
    from todoctl.render.layout import make_console

    return make_console(stderr)

"""Turn core results into Rich output for people, or into one JSON document for machines."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from uuid import UUID


def jsonable(value):
    """Dataclasses, enums, dates, UUIDs and paths as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(type(value), "__json_properties__", ()):
            data[name] = jsonable(getattr(value, name))
        return data
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Path)):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


# Fields every JSON document of this invocation carries: `target_database` (the database the
# command works on) is set by cli/state.database_url, and cleared by the CLI per invocation.
document_fields: dict = {}


def print_json(document: dict) -> None:
    """Exactly one JSON document on stdout, in the vocabulary of render/document.py."""
    from todoctl.render import document as contract

    shaped = contract.build(jsonable(document), command=contract.current_command(), extra=jsonable(document_fields))
    sys.stdout.write(json.dumps(shaped, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def print_error_json(error: dict) -> None:
    """The JSON document of an error (``ok: false``, ``status: fail``, ``error``) on stdout."""
    from todoctl.render import document as contract

    shaped = contract.error_document({"error": error}, extra=jsonable(document_fields))
    sys.stdout.write(json.dumps(shaped, default=str) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False):
    """The console every view prints on: tables fold to fit (render/layout.py), or --wide."""
    from todoctl.render.layout import make_console

    return make_console(stderr)

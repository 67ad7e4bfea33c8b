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


# Fields every JSON document of this invocation carries: `target_database` (the database a changing
# command works on) is set by cli/state.announce_target, and cleared by the CLI per invocation.
document_fields: dict = {}


def print_json(document: dict) -> None:
    """Exactly one JSON document on stdout."""
    document = {**document, **{k: v for k, v in document_fields.items() if k not in document}}
    sys.stdout.write(json.dumps(jsonable(document), indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)

"""The one place every ``--json`` document is shaped: the envelope around a typed result.

A command's result is a dataclass whose field names and units *are* the public vocabulary
(docs/json.md, "The JSON contract"); the document is that result serialised by ``serialise`` (the
one serialiser) inside the envelope, and its JSON Schema is generated from the same type
(todoctl/json_schemas/generate.py). Nothing is renamed or rescaled here. The vocabulary:

- an envelope first: ``schema_version``, ``command``, ``ok``, ``status`` (ok / warn / fail), and
  ``target_database`` ({url (masked), name, source, origin}) on every command that uses a database;
- durations in milliseconds, named ``*_ms`` (3 decimals); sizes in bytes, named ``*_bytes``;
  ratios 0-1, named ``ratio`` / ``*_ratio`` / ``share`` (4 decimals); other floats to 4 decimals;
- revisions: ``current`` and ``heads`` are always lists of ids; a revision object names itself
  ``revision``; schema differences are ``differences``;
- anything that has a status says ``status`` beside its ``ok``.

A dataclass field marked ``human_only()`` (todoctl/results.py) is for the human view only (the database's
display name, which ``target_database`` already says); ``__json_properties__`` names properties
serialised beside the fields; a ``__json__()`` method replaces a value by its document form. Both rules are read here and by the schema generator, nowhere else.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from todoctl.results import in_json

# Bump when a key is renamed or removed, or a unit changes; adding a key keeps the version.
SCHEMA_VERSION = 1

# Old key -> new key, for the changelog in docs/json.md (and tests/cli/test_json_contract.py).
RENAMED = {
    "database (top level: a host/path or a name)": "target_database {url, name, source, origin}",
    "target_database.database": "target_database.name",
    "url, source (db status, version.server)": "target_database",
    "head (schema diff)": "heads (a list)",
    "heads (migrate heads: revision objects)": "revisions (objects) + heads (ids)",
    "id (revision objects: migrate history, heads, status)": "revision",
    "seconds": "duration_ms",
    "*_seconds, *_s": "*_ms",
    "*_mb": "*_bytes",
    "phases (seed, seconds)": "phases_ms",
    "actual_startup, actual_total (explain plan nodes)": "actual_startup_ms, actual_total_ms",
    "timeout (explain, a setting string)": "timeout_ms",
    "percent, *_pct (0-100)": "ratio, *_ratio (0-1)",
    "bytes": "size_bytes",
    "*_kb": "*_bytes",
    "size, total_size (human text such as '1376 kB')": "removed: size_bytes / total_bytes",
    "tasks_per_user (seed)": "removed: every table's rows are in tables[].rows, how they came about in tables[].parent",
}

_ALIASES = {"migrate upgrade": "migrate up", "migrate downgrade": "migrate down"}


def current_command() -> str | None:
    """``migrate status`` for ``todoctl migrate status`` (aliases by their canonical name)."""
    try:
        from typer._click.globals import get_current_context  # Typer >= 0.29 vendors Click
    except ImportError:  # pragma: no cover - older Typer on Click
        from click import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return None
    return canonical_command(" ".join(ctx.command_path.split()[1:])) or None


def canonical_command(words: str) -> str:
    """An alias by its canonical name: ``migrate upgrade`` -> ``migrate up``."""
    return _ALIASES.get(words, words)


def json_fields(cls: type) -> list[str]:
    """The names a dataclass contributes to a document: its fields in order, then its properties."""
    names = [f.name for f in dataclasses.fields(cls) if in_json(f)]
    return names + [n for n in getattr(cls, "__json_properties__", ()) if n not in names]


def serialise(value: Any, key: str | None = None) -> Any:
    """``value`` as plain JSON values: the one serialiser of every document."""
    if hasattr(type(value), "__json__"):  # a value whose document form is not its fields (Thresholds)
        return serialise(value.__json__(), key)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: serialise(getattr(value, name), name) for name in json_fields(type(value))}
    if isinstance(value, dict):
        return {str(k): serialise(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [serialise(v, key) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return _round(value, key)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Path)):
        return str(value)
    if isinstance(value, Decimal):
        return _round(float(value), key)
    return value


def envelope(*, command: str | None, ok: bool, status: str | None = None, target: dict | None = None) -> dict:
    """The keys every document starts with: schema_version, command, ok, status, target_database."""
    head: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "command": command, "ok": bool(ok)}
    head["status"] = status or ("ok" if ok else "fail")
    if target is not None:
        head["target_database"] = target
    return head


def build(result: Any, *, command: str | None, ok: bool | None = None, target: dict | None = None) -> dict:
    """The document of ``result`` (a dataclass): the envelope, then the result's own fields.

    ``ok`` defaults to the result's own ``ok`` (True when it has none: a report without a verdict is a
    successful answer); ``status`` is the result's own when it has one, else ok/fail, and warn when
    its ``summary`` counts warnings. A result that knows its database (``target_database``) says so.
    """
    body = serialise(result)
    own_ok = body.pop("ok", True)
    ok = own_ok if ok is None else ok
    status = body.pop("status", None)
    if not ok:
        status = "fail"
    elif status not in ("ok", "warn"):
        summary = body.get("summary")
        status = "warn" if isinstance(summary, dict) and (summary.get("warn") or 0) > 0 else "ok"
    own_target = body.pop("target_database", None)
    head = envelope(command=command, ok=bool(ok), status=status, target=own_target if own_target is not None else target)
    return {**head, **body}


def error_document(error: dict, *, command: str | None, target: dict | None = None) -> dict:
    """The JSON form of an error: the envelope with ``ok: false``, ``status: fail`` and ``error``."""
    return {**envelope(command=command, ok=False, target=target), "error": serialise(error)}


def target_shape(url, *, source: str | None = None, origin: str | None = None) -> dict:
    """``target_database``: the masked URL, the database's name, where the URL came from."""
    from todoctl.results import TargetDatabase

    return serialise(TargetDatabase.of(url, source=source, origin=origin))


def _round(value: float, key: str | None) -> float | None:
    if math.isnan(value) or math.isinf(value):
        return None  # not JSON
    if key and key.endswith("_ms"):
        return round(value, 3)
    return round(value, 4)

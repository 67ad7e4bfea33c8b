"""The one place every ``--json`` document is shaped: the envelope, the key vocabulary, the units.

Core results keep the names and units that suit the code (``seconds``, ``*_pct``, ``head``);
scripts get one vocabulary, the same in every command (README, "JSON contract"):

- an envelope first: ``schema_version``, ``command``, ``ok``, ``status`` (ok / warn / fail), and
  ``target_database`` ({url (masked), name, source, origin}) on every command that uses a database;
- durations in milliseconds, named ``*_ms`` (3 decimals); sizes in bytes, named ``*_bytes``;
  ratios 0-1, named ``ratio`` / ``*_ratio`` / ``share`` (4 decimals); other floats to 4 decimals;
- revisions: ``current`` and ``heads`` are always lists of ids; a revision object names itself
  ``revision``; schema differences are ``differences``;
- anything that has a status says ``status`` beside its ``ok``.

Keys inside values that are data (table names, query parameters, PostgreSQL's own EXPLAIN JSON,
SQL text) are left exactly as they are. The JSON Schema of each command's document lives in
``todoctl/json_schemas/``; ``RENAMED`` below is the changelog of keys this vocabulary renamed.
"""

from __future__ import annotations

import math
from typing import Any

# Bump when a key is renamed or removed, or a unit changes; adding a key keeps the version.
SCHEMA_VERSION = 1

# Old key -> new key, for the README changelog (and tests/cli/test_json_contract.py).
RENAMED = {
    "database (top level: a host/path or a name)": "target_database {url, name, source, origin}",
    "target_database.database": "target_database.name",
    "url, source (db status, version.server)": "target_database",
    "head (schema diff)": "heads (a list)",
    "heads (migrate heads: revision objects)": "revisions (objects) + heads (ids)",
    "id (revision objects: migrate history, heads)": "revision",
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

# Values that are data, not vocabulary: their keys are table names, parameters, PostgreSQL's words.
_VERBATIM = frozenset(
    {"plan", "bindings", "params", "table_rows", "by_state", "conditions", "hints", "settings", "packages", "sampled"}
)
# Keys already in milliseconds that lacked the suffix.
_MS_WITHOUT_SUFFIX = {"actual_startup": "actual_startup_ms", "actual_total": "actual_total_ms"}
# Human renderings of a size kept beside its bytes: tables show them, JSON keeps the bytes.
_HUMAN_SIZES = {"size", "total_size"}

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
    words = ctx.command_path.split()[1:]
    command = " ".join(words) or None
    return _ALIASES.get(command, command)


def build(payload: dict, *, command: str | None, extra: dict | None = None) -> dict:
    """The document for ``payload`` (already plain JSON values): envelope first, then the body."""
    body = {k: v for k, v in payload.items()}
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    target = _target(body)
    ok = body.pop("ok", None)
    if ok is None:  # a report without a verdict is a successful answer
        ok = True
    status = body.pop("status", None) if isinstance(body.get("status"), str) else None
    body = normalise(body)
    head: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if command:
        head["command"] = command
    head["ok"] = bool(ok)
    head["status"] = status or _overall_status(bool(ok), body)
    if target is not None:
        head["target_database"] = target
    return _finish({**head, **body})


def error_document(payload: dict, *, extra: dict | None = None) -> dict:
    """The JSON form of an error: the envelope with ``ok: false``, ``status: fail`` and ``error``."""
    return build({**payload, "ok": False, "status": "fail"}, command=None, extra=extra)


def target_shape(url, *, source: str | None = None, origin: str | None = None) -> dict:
    """``target_database``: the masked URL, the database's name, where the URL came from."""
    return {"url": url.masked, "name": url.database, "source": source or url.source, "origin": origin or url.origin or None}


def _target(body: dict) -> dict | None:
    """Take the database's identity out of the body into one ``target_database`` object."""
    target = body.pop("target_database", None)
    if target is None:
        if isinstance(body.get("url"), str) and "source" in body:  # db status
            target = _target_from_text(body.pop("url"), body.pop("source"), body.pop("origin", None))
        elif isinstance(body.get("server"), dict) and isinstance(body["server"].get("url"), str):  # version
            server = dict(body["server"])
            target = _target_from_text(server.pop("url"), server.pop("source", None), server.pop("origin", None))
            body["server"] = server
    if target is not None:
        body.pop("database", None)  # a host/path here, a name there: target_database.name says it once
    return target


def _target_from_text(text: str, source: str | None, origin: str | None = None) -> dict:
    from todoctl.db.url import mask_url
    from todoctl.db.url import normalise as parse

    try:
        url = parse(text, source=source or "")
    except Exception:  # a URL we cannot parse is still shown, masked, without a name
        return {"url": mask_url(text), "name": None, "source": source, "origin": origin}
    return target_shape(url, source=source, origin=origin)


def _overall_status(ok: bool, body: dict) -> str:
    """fail when not ok; warn when a check, query or step inside warns; else ok."""
    if not ok:
        return "fail"
    summary = body.get("summary")
    if isinstance(summary, dict) and (summary.get("warn") or 0) > 0:
        return "warn"
    return "ok"


def normalise(value: Any, key: str | None = None) -> Any:
    """The vocabulary applied to every dict in ``value`` (see the module docstring)."""
    if isinstance(value, dict):
        return _normalise_dict(value)
    if isinstance(value, list):
        return [normalise(item, key) for item in value]
    if isinstance(value, float):
        return _round(value, key)
    return value


def _normalise_dict(data: dict) -> dict:
    out: dict[str, Any] = {}
    keys = set(data)
    for key, value in data.items():
        if key in _VERBATIM:
            out[key] = value
            continue
        if key in _HUMAN_SIZES and isinstance(value, str) and (keys & {"bytes", "total_bytes", "size_bytes"}):
            continue
        new_key, new_value = _rename(key, value, data)
        out[new_key] = normalise(new_value, new_key) if new_key not in _VERBATIM else new_value
    if isinstance(out.get("ok"), bool) and "status" not in out:
        out["status"] = "ok" if out["ok"] else "fail"
    return out


def _rename(key: str, value: Any, siblings: dict) -> tuple[str, Any]:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key == "seconds" and (number or value is None):
        return "duration_ms", _scale(value, 1000)
    if key == "phases" and isinstance(value, dict):
        return "phases_ms", {k: _scale(v, 1000) for k, v in value.items()}
    if key in _MS_WITHOUT_SUFFIX:
        return _MS_WITHOUT_SUFFIX[key], value
    if key == "timeout" and isinstance(value, str):
        return "timeout_ms", _setting_ms(value)
    if key == "percent" and (number or value is None):
        return "ratio", _scale(value, 0.01)
    if key == "bytes" and (number or value is None):
        return "size_bytes", value
    if key == "head" and (value is None or isinstance(value, str)):
        return "heads", [] if value is None else [value]
    if key == "id" and "down_revisions" in siblings:
        return "revision", value
    if key == "heads" and isinstance(value, list) and value and isinstance(value[0], dict):
        return "revisions", value  # `migrate heads`: the objects; `heads` (ids) is added by _heads_ids
    for suffix, new_suffix, factor in (("_seconds", "_ms", 1000), ("_s", "_ms", 1000), ("_pct", "_ratio", 0.01)):
        if key.endswith(suffix) and (number or value is None):
            return key[: -len(suffix)] + new_suffix, _scale(value, factor)
    if key.endswith("_kb") and (number or value is None):
        return key[:-3] + "_bytes", None if value is None else int(round(value * 1024))
    if key.endswith("_mb") and (number or value is None):
        return key[:-3] + "_bytes", None if value is None else int(round(value * 1024 * 1024))
    return key, value


def _scale(value, factor: float):
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    scaled = value * factor
    if isinstance(value, int) and float(scaled).is_integer():
        return int(scaled)
    return scaled


def _setting_ms(text: str):
    """A PostgreSQL duration setting such as ``10s`` or ``500ms`` in milliseconds (None when unreadable)."""
    import re

    units = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", text)
    if not match:
        return None
    number = float(match.group(1)) * units[match.group(2) or "ms"]
    return int(number) if number.is_integer() else round(number, 3)


def _round(value: float, key: str | None) -> float | None:
    if math.isnan(value) or math.isinf(value):
        return None  # not JSON
    if key and key.endswith("_ms"):
        return round(value, 3)
    return round(value, 4)


def _finish(document: dict) -> dict:
    """Last touches that need the whole body: ``migrate heads`` lists the head ids beside the objects."""
    revisions = document.get("revisions")
    if document.get("command") == "migrate heads" and isinstance(revisions, list) and "heads" not in document:
        document["heads"] = [r.get("revision") for r in revisions if isinstance(r, dict)]
    return document

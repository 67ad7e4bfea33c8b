"""Draft a command's JSON Schema from real documents (a tool for writing todoctl/json_schemas/).

    TODOCTL_JSON_SAMPLES=/tmp/samples pytest tests/cli/test_json_contract.py
    python -m tests.json_schema_draft /tmp/samples todoctl/json_schemas   # only writes missing files

The draft states the shared envelope and units exactly (render/document.py) and the body's
keys and types as seen; review it before committing, as any schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_DATA_KEYS = {"plan", "bindings", "params", "table_rows", "by_state", "conditions", "hints", "settings", "packages", "sampled"}

TARGET = {
    "type": "object",
    "description": "The database the command used: its URL with the password masked, its name, where the URL came from.",
    "required": ["url", "name", "source", "origin"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "not": {"pattern": "://[^/@:]*:(?!\\*\\*\\*@)[^@]+@"}},
        "name": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"]},
        "origin": {"type": ["string", "null"]},
    },
}
ENVELOPE = {
    "schema_version": {"const": 1},
    "command": {"type": "string"},
    "ok": {"type": "boolean"},
    "status": {"enum": ["ok", "warn", "fail"]},
    "target_database": TARGET,
}


def infer(samples: list, key: str | None = None) -> dict:
    """The narrowest schema that every sample matches (types merged, keys required if always there)."""
    types: set[str] = set()
    objects, arrays = [], []
    for value in samples:
        if value is None:
            types.add("null")
        elif isinstance(value, bool):
            types.add("boolean")
        elif isinstance(value, int):
            types.add("integer")
        elif isinstance(value, float):
            types.add("number")
        elif isinstance(value, str):
            types.add("string")
        elif isinstance(value, list):
            types.add("array")
            arrays.extend(value)
        elif isinstance(value, dict):
            types.add("object")
            objects.append(value)
    if {"integer", "number"} <= types or (key and (key.endswith("_ms") or "ratio" in key or key == "share") and "integer" in types):
        types.discard("integer")
        types.add("number")
    if key and key.endswith("_bytes"):
        types.discard("number")
        types.add("integer")
    schema: dict = {"type": sorted(types)[0] if len(types) == 1 else sorted(types)} if types else {}
    if key and (key == "ratio" or key.endswith("_ratio") or key == "share"):
        schema.update(minimum=0, maximum=1)
    if key and (key.endswith("_ms") or key.endswith("_bytes")):
        schema["minimum"] = 0
    if key == "status" and types == {"string"}:
        schema = {"enum": ["ok", "warn", "fail", "skip"]}
    if objects and key not in _DATA_KEYS:
        names: dict[str, list] = {}
        for obj in objects:
            for name, item in obj.items():
                names.setdefault(name, []).append(item)
        schema["properties"] = {name: infer(items, name) for name, items in names.items()}
        always = [name for name in names if all(name in obj for obj in objects)]
        if always:
            schema["required"] = always
    if arrays:
        schema["items"] = infer(arrays, key)
    return schema


def command_schema(name: str, documents: list[dict]) -> dict:
    body = infer(documents)
    properties = body.get("properties", {})
    for key, rule in ENVELOPE.items():
        if key in properties:
            properties[key] = rule
    command = name.replace("-", " ")
    if name != "error":
        properties["command"] = {"const": command}
    ordered = {k: properties[k] for k in ENVELOPE if k in properties}
    ordered.update({k: v for k, v in properties.items() if k not in ordered})
    title = "Any error, in --json mode" if name == "error" else f"todoctl {command} --json"
    return {
        "$schema": DRAFT,
        "$id": f"{name}.schema.json",
        "title": title,
        "type": "object",
        "required": [k for k in ("schema_version", "command", "ok", "status") if k in ordered]
        + [k for k in ("target_database",) if k in body.get("required", [])]
        + [k for k in body.get("required", []) if k not in ENVELOPE],
        "properties": ordered,
    }


def main(samples: Path, out: Path) -> None:
    for folder in sorted(p for p in samples.iterdir() if p.is_dir()):
        target = out / f"{folder.name}.schema.json"
        if target.exists():
            continue
        documents = [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))]
        target.write_text(json.dumps(command_schema(folder.name, documents), indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

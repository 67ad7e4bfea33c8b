"""The JSON Schema of each command's ``--json`` document, shipped with the package.

One file per command, ``<command words joined by ->.schema.json`` (``migrate-status.schema.json``),
and ``error.schema.json`` for the document of any error. Scripts may validate against them; the
vocabulary they share is described in todoctl/render/document.py and docs/json.md.
"""

from __future__ import annotations

import json
from pathlib import Path


def directory() -> Path:
    return Path(__file__).resolve().parent


def path(name: str) -> Path:
    """``migrate-status`` (or ``migrate status``) -> its schema file."""
    return directory() / f"{name.replace(' ', '-')}.schema.json"


def load(name: str) -> dict:
    return json.loads(path(name).read_text())


def command_of(name: str) -> str:
    """``migrate-status`` -> ``migrate status`` (the document's ``command``)."""
    return name.replace("-", " ")

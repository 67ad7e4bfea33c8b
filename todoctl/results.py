"""What core results share with the JSON contract: the one marker for a field people see but scripts do not.

A result's fields are the ``--json`` vocabulary (render/document.py serialises them, and the JSON
Schemas are generated from them). A field marked ``human_only()`` is left out of both: the
database's display name (``target_database`` in the envelope says it once), or PostgreSQL's
pretty size text beside the ``*_bytes`` it prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IN_JSON = "json"
DESCRIPTION = "description"


def human_only(**kwargs: Any) -> Any:
    """A dataclass field for the human view only: not in the ``--json`` document or its schema."""
    return field(metadata={IN_JSON: False}, **kwargs)


def described(text: str, **kwargs: Any) -> Any:
    """A dataclass field with its meaning, which its JSON Schema (and the docs' key table) says."""
    return field(metadata={DESCRIPTION: text}, **kwargs)


def in_json(dataclass_field) -> bool:
    return dataclass_field.metadata.get(IN_JSON, True)


@dataclass(frozen=True)
class TargetDatabase:
    """``target_database``: the database a document is about, as every command names it."""

    url: str  # password masked
    name: str | None
    source: str | None  # where the URL came from: --database-url, DATABASE_URL (.env), embedded
    origin: str | None = None  # a .env setting's file and line

    @classmethod
    def of(cls, url, *, source: str | None = None, origin: str | None = None) -> "TargetDatabase":
        """Of a ``DatabaseURL``."""
        return cls(url.masked, url.database, source or url.source, origin or url.origin or None)

    @classmethod
    def from_text(cls, text: str, source: str | None, origin: str | None = None) -> "TargetDatabase":
        """Of a URL as text (masked here); one that does not parse is still shown, without a name."""
        from todoctl.db.url import mask_url
        from todoctl.db.url import normalise as parse

        try:
            return cls.of(parse(text, source=source or ""), source=source, origin=origin)
        except Exception:
            return cls(mask_url(text), None, source, origin)

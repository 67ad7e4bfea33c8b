"""What a time column's name says it records: a row's creation, its last update, the start of its story.

One vocabulary for the seed (which fills a creation time first and dates the rest after it) and
`schema lint`'s missing-timestamps (which accepts an order's placed_at as its creation time). No
heavy imports: `schema lint` reads it too.
"""

from __future__ import annotations

import re

CREATED = ("created_at", "created", "inserted_at", "created_on", "creation_date", "date_created", "created_date", "createdat")
UPDATED = ("updated_at", "modified_at", "updated", "modified", "last_modified", "updated_on", "modified_on", "last_updated",
           "date_modified", "changed_at", "updatedat")  # fmt: skip
# Without a created_at, the moment a row's story starts: a loan's borrowed_at, an order's placed_at.
STARTS = {"started", "start", "starts", "begins", "began", "borrowed", "opened", "placed", "ordered", "issued",
          "joined", "registered", "posted", "submitted", "sent", "booked", "logged", "occurred", "recorded",
          "signed", "enrolled", "checked", "received", "requested", "reported"}  # fmt: skip


def tokens(name: str) -> list[str]:
    """``createdAt`` / ``created_at`` -> ["created", "at"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if t]


def says_started(name: str) -> bool:
    """Does a (NOT NULL) time column's name say something started: borrowed_at, placed_at?"""
    return bool(set(tokens(name)) & STARTS)

"""Refusals that guard a database, one rule each, for every command that needs them.

    protect        the production mark and the refusals it causes
    revision_gate  require_head: the schema at head, or "run `todoctl migrate up`"

Modules are imported by their own path.
"""

"""Migrations: Alembic run in-process on a connection todoctl opens, reported as data.

    runner         up, down, stamp under the lock: interrupts, failures, where the database stands
    gates          check, offline SQL, lint (squawk)
    verify         base -> head and back on a throwaway database
    lock           the migration advisory lock
    settings       lock_timeout / statement_timeout for every run
    index_repair   INVALID indexes left by failed concurrent builds
"""

from todoctl.core.migrate.authoring import merge_heads, new_revision
from todoctl.core.migrate.gates import check, lint, offline_sql
from todoctl.core.migrate.roundtrip import verify
from todoctl.core.migrate.runner import RunOptions, downgrade, stamp, upgrade
from todoctl.core.migrate.scripts import alembic_config, history, script_directory
from todoctl.core.migrate.settings import Timeouts
from todoctl.core.migrate.state import status

__all__ = [
    "RunOptions",
    "Timeouts",
    "alembic_config",
    "check",
    "downgrade",
    "history",
    "lint",
    "merge_heads",
    "new_revision",
    "offline_sql",
    "script_directory",
    "stamp",
    "status",
    "upgrade",
    "verify",
]

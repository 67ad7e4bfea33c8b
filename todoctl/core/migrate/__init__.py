"""Migrations: Alembic run in-process on a connection todoctl opens, reported as data.
(The history itself, read without a database, is core/history.py.)

    classify       each difference of a database in the drift vocabulary (migrate check, schema diff)
    state          where a database stands (`migrate status`)
    runner         up, down, reset, stamp under the lock, one transaction per revision
    plan           --dry-run of up, down, reset, stamp: what would run, nothing changed
    outcome        what an interrupted or failed run says: where it stopped, where the database is
    authoring      `migrate new` and `migrate merge`
    gates          check, lint (squawk)
    offline        offline SQL (`migrate sql`)
    roundtrip      `migrate verify`: base -> head and back on a throwaway database
    lock           the migration advisory lock
    settings       lock_timeout / statement_timeout for every run
    index_repair   INVALID indexes left by failed concurrent builds
    alembic_words  Alembic's verbs: current, heads, up/down --sql, a bare step count
"""

from todoctl.core.migrate.authoring import merge_heads, new_revision
from todoctl.core.migrate.gates import check, lint
from todoctl.core.migrate.offline import offline_sql
from todoctl.core.migrate.roundtrip import verify
from todoctl.core.migrate.runner import RunOptions, downgrade, reset, stamp, upgrade
from todoctl.core.history import Heads, RevisionList, alembic_config, history, script_directory
from todoctl.core.migrate.settings import Timeouts
from todoctl.core.migrate.state import status

__all__ = [
    "Heads",
    "RevisionList",
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
    "reset",
    "script_directory",
    "stamp",
    "status",
    "upgrade",
    "verify",
]

"""`todoctl db`: the embedded server's state and the URL todoctl resolves (protection lives in core/safety/).

    server    the embedded server: status, start, stop, shell, the URL
    sessions  db cancel: cancel another session's query or end the session (imported by name)
    versions  `todoctl version`: the versions a bug report needs (imported by name)
    wait      `db wait`: block until the database accepts connections (imported by name)
"""

from todoctl.core.db.server import DryRun, ServerStatus, Stopped, libpq_url, shell, start, status, stop

__all__ = ["DryRun", "ServerStatus", "Stopped", "libpq_url", "shell", "start", "status", "stop"]

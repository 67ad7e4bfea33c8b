"""`todoctl db`: the embedded server's state and the URL todoctl resolves (protection lives in shared/)."""

from todoctl.core.db.server import ServerStatus, libpq_url, shell, start, status, stop

__all__ = ["ServerStatus", "libpq_url", "shell", "start", "status", "stop"]

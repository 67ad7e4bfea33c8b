"""`todoctl db`: the embedded server's state and the URL todoctl resolves (server), versions of
everything involved (versions, for `todoctl version`), and waiting for a database (wait).
Protection lives in shared/."""

from todoctl.core.db.server import ServerStatus, libpq_url, shell, start, status, stop

__all__ = ["ServerStatus", "libpq_url", "shell", "start", "status", "stop"]

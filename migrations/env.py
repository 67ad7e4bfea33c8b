"""Alembic environment of the Todo app: todoctl's one-call body (todoctl/alembic.py).

The migrations run on the connection a caller shares in ``config.attributes["connection"]``
(todoctl, pytest-alembic), or, for stock ``alembic`` commands, on the URL todoctl would choose,
under todoctl's migration lock and timeouts.
"""

from todoctl.alembic import run_migrations
from todoctl.todo.models import metadata

run_migrations(metadata)

"""The Todo app's database module, kept importable under its old name: it lives in :mod:`todoctl.todo.db`."""

from todoctl.todo.db import *  # noqa: F401,F403
from todoctl.todo.db import RETIRED_VARIABLES, _SSL_REQUIRED  # noqa: F401

"""The Todo app's models, kept importable under their old name: they live in :mod:`todoctl.todo.models`."""

from todoctl.todo.models import *  # noqa: F401,F403
from todoctl.todo.models import APP_TABLES, BCRYPT_PATTERN, SEARCH_EXPRESSION, metadata, one_of, search_document  # noqa: F401

"""The Todo app's named queries and the query registry, kept importable under their old name:
they live in :mod:`todoctl.todo.queries`."""

from todoctl.todo.queries import *  # noqa: F401,F403
from todoctl.todo.queries import QUERIES, Budget, NamedQuery, Param, Picker, get, parse_assignments, query, resolve_params  # noqa: F401

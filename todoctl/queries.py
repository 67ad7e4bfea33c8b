"""The named-query API and the Todo app's queries, kept importable under their old name: the API is
:mod:`todoctl.named_queries` (``from todoctl import query, Param, Budget``), the Todo app's queries
are :mod:`todoctl.todo.queries`."""

from todoctl.named_queries import *  # noqa: F401,F403
from todoctl.named_queries import FREE_ROWS_READ, Budget, NamedQuery, Param, Picker, parse_assignments, query, registered, resolve_params  # noqa: F401
from todoctl.todo import queries as _todo  # noqa: F401  (importing it registers the Todo app's queries)

# The Todo app's registry, as this module held it.
QUERIES = registered(_todo.__name__)


def get(name: str) -> NamedQuery:
    from todoctl.named_queries import get as _get

    return _get(name, QUERIES)

"""The Todo app, bundled with todoctl as the first app it serves.

Its models (``models``), its database module (``db``: the engine and sessions the app imports) and
its named queries live here. todoctl's core reaches them only through the project configuration
(``[tool.todoctl]`` in todoctl's own ``pyproject.toml``, or the bundled default when no project
file is found): with another app configured, nothing here is imported.
"""

"""todoctl: administration for a SQLModel + Alembic app's PostgreSQL database.

The public API for apps is the named-query registry (``docs/queries.md``)::

    from todoctl import Budget, Param, heaviest, query, recent, typical

It is imported on first use, so ``import todoctl`` (and ``todoctl --help``) loads no SQLAlchemy.
"""

__version__ = "0.1.0"

# name -> the module that defines it (PEP 562: imported when first asked for)
_PUBLIC = {
    "query": "todoctl.named_queries",
    "Param": "todoctl.named_queries",
    "Budget": "todoctl.named_queries",
    "NamedQuery": "todoctl.named_queries",
    "Picker": "todoctl.named_queries",
    "heaviest": "todoctl.named_queries",
    "typical": "todoctl.named_queries",
    "recent": "todoctl.named_queries",
    "now": "todoctl.named_queries",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib

        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'todoctl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))

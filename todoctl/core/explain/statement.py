"""A named query's SQL without a database: its parameters as ``:name`` placeholders, its constants
inline (``LIMIT 50``), as ``todoctl explain show NAME`` prints it."""

from __future__ import annotations


def statement_text(named) -> str | None:
    """The statement ``named`` builds, each parameter written ``:name``; None when the builder
    cannot be called without real values (it computes with them in Python)."""
    from sqlalchemy import literal_column
    from sqlalchemy.dialects import postgresql

    placeholders = {param.name: literal_column(f":{param.name}") for param in named.params}
    try:
        statement = named.build(**placeholders)
        text = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    except Exception:  # noqa: BLE001 - any builder of the app's: its SQL is then shown by `explain NAME`
        return None
    return "\n".join(line.rstrip() for line in text.strip().splitlines())

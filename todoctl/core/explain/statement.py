"""A named query's SQL without a database: its parameters as ``:name`` placeholders, its constants
inline (``LIMIT 50``), as ``todoctl explain show NAME`` prints it."""

from __future__ import annotations

from dataclasses import dataclass

from todoctl.named_queries import QueryInfo
from todoctl.results import described


@dataclass(frozen=True)
class QueryDetail(QueryInfo):
    """``explain show NAME``: a named query as ``explain list`` describes it, and its statement."""

    sql: str | None = described(
        "the statement, each parameter written :name; null when the query's builder needs real values "
        "(todoctl explain NAME shows it)"
    )


def statement_text(named) -> str | None:
    """The statement ``named`` builds, each parameter written ``:name``; None when the builder
    cannot be called without real values (it computes with them in Python).

    A builder that converts a value first (``TaskStatus(status)``) cannot take a placeholder: such
    a parameter is given its default from the signature (or its first choice) instead, and a
    comment above the statement says so."""
    import inspect

    from sqlalchemy import literal_column

    values = {param.name: literal_column(f":{param.name}") for param in named.params}
    text = _compiled(named, values)
    if text is not None:
        return text
    signature = inspect.signature(named.build).parameters
    shown = {}
    for param in named.params:
        default = signature[param.name].default if param.name in signature else inspect.Parameter.empty
        if default is not inspect.Parameter.empty and default is not None:
            shown[param.name] = default
        elif param.choices:
            shown[param.name] = param.choices[0]
    text = _compiled(named, {**values, **shown}) if shown else None
    if text is None:
        return None
    notes = [f"-- {name}: shown as {getattr(value, 'value', value)!r}, not a placeholder" for name, value in shown.items()]
    return "\n".join([*notes, text])


def _compiled(named, values: dict) -> str | None:
    from sqlalchemy.dialects import postgresql

    try:
        statement = named.build(**values)
        text = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    except Exception:  # noqa: BLE001 - any builder of the app's: its SQL is then shown by `explain NAME`
        return None
    return "\n".join(line.rstrip() for line in text.strip().splitlines())

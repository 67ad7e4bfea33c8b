"""The review rules, one module per area; importing this package registers them all.

Display order is the order below, then each module's order of definition.
"""

from todoctl.core.review.rules import (  # noqa: F401  isort: skip
    security,
    schema,
    sql_injection,
    queries,
    config,
    suggestions,
)

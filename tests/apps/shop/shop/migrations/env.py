"""shop's Alembic environment: todoctl's one-call body, on the app's own models."""

from shop.models import metadata
from todoctl.alembic import run_migrations

run_migrations(metadata)

"""todoctl: administration for the Todo app's PostgreSQL database."""

__version__ = "0.1.0"

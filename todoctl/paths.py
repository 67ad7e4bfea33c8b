"""Where todoctl's files are: its migrations, seed profiles and embedded database.

A wheel carries the migrations and seeds inside the package (``todoctl/_data``); a
checkout has them at the top of the repository, where stock ``alembic`` finds them.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = PACKAGE_DIR / "_data"
_CHECKOUT = PACKAGE_DIR.parent


def _resource(name: str) -> Path:
    bundled = _BUNDLED / name
    if bundled.exists():
        return bundled
    return _CHECKOUT / name


def migrations_dir() -> Path:
    return _resource("migrations")


def seeds_dir() -> Path:
    return _resource("seeds")


def alembic_ini() -> Path:
    return _resource("alembic.ini")


def todoctl_home() -> Path:
    """``TODOCTL_HOME``, else ``$XDG_DATA_HOME/todoctl``, else ``~/.local/share/todoctl``."""
    explicit = os.environ.get("TODOCTL_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(data_home) / "todoctl").resolve()

"""Small apps written by the seed tests: models as source text, one Alembic revision that creates
them, a [tool.todoctl] table, and a seed directory (profiles, hooks, word lists) if asked."""

from __future__ import annotations

import shutil
import textwrap
import uuid
from pathlib import Path

ENV_PY = """\
from todoctl.alembic import run_migrations
from {package}.models import metadata

run_migrations(metadata)
"""

CREATE_ALL = '''\
"""every table of the models"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    from {package}.models import metadata

    metadata.create_all(op.get_bind())


def downgrade():
    from {package}.models import metadata

    metadata.drop_all(op.get_bind())
'''


def write_app(root: Path, models: str, *, seeds: dict[str, str] | None = None, seeds_from: Path | None = None):
    """An app in ``root`` (a fresh package name, so apps of different tests never share a module):
    its project, ready for ``project.use``."""
    from todoctl import project

    package = f"seedapp_{uuid.uuid4().hex[:8]}"
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "models.py").write_text(textwrap.dedent(models))
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY.format(package=package))
    (versions / "0001_tables.py").write_text(CREATE_ALL.format(package=package))
    seed_dir = root / "seeds"
    if seeds_from is not None:
        shutil.copytree(seeds_from, seed_dir, ignore=shutil.ignore_patterns("__pycache__"))
    seed_dir.mkdir(exist_ok=True)
    for name, text in (seeds or {}).items():
        path = seed_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root / "pyproject.toml").write_text(
        "[tool.todoctl]\n"
        f'metadata = "{package}.models:metadata"\n'
        'migrations = "migrations"\n'
        'python_path = ["."]\n'
        'seeds = "seeds"\n'
    )
    return project.from_directory(root)

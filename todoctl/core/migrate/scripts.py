"""The migration scripts: Alembic's configuration for todoctl's history, revisions and targets (no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from todoctl import paths
from todoctl.errors import ExitCode, TodoctlError, usage_error

RELATIVE_TARGET = re.compile(r"^[+-]\d+$")


@dataclass(frozen=True)
class Revision:
    id: str
    message: str
    down_revisions: tuple[str, ...]
    is_head: bool
    filename: str


def migrations_path(migrations: Path | str | None) -> Path:
    return Path(migrations).resolve() if migrations else paths.migrations_dir()


def alembic_config(migrations: Path | str | None = None, **attributes) -> Config:
    """An Alembic Config for todoctl's migrations (or another directory, for tests)."""
    location = migrations_path(migrations)
    if not (location / "env.py").exists():
        raise usage_error(f"no Alembic environment in {location}", "pass a directory that holds env.py and versions/")
    ini = location.parent / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(location))
    config.attributes["todoctl"] = True
    config.attributes.update(attributes)
    return config


def script_directory(migrations: Path | str | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(migrations))


def revision_of(script: ScriptDirectory, rev) -> Revision:
    heads = set(script.get_heads())
    return Revision(
        id=rev.revision,
        message=(rev.doc or "").strip(),
        down_revisions=tuple(rev._normalized_down_revisions),
        is_head=rev.revision in heads,
        filename=Path(rev.path).name,
    )


def single_head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) > 1:
        raise TodoctlError(
            f"the migration history has {len(heads)} heads: {', '.join(sorted(heads))}",
            hint="join them with `todoctl migrate merge -m 'merge ...'`, then review the new revision",
            exit_code=ExitCode.CHECK_FAILED,
        )
    return heads[0] if heads else "base"


def check_target(script: ScriptDirectory, target: str) -> None:
    if target in ("head", "heads", "base") or RELATIVE_TARGET.match(target):
        return
    try:
        found = script.get_revision(target)
    except CommandError:
        found = None
    except Exception:  # ResolutionError / MultipleHeads from the revision map
        found = None
    if found is None:
        raise usage_error(
            f"unknown revision {target!r}",
            "targets are a revision id, head, base, +N or -N; see `todoctl migrate history`",
        )


def history(*, migrations: Path | str | None = None) -> list[Revision]:
    """Every revision, oldest first (reads the scripts only; no database)."""
    script = script_directory(migrations)
    return [revision_of(script, r) for r in reversed(list(script.walk_revisions()))]

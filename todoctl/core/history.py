"""The migration scripts: Alembic's configuration for todoctl's history, revisions and targets (no database)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from todoctl.errors import ExitCode, TodoctlError, usage_error

RELATIVE_TARGET = re.compile(r"^[+-]\d+$")


@dataclass(frozen=True)
class Revision:
    revision: str
    message: str
    down_revisions: tuple[str, ...]
    is_head: bool
    filename: str


@dataclass(frozen=True)
class RevisionList:
    """``migrate history``: every revision, oldest first."""

    revisions: list[Revision]


@dataclass(frozen=True)
class Heads:
    """``migrate heads``: the head revisions, as objects and as ids."""

    revisions: list[Revision]

    __json_properties__ = ("heads",)

    @property
    def heads(self) -> list[str]:
        return [r.revision for r in self.revisions]


def migrations_path(migrations: Path | str | None) -> Path:
    """The Alembic script directory: ``--migrations DIR`` when given, else the app's (``[tool.todoctl]``)."""
    if migrations:
        return Path(migrations).resolve()
    return _located().location


@dataclass(frozen=True)
class _Location:
    location: Path  # the script directory (env.py, versions/)
    ini: Path | None  # the alembic.ini that configures it, if any
    toml: Path | None  # a pyproject.toml holding [tool.alembic], if any


def _located(migrations: Path | str | None = None) -> _Location:
    """Where the history is and which configuration file Alembic itself would read for it.

    The ini is, in order: ``alembic_ini`` of the table; ``ALEMBIC_CONFIG``; else the first
    ``alembic.ini`` between the script directory and the project root whose ``script_location``
    is that directory (an app keeps it at its root, or beside its ``app/`` package). Without a
    ``migrations`` key the ini's own ``script_location`` names the directory.
    """
    from todoctl.project import current

    project = current()
    explicit = Path(migrations).resolve() if migrations else None
    location = explicit or project.migrations
    toml = project.file if project.file is not None and _has_tool_alembic(project.file) else None
    named = project.alembic_ini if explicit is None else None
    if named is None and os.environ.get("ALEMBIC_CONFIG") and explicit is None:
        named = Path(os.environ["ALEMBIC_CONFIG"]).expanduser().resolve()
        if not named.is_file():
            raise usage_error(f"ALEMBIC_CONFIG={os.environ['ALEMBIC_CONFIG']}: no such file", "unset it, or name an alembic.ini")
    if named is not None:
        found = _script_location(named, toml)
        if location is None:
            if found is None:
                raise usage_error(f"{named} has no script_location", "set migrations in [tool.todoctl], or script_location in the ini")
            location = found
        return _Location(location, named if found in (None, location) else None, toml)
    if location is None:
        root_ini = project.root / "alembic.ini"
        found = _script_location(root_ini, toml) if root_ini.is_file() else _script_location(None, toml)
        if found is None:
            raise usage_error(
                f"{project.where}: no migrations key, and no alembic.ini beside it that names a script_location",
                'set migrations = "path/to/alembic" in [tool.todoctl]',
            )
        return _Location(found, root_ini if root_ini.is_file() else None, toml)
    for folder in _between(location, project.root, explicit):
        candidate = folder / "alembic.ini"
        if candidate.is_file() and _script_location(candidate, toml) == location:
            return _Location(location, candidate, toml)
    return _Location(location, None, toml)


def _between(location: Path, root: Path, explicit: Path | None) -> list[Path]:
    """The folders from the script directory's parent up to the project root (or one level, for
    an explicit ``--migrations`` copy outside the project)."""
    folders = [location.parent]
    if explicit is None or location.is_relative_to(root):
        folders = [f for f in location.parents if f.is_relative_to(root)] or [location.parent]
        if root not in folders:
            folders.append(root)
    return folders


def _has_tool_alembic(path: Path) -> bool:
    import tomllib

    try:
        return "alembic" in (tomllib.loads(path.read_text(encoding="utf-8")).get("tool") or {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def _script_location(ini: Path | None, toml: Path | None) -> Path | None:
    """The script directory an Alembic configuration names, as a path (relative: to its file)."""
    config = Config(str(ini) if ini else None, toml_file=str(toml) if toml else None)
    value = config.get_alembic_option("script_location")
    if not value:
        return None
    base = (ini or toml).parent
    if ":" in value and not Path(value).exists() and not (base / value).exists():
        from alembic.util import coerce_resource_to_filename

        return Path(coerce_resource_to_filename(value)).resolve()  # "package:path"
    return (base / value).resolve()


def alembic_config(migrations: Path | str | None = None, **attributes) -> Config:
    """An Alembic Config for the app's history (or ``--migrations DIR``, a copy to test a revision in)."""
    from todoctl.project import current

    current().import_path()  # env.py imports the app's models
    where = _located(migrations)
    location = where.location
    if not (location / "env.py").exists():
        raise usage_error(f"no Alembic environment in {location}", "pass a directory that holds env.py and versions/")
    config = Config(
        str(where.ini) if where.ini else None, toml_file=str(where.toml) if where.toml else None
    )
    config.set_main_option("script_location", str(location))
    config.attributes["todoctl"] = True
    config.attributes.update(attributes)
    return config


def script_directory(migrations: Path | str | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(migrations))


def revision_of(script: ScriptDirectory, rev) -> Revision:
    heads = set(script.get_heads())
    return Revision(
        revision=rev.revision,
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

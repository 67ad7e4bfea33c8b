"""The project's ``.env`` file: found, read and parsed the way python-dotenv reads it for the app,
except that a ``.env`` that is there but cannot be read is an error, never skipped.

python-dotenv's ``find_dotenv`` passes over a ``.env`` that is a directory or a broken link and
takes a parent directory's instead: the command would run against a database nobody configured
for this directory. Here the first ``.env`` found upwards from the working directory is the one.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from todoctl.errors import connection_error

NAME = ".env"


@dataclass(frozen=True)
class Setting:
    """One variable's value, the layer it was read from, and where ("PATH line N" for .env)."""

    name: str
    value: str
    layer: str  # "command line", "environment", ".env"
    origin: str = ""


def find(start: Path | None = None) -> Path | None:
    """The first ``.env`` in the working directory or one of its parents (exit 3 if it is not a file)."""
    folder = Path(start or os.getcwd())
    for candidate in (folder / NAME, *(parent / NAME for parent in folder.parents)):
        if not os.path.lexists(candidate):
            continue
        if candidate.is_file():
            return candidate
        if candidate.is_symlink() and not candidate.exists():
            kind = f"a broken symbolic link (to {os.readlink(candidate)})"
        elif candidate.is_dir():
            kind = "a directory"
        else:
            kind = "not a regular file"
        raise connection_error(
            f"{candidate} is {kind}: todoctl reads the database settings from it",
            "make it a file (or remove it); todoctl never skips it for a parent directory's .env",
        )
    return None


def read(names: tuple[str, ...] | set[str], start: Path | None = None, *, prefix: str | None = None) -> dict[str, Setting]:
    """The settings among ``names`` (and, with ``prefix``, every name that starts with it) in the
    project's ``.env`` (``{}`` without one).

    A file that is not UTF-8, cannot be read, or has a line python-dotenv cannot parse that
    mentions one of ``names`` is exit 3: the setting is there, and falling back would run the
    command against another database than the one configured. The last binding of a name wins,
    and values are interpolated (``${VAR}``) as the app's ``load_dotenv()`` does: a variable set in
    the environment wins over the file's (the environment beats ``.env``, variable by variable).
    """
    from dotenv.main import DotEnv
    from dotenv.parser import parse_stream

    path = find(start)
    if path is None:
        return {}
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        text_line = data.splitlines()[line - 1].decode("utf-8", "replace")
        named = next((f"{n} in " for n in sorted(names) if re.search(rf"\b{re.escape(n)}\b", text_line)), "")
        raise connection_error(
            f"{named}{path} line {line} cannot be read: the file is not UTF-8 text",
            "save it as UTF-8: todoctl reads the database settings from it",
        ) from None
    except OSError as exc:
        raise connection_error(f"cannot read {path}: {exc.strerror}", "fix its permissions, or remove it") from None
    mentions = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names)) + r")\b")
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        # python-dotenv counts a binding from the blank lines before it: the line is where its text starts.
        line = binding.original.line + original[: len(original) - len(original.lstrip())].count("\n")
        if binding.error:
            found = mentions.search(original)
            if found:
                raise connection_error(
                    f"{found.group(1)} in {path} line {line} cannot be parsed by python-dotenv",
                    "fix or remove it: todoctl uses the embedded server only when no database is configured at all",
                )
        elif binding.key in names or (prefix and binding.key and binding.key.startswith(prefix)):
            lines[binding.key] = line  # the last one wins, as in python-dotenv
    if not lines:
        return {}
    # override=False: ``${X}`` reads the environment's X before the file's, as load_dotenv() does.
    values = DotEnv(None, stream=io.StringIO(text), interpolate=True, override=False).dict()
    return {
        name: Setting(name, values.get(name) or "", ".env", f"{path} line {line}")
        for name, line in lines.items()
    }

"""Write a rendered document (a page, a diagram) to a file or to stdout, the same way for every command.

``-`` is stdout. A file is written whole or not at all: into a temporary file beside it, then
renamed over it, so a reader (a browser, a CI upload step) never sees half a page. An existing
file is replaced only when asked (``--force``); without it the file is kept and the command exits 2.
"""

from __future__ import annotations

import errno
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from todoctl.errors import TodoctlError, usage_error


@dataclass(frozen=True)
class Written:
    path: str  # "-" for stdout
    size_bytes: int


def write_document(text: str, target: str | Path, *, force: bool = False, option: str = "--html") -> Written:
    """Write ``text`` to ``target`` (``-``: stdout), atomically; exit 2 for a path that cannot be used."""
    data = text.encode("utf-8")
    if str(target) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return Written("-", len(data))
    path = check_target(target, force=force, option=option)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never through someone else's file or symlink; 0o666 less the umask, as open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise usage_error(f"{option} {path}: cannot write there: {exc.strerror or exc}", "name a file in a writable directory") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        _publish(temp, path, force=force, option=option)
    except BaseException as exc:
        try:
            temp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise TodoctlError(f"could not write {path}: {exc.strerror or exc}", hint="the file was left as it was") from None
        raise
    return Written(str(path), len(data))


def check_target(target: str | Path, *, force: bool, option: str = "--html") -> Path:
    """``target`` if a document can be written there (checked again when it is); exit 2 if not."""
    path = Path(target)
    if path.is_dir():
        raise usage_error(f"{option} {path}: is a directory", "name a file to write")
    if path.exists() and not force:
        raise _exists(path, option)
    if not path.parent.is_dir():
        raise usage_error(f"{option} {path}: no directory {path.parent}", "create it first, or name a file in an existing directory")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise usage_error(f"{option} {path}: cannot write in {path.parent}", "name a file in a writable directory")
    return path


def _exists(path: Path, option: str) -> TodoctlError:
    return usage_error(f"{option} {path}: the file exists", "add --force to overwrite it, or name another file")


def _publish(temp: Path, path: Path, *, force: bool, option: str) -> None:
    if force:
        os.replace(temp, path)
        return
    # A hard link fails if the name exists, with no window between the check and the write.
    try:
        os.link(temp, path)
    except FileExistsError:
        raise _exists(path, option) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links: the check above is the best there is.
        if path.exists():
            raise _exists(path, option) from None
        os.replace(temp, path)
        return
    temp.unlink()

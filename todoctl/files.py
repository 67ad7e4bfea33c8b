"""Files todoctl writes and reads for the user: written whole or not at all, read with a bound.

A file is written to a temporary file beside it, flushed to disk and renamed over the target, so a
full disk or an interrupt leaves the old file (or none), never a truncated one. A failed write is a
failure (exit 1) with one line saying why. An existing file that is read-only is left alone, as a
plain write would: the rename would otherwise replace it regardless of its mode.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from todoctl.errors import ExitCode, TodoctlError, usage_error

MAX_READ_BYTES = 16 * 1024 * 1024


def _write_failed(path: Path, why: str, hint: str) -> TodoctlError:
    return TodoctlError(f"cannot write {path}: {why}", hint=hint, exit_code=ExitCode.CHECK_FAILED)


def check_writable(path: Path | str) -> None:
    """Fail early (exit 1) for a path that names a directory or a read-only file."""
    path = Path(path)
    if path.is_dir():
        raise _write_failed(path, "it is a directory", "name a file")
    # Read-only by its mode, even for root (who may write anything): the user protected it.
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise _write_failed(path, "the file is read-only", "make it writable, or name another file")


def write_atomically(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` whole (temp file + fsync + rename), or raise exit 1."""
    path = Path(path)
    check_writable(path)
    if path.exists() and not path.is_file():  # /dev/stdout, a FIFO: written in place, never renamed over
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
        except OSError as exc:
            raise _write_failed(path, exc.strerror or str(exc), "free space on its device, or name another file") from None
        return
    shown, path = path, Path(os.path.realpath(path))  # a symlink stays a link: its target is replaced
    folder = path.parent
    mode = (path.stat().st_mode & 0o7777) if path.exists() else (0o666 & ~_umask())
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _write_failed(shown, exc.strerror or str(exc), "check that its directory exists and is writable") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _write_failed(shown, exc.strerror or str(exc), "free space on its device, or name another file") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def read_bounded(path: Path | str, what: str, limit: int = MAX_READ_BYTES) -> str:
    """A UTF-8 text file of at most ``limit`` bytes; a bigger (or endless: /dev/zero) one is exit 2
    after reading ``limit + 1`` bytes."""
    path = Path(path)
    with open(path, "rb") as source:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise usage_error(
            f"{what} {path} is larger than {limit // (1024 * 1024)} MiB: not a file todoctl wrote",
            "name the file `todoctl explain baseline save` wrote",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise usage_error(f"{what} {path} is not UTF-8 text", "name the file `todoctl explain baseline save` wrote") from None

"""Writing a file so that a crash leaves either the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Makes a rename or unlink inside `directory` durable (a no-op where unsupported).

    Args:
        directory: The directory whose entries changed.
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replaces `path` with `data`: temp file, fsync, `os.replace`, fsync of the directory.

    A full disk or a crash mid-write leaves the previous file untouched; the temp file is
    removed when the write fails.

    Args:
        path: The file to replace (created if missing).
        data: Its new content.

    Raises:
        OSError: If the data could not be written (the old file is kept).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)

"""An exclusive lock between processes (POSIX `flock`), for work that is done once.

A build, a model conversion or an export started by two processes at once (the bot and the
CLI, or four test workers on a fresh checkout) would each do the whole job; the process
holding the lock does it, and the others wait and then find it done.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive `flock` on `path` until the block exits.

    The lock belongs to the open file, so it dies with its process: a crash never leaves it
    held. A directory is locked itself (nothing is written into it); any other path is a
    lock file, created if missing.

    Args:
        path: A directory, or the lock file (its directory must exist).

    Yields:
        Nothing; the lock is released on exit.

    Raises:
        OSError: If `path` cannot be opened.
    """
    flags = os.O_RDONLY if path.is_dir() else os.O_RDWR | os.O_CREAT
    fd = os.open(path, flags, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock

"""The versions of an index directory: fresh names, the `current` pointer, pruning.

`current` is a text file naming the published version under `versions/`; it is replaced in
one `os.replace`, so a reader sees the old version or the new one, never half of a build.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.settings import Settings

#: Published versions kept on disk (the current one is never deleted).
KEEP_VERSIONS = 3

POINTER_NAME = "current"
VERSIONS_DIR = "versions"
#: Written last into a version directory: a directory with a manifest is complete.
MANIFEST_NAME = "manifest.json"


def new_version_name(now: dt.datetime | None = None) -> str:
    """Returns a fresh, sortable version directory name.

    Args:
        now: Build time (UTC now by default).

    Returns:
        e.g. "20261125T190102-a3f9".
    """
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"


def versions_root(settings: Settings) -> Path:
    """Returns the directory holding all index versions."""
    return settings.index_dir / VERSIONS_DIR


def current_version(settings: Settings) -> str | None:
    """Reads the name of the published version.

    Args:
        settings: Gives `index_dir`.

    Returns:
        The version name, or None when nothing is published.
    """
    pointer = settings.index_dir / POINTER_NAME
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def publish_version(settings: Settings, version: str) -> None:
    """Points `current` at a version, atomically (write a temp file, fsync, os.replace).

    Args:
        settings: Gives `index_dir`.
        version: A directory name under `versions/`.
    """
    index_dir = settings.index_dir
    tmp = index_dir / f".{POINTER_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / POINTER_NAME)


def version_age(path: Path) -> tuple[int, str]:
    """Sort key of a version directory, newest last: its manifest time, then its name."""
    # Names share a second when builds are quick; the manifest (written last) orders them.
    try:
        return (path.joinpath(MANIFEST_NAME).stat().st_mtime_ns, path.name)
    except OSError:
        return (0, path.name)


def prune_versions(settings: Settings, *, keep: int = KEEP_VERSIONS) -> list[str]:
    """Deletes old versions, keeping the newest `keep` and always the current one.

    Args:
        settings: Gives `index_dir`.
        keep: Versions to keep (the current one counts).

    Returns:
        Names of the deleted versions.
    """
    root = versions_root(settings)
    if not root.is_dir():
        return []
    current = current_version(settings)
    names = [p.name for p in sorted(root.iterdir(), key=version_age, reverse=True) if p.is_dir()]
    kept = {current} if current else set()
    for name in names:
        if len(kept) >= keep:
            break
        kept.add(name)
    removed = [name for name in names if name not in kept]
    for name in removed:
        shutil.rmtree(root / name, ignore_errors=True)
    # Leftover pointer temp files of crashed builds are harmless, but tidy them.
    for leftover in settings.index_dir.glob(f".{POINTER_NAME}.*.tmp"):
        leftover.unlink(missing_ok=True)
    return removed

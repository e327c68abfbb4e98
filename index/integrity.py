"""Checksums of index files: recorded at build time, verified before anything is served."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Bytes read per step; big enough that hashing a 150 MB dense.faiss is I/O bound.
_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """Returns the sha256 hex digest of a file, read in blocks.

    Args:
        path: The file.

    Raises:
        OSError: The file cannot be read.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(directory: Path, *, skip: str) -> dict[str, str]:
    """Hashes every file under a directory except one name (the manifest that holds them).

    Args:
        directory: An index version directory.
        skip: File name left out (at any depth).

    Returns:
        {path relative to `directory` (posix): sha256 hex digest}, sorted by path.
    """
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != skip)
    return {p.relative_to(directory).as_posix(): sha256_file(p) for p in files}


def damaged_files(directory: Path, recorded: object) -> list[str]:
    """Lists the files that are missing or differ from their recorded checksum.

    Args:
        directory: An index version directory.
        recorded: The manifest's {relative path: sha256}. A manifest written before
            checksums existed has none (None): nothing can be verified, the list is empty,
            and the load still checks counts and formats.

    Returns:
        Relative names of damaged files, sorted; empty when every checksum matches.
    """
    if not isinstance(recorded, dict):
        return []
    damaged = []
    for name, expected in sorted(recorded.items()):
        try:
            actual: str | None = sha256_file(directory / str(name))
        except OSError:
            actual = None
        if actual != expected:
            damaged.append(str(name))
    return damaged

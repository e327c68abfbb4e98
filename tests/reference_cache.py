"""Reference outputs of an expensive peer (another library's model), cached by a content hash.

A fidelity test compares what our code computes now with what the reference computes on
the same inputs. The reference is deterministic, so its outputs are kept on disk under a
key of everything that decides them (model files, inputs, library versions, the code that
calls it): a warm run computes only our side, a change of any input computes both again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCES = REPO_ROOT / "data" / "test-cache" / "references"

Arrays = dict[str, np.ndarray]


def directory_stamp(path: Path) -> str:
    """Every file of a directory by name, size and modification time (a rewrite changes it)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(
            f"{file.relative_to(path).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
        )
    return digest.hexdigest()


def reference_key(
    *, inputs: object, packages: Iterable[str], sources: Iterable[Path], stamps: Iterable[str]
) -> str:
    """A hash of the inputs (their repr), package versions, source files and stamps."""
    digest = hashlib.sha256(repr(inputs).encode())
    for package in packages:
        try:
            digest.update(f"|{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"|{package}=-".encode())
    for source in sources:
        digest.update(b"\0" + source.read_bytes())
    for stamp in stamps:
        digest.update(f"|{stamp}".encode())
    return digest.hexdigest()[:24]


def cached_reference(
    name: str, key: str, compute: Callable[[], Arrays], root: Path = REFERENCES
) -> Arrays:
    """The arrays `compute()` returns, from `root/<name>-<key>.npz` when it is there.

    A miss computes and publishes them atomically (workers may race); older keys of the
    same name are dropped. A torn or unreadable file is computed again.
    """
    path = root / f"{name}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {item: data[item] for item in data.files}
        except (OSError, ValueError):
            pass
    arrays = compute()
    root.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    with staging.open("wb") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]
    os.replace(staging, path)
    for old in root.glob(f"{name}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return arrays

"""Specific errors of the core; each message names the fix."""

from __future__ import annotations


class KhuyenCongError(Exception):
    """Base class for the core's errors."""


class IndexNotFoundError(KhuyenCongError):
    """No published index exists yet."""

    def __init__(self, index_dir: object) -> None:
        super().__init__(
            f"No published index in {index_dir}. Build one with `make reindex` "
            "(or `python -m scripts reindex`)."
        )


class IndexMismatchError(KhuyenCongError):
    """The published index was built with another model or format than configured."""


class DocumentError(KhuyenCongError):
    """A source document cannot be read, or holds no usable text."""


class EmbeddingModelError(KhuyenCongError):
    """The configured embedding model cannot be loaded or built."""

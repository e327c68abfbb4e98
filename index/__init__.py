"""Retrieval core of Trợ lý Khuyến công: load, chunk, embed, search and answer.

This package never imports `telegram`; the bot, the console chat and the admin CLI all
call the same functions from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.embedding import EmbeddingModel
    from index.engine import Engine
    from index.settings import Settings


def load_engine(
    settings: Settings | None = None, *, model: EmbeddingModel | None = None
) -> Engine:
    """Loads the embedding model and the published index once and returns the engine."""
    from index.engine import load_engine as _load_engine

    return _load_engine(settings, model=model)


__all__ = ["load_engine"]

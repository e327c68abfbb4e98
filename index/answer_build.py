"""The answer layer's part of an index build: answer units and their vectors, and the intent
classifier fitted on `knowledge/intents.yaml`, with a cache of the vectors of short texts and
the batched passage embedding every build's new texts go through.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index import store
from index.accents import AccentRestorer
from index.intent_fit import BaseCache, fit_classifier
from index.intents import (
    INTENTS_FILE,
    IntentClassifier,
    IntentModelError,
    file_hash,
    read_examples,
)
from index.lexicon import TermStats, load_lexicon
from index.schema import Chunk
from index.settings import Settings
from index.units import UNITS_VERSION, AnswerUnit, UnitStore, cut_units

if TYPE_CHECKING:
    from index.embedding import EmbeddingModel

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]

#: Texts embedded per call, so the progress callback moves during long builds.
EMBED_BATCH = 64


class EmbeddingCache:
    """Vectors of short texts (answer units, intent examples) kept between builds.

    A full rebuild, a new unit cutting or an edit of intents.yaml re-embeds only the texts
    it has not seen: the cache lives in `<index_dir>/cache/`, one file per model, vector
    space (int8 vectors differ from float ones: `store.vector_space`) and prompt.
    """

    def __init__(self, settings: Settings, kind: str) -> None:
        space = store.vector_space(settings.embedding_backend, settings.embedding_quantization)
        name = hashlib.sha256(f"{_model_id(settings)}|{space}|{kind}".encode()).hexdigest()
        self.path = settings.index_dir / "cache" / f"{name[:16]}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                self._vectors = {key: data[key] for key in data.files}
        except (OSError, ValueError):
            self._vectors = {}
        self._dirty = False
        #: Texts this cache sent to the model (its misses).
        self.sent = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors of the texts, encoding only the missing ones."""
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        return np.vstack(self.encode_rows(texts, encode))

    def encode_rows(
        self, texts: list[str], encode: Callable[[list[str]], Sequence[np.ndarray] | np.ndarray]
    ) -> list[np.ndarray]:
        """The cached array of each text (a vector or a matrix), encoding the missing ones."""
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = {self.key(t): t for t in texts}
            fresh = encode([by_key[k] for k in missing])
            self.sent += len(missing)
            for k, vector in zip(missing, fresh, strict=True):
                self._vectors[k] = np.asarray(vector, dtype=np.float32)
            self._dirty = True
        return [self._vectors[k] for k in keys]

    def save(self) -> None:
        """Writes the cache when it grew (a failure only costs the next build time)."""
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, **self._vectors)  # type: ignore[arg-type]
            tmp.replace(self.path)
        except OSError:
            logger.warning("Cannot write the embedding cache %s", self.path, exc_info=True)


def _model_id(settings: Settings) -> str:
    from index.embedding import model_id

    return model_id(settings)


def embed_in_batches(
    model: EmbeddingModel,
    texts: list[str],
    batch_size: int,
    progress: ProgressCallback | None,
) -> np.ndarray:
    """Embeds passages longest first, `EMBED_BATCH` at a time, reporting progress per batch.

    Tests replace it with a cached version (tests/build_vectors.py).
    """
    from index.embedding import encode_passages

    # Longest first, across the whole build: each forward pass pads to its longest text, so
    # batches of similar length waste no work on padding (sentence-transformers only sorts
    # within one call, and a call here is one progress step). The longest batch also runs
    # first, so a memory problem shows at once.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    ordered = [texts[i] for i in order]
    parts: list[np.ndarray] = []
    if progress is not None:
        progress(0, len(texts), "embedding")
    for start in range(0, len(ordered), EMBED_BATCH):
        batch = ordered[start : start + EMBED_BATCH]
        parts.append(
            np.asarray(encode_passages(model, batch, batch_size=batch_size), dtype=np.float32)
        )
        if progress is not None:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts), "embedding")
    vectors = np.empty_like(np.vstack(parts))
    vectors[np.asarray(order, dtype=np.int64)] = np.vstack(parts)
    return vectors


def _embed(
    model: EmbeddingModel, texts: list[str], settings: Settings, progress: ProgressCallback | None
) -> np.ndarray:
    return embed_in_batches(model, texts, settings.embedding_batch_size, progress)


def embed_new_chunks(
    model: EmbeddingModel,
    chunks: list[Chunk],
    settings: Settings,
    progress: ProgressCallback | None,
) -> tuple[np.ndarray, dict[int, np.ndarray] | None, int]:
    """Vectors of new chunks, with their units' vectors when the model gives token states.

    With `unit_vectors="late"` and a model that gives token states, one pass gives both
    (`index.late_units`); else the units are embedded later by `build_units`.

    Returns:
        The chunk vectors (one row per chunk), chunk_id -> unit vectors or None, and how
        many texts were sent to the model.
    """
    from index.late_units import LATE_VERSION, embed_chunks_with_units, supports_late_units

    texts = [c.index_text for c in chunks]
    if settings.unit_vectors != "late" or not supports_late_units(model):
        cache = EmbeddingCache(settings, "passage")
        vectors = cache.encode(texts, lambda batch: _embed(model, batch, settings, progress))
        cache.save()
        return vectors, None, cache.sent
    # Keyed by index_text: it decides the chunk's units, given the cutting's version.
    cache = EmbeddingCache(settings, f"late{LATE_VERSION}-units{UNITS_VERSION}")
    by_text = {c.index_text: c for c in chunks}

    def encode(batch: list[str]) -> list[np.ndarray]:
        return embed_chunks_with_units(
            model, [by_text[t] for t in batch], batch_size=settings.embedding_batch_size,
            embed_separately=lambda units: _embed(model, units, settings, None),
            progress=progress,
        )  # fmt: skip

    matrices = cache.encode_rows(texts, encode)
    cache.save()
    vectors = np.vstack([m[0] for m in matrices]) if matrices else np.empty((0, 0), np.float32)
    late = {c.chunk_id: m[1:] for c, m in zip(chunks, matrices, strict=True)}
    return vectors, late, cache.sent


def chunk_stats(units: UnitStore) -> TermStats:
    """IDF statistics over chunks, from the stored unit tokens (nothing is re-tokenised)."""
    per_chunk: dict[int, set[str]] = {}
    for unit in units.units:
        per_chunk.setdefault(unit.chunk_id, set()).update(unit.tokens)
    return TermStats(per_chunk.values())


def build_units(
    all_chunks: list[Chunk],
    new_chunks: list[Chunk],
    previous: store.LoadedIndex | None,
    model: EmbeddingModel | None,
    settings: Settings,
    progress: ProgressCallback | None,
    late: dict[int, np.ndarray] | None = None,
) -> tuple[UnitStore, int]:
    """Answer units of every chunk: reused with their vectors for unchanged chunks.

    Args:
        late: chunk_id -> unit vectors (one row per unit, in order) pooled from the chunk's
            own pass (`embed_new_chunks`); the units of other new chunks are embedded here.

    Returns:
        The unit store, and how many unit texts were sent to the model (cache misses).
    """
    new_ids = {c.chunk_id for c in new_chunks}
    old_rows: dict[int, list[int]] = {}
    if previous is not None:
        for row, unit in enumerate(previous.units.units):
            old_rows.setdefault(unit.chunk_id, []).append(row)
    units: list[AnswerUnit] = []
    sources: list[tuple[str, int]] = []  # ("old", previous row) or ("new", index in fresh)
    fresh: list[AnswerUnit] = []
    pooled: list[np.ndarray] = []
    for chunk in all_chunks:
        kept = [] if chunk.chunk_id in new_ids else old_rows.get(chunk.chunk_id, [])
        if kept and previous is not None:
            units.extend(previous.units.units[r] for r in kept)
            sources.extend(("old", r) for r in kept)
        elif late is not None and chunk.chunk_id in late:
            cut = cut_units([chunk])
            units.extend(cut)
            sources.extend(("late", len(pooled) + i) for i in range(len(cut)))
            pooled.extend(late[chunk.chunk_id])
        else:
            for unit in cut_units([chunk]):
                units.append(unit)
                sources.append(("new", len(fresh)))
                fresh.append(unit)
    embedded = np.empty((0, 0), dtype=np.float32)
    sent = 0
    if fresh:
        cache = EmbeddingCache(settings, "passage")

        def encode(texts: list[str]) -> np.ndarray:
            nonlocal model
            if model is None:
                from index.embedding import load_embedding_model

                model = load_embedding_model(settings)
            return _embed(model, texts, settings, progress)

        embedded = cache.encode([u.embed_text for u in fresh], encode)
        cache.save()
        sent = cache.sent
    rows: list[np.ndarray] = [
        embedded[i] if kind == "new" else pooled[i] if kind == "late"
        else previous.units.vectors[i]  # type: ignore[union-attr]
        for kind, i in sources
    ]  # fmt: skip
    dim = int(rows[0].shape[-1]) if rows else (previous.dense.dim if previous is not None else 0)
    matrix = np.vstack(rows).astype(np.float32) if rows else np.empty((0, dim), np.float32)
    return UnitStore(units, matrix), sent


def uses_index_restorer(settings: Settings) -> bool:
    """Whether questions typed without accents are restored by the index's own restorer."""
    return settings.restore_diacritics and settings.diacritic_restorer == "index"


def fit_restorer(
    chunk_texts: Iterable[str], settings: Settings, *, questions: Sequence[str] | None = None
) -> AccentRestorer | None:
    """The diacritic restorer of an index: its chunks' words, the intent examples and the
    province names (owners name their province: "ha noi" is "Hà Nội", not "hạ nội").

    Args:
        chunk_texts: Texts of every chunk of the index.
        settings: `diacritic_restorer` chooses it; None for "vidiac" (pyvi) or when
            restoration is off.
        questions: The example questions to learn from; those of intents.yaml when None
            (cross-validation passes its training folds).

    Returns:
        The fitted restorer, or None.
    """
    if not uses_index_restorer(settings):
        return None
    from index.leads.provinces import all_province_names

    if questions is not None:
        return AccentRestorer.fit(chunk_texts, [*questions, *all_province_names()])
    path = settings.knowledge_dir / INTENTS_FILE
    questions = []
    if path.is_file():
        try:
            questions = [e.text for e in read_examples(path)]
        except IntentModelError:
            logger.warning("%s is unreadable: accents are guessed from the documents only", path)
    return AccentRestorer.fit(chunk_texts, [*questions, *all_province_names()])


def accent_setting(settings: Settings) -> str | bool:
    """How unaccented examples were embedded, recorded with the classifier."""
    return settings.diacritic_restorer if settings.restore_diacritics else False


def fit_intents(
    settings: Settings,
    previous: store.LoadedIndex | None,
    model: EmbeddingModel | None,
    stats: TermStats,
    *,
    changed: bool,
    restorer: AccentRestorer | None = None,
) -> tuple[IntentClassifier | None, dict[str, Any] | None]:
    """Fits the intent classifier on knowledge/intents.yaml, or reuses the published one."""
    path = settings.knowledge_dir / INTENTS_FILE
    if not path.is_file():
        logger.warning("%s is missing: questions are not classified (no routing)", path)
        return None, None
    digest = file_hash(path)
    old = previous.manifest.get("intents") if previous is not None else None
    if previous is not None and old and not changed:
        from index.intents import FEATURES_VERSION

        if (
            old.get("hash") == digest
            and old.get("restore_accents") == settings.restore_diacritics
            and old.get("accent_restorer") == accent_setting(settings)
            and old.get("features_version") == FEATURES_VERSION
        ):
            reused = _load_published_classifier(previous, old)
            if reused is not None:
                return reused, old
    from index.embedding import encode_queries, load_embedding_model

    cache = EmbeddingCache(settings, "query")

    def encode(texts: list[str]) -> np.ndarray:
        nonlocal model
        model = model if model is not None else load_embedding_model(settings)
        return encode_queries(model, texts)

    started = time.perf_counter()
    classifier = fit_classifier(
        read_examples(path),
        lambda texts: cache.encode(list(texts), encode),
        load_lexicon(settings.knowledge_dir),
        stats,
        restore_accents=settings.restore_diacritics,
        restorer=restorer.restore if restorer is not None else None,
        cache=BaseCache(settings.intent_cache_dir),
        embedding_id=f"{_model_id(settings)}|{settings.embedding_backend}|{settings.embedding_quantization}",
    )
    cache.save()
    entry = {
        **classifier.info,
        "accent_restorer": accent_setting(settings),
        "hash": digest,
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    logger.info(
        "Intent classifier fitted on %d examples (base %s)",
        classifier.info["examples"], "cached" if classifier.info["base_cached"] else "fitted",
    )  # fmt: skip
    return classifier, entry


def intents_stale(settings: Settings, manifest: dict[str, Any]) -> bool:
    """The classifier was fitted on another intents.yaml, features or accent setting."""
    from index.intents import FEATURES_VERSION

    path = settings.knowledge_dir / INTENTS_FILE
    entry = manifest.get("intents")
    if not path.is_file():
        return entry is not None
    return (
        entry is None
        or entry.get("hash") != file_hash(path)
        or entry.get("features_version") != FEATURES_VERSION
        or entry.get("restore_accents") != settings.restore_diacritics
        or entry.get("accent_restorer") != accent_setting(settings)
    )


def _load_published_classifier(
    previous: store.LoadedIndex, entry: dict[str, Any]
) -> IntentClassifier | None:
    from index.intents import IntentModelError

    try:
        return IntentClassifier.load(previous.path, entry)
    except IntentModelError:
        return None

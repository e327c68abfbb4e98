"""Building and publishing the index, incrementally by default.

Order of a build: read every document first, compare content hashes with the published
manifest, embed only added or changed documents (vectors of unchanged chunks are reused
from the published dense index), rebuild BM25 over all chunks, write a new version
directory, load it back to verify, and only then switch the `current` pointer. Any failure
leaves the published index untouched.

A document that cannot be read is reported by name in `BuildReport.failed` and skipped: it
never aborts the build. If an earlier version of it is published, that version is kept (a
broken edit never takes a working document out of the index).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from index import index_versions, store, version_writer
from index.answer_build import (
    build_units,
    chunk_stats,
    embed_new_chunks,
    fit_intents,
    fit_restorer,
)
from index.chunking import CHUNKER_VERSION, chunk_document
from index.dense import DenseIndex
from index.documents import content_hash, iter_source_files, load_document
from index.errors import DocumentError, IndexMismatchError
from index.file_lock import exclusive_lock
from index.glossary import glossary_hash
from index.intents import FEATURES_VERSION as INTENT_FEATURES_VERSION
from index.lexical import LexicalIndex
from index.lexicon import load_lexicon, word_lists_hash
from index.published import configured_model_id, same_vectors
from index.schema import Chunk, DocumentMeta
from index.settings import Settings
from index.unit_entities import find_unit_entities
from index.units import UNITS_VERSION

if TYPE_CHECKING:
    from index.embedding import EmbeddingModel

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]

#: Token limit for "passage: " + index_text; below e5-small's 512 window with headroom.
MAX_CHUNK_TOKENS = 400
#: Whether BM25 indexes folded syllable bigrams (see scripts/evaluate.py for the effect).
BM25_BIGRAMS = False
LOCK_NAME = ".build.lock"
#: Everything besides the sources and the model that changes what a build writes; caches of
#: built indexes (tests, benchmarks) key on it.
BUILD_VERSION_KEYS = (
    store.FORMAT_VERSION, CHUNKER_VERSION, MAX_CHUNK_TOKENS, BM25_BIGRAMS, UNITS_VERSION,
    INTENT_FEATURES_VERSION,
)  # fmt: skip


@dataclass(slots=True)
class BuildReport:
    """What a build changed, for the CLI and the admin upload reply."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    version: str = ""
    #: Texts sent to the embedding model by this build (0 when nothing changed).
    embedded: int = 0
    #: Documents that could not be read: (doc_id, reason). Skipped, or kept in their
    #: previously published version when there is one.
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Source:
    meta: DocumentMeta
    text: str
    hash: str


@contextlib.contextmanager
def build_lock(settings: Settings) -> Iterator[None]:
    """Holds an exclusive lock on `<index_dir>/.build.lock` so builds never interleave.

    Args:
        settings: Gives `index_dir`.

    Yields:
        Nothing; the lock is released on exit.
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(settings.index_dir / LOCK_NAME):
        yield


def _load_sources(settings: Settings) -> tuple[dict[str, _Source], list[tuple[str, str]]]:
    root = settings.knowledge_dir
    limits = settings.document_limits
    sources: dict[str, _Source] = {}
    failed: list[tuple[str, str]] = []
    for path in iter_source_files(root):
        try:
            meta, text = load_document(path, root=root, limits=limits)
        except DocumentError as exc:
            # One bad file must not cost the other documents their index.
            logger.warning("Skipping %s: %s", path, exc)
            failed.append((path.relative_to(root).as_posix(), str(exc)))
            continue
        sources[meta.doc_id] = _Source(meta, text, content_hash(path))
    return sources, failed


@contextlib.contextmanager
def chunking_tokenizer(model: Any, *, shared: bool = True) -> Iterator[Any | None]:
    """Lends the chunker a tokenizer that no other thread uses (None without a model).

    A Hugging Face fast tokenizer is one Rust object that `tokenizer(..., truncation=...)`
    reconfigures in place; an in-bot re-index counting tokens on the same object that
    answer threads encode with fails with "Already borrowed". So a build given a model that
    others may use chunks with a private copy, made per build and dropped after it: the
    e5 tokenizer holds ~300 MB (250k pieces), too much to keep beside the bot's own.

    The light ONNX encoder's `tokenizers.Tokenizer` is never reconfigured (it truncates each
    encoding instead), so it is lent as it is (`tokenizer_is_shareable`).

    Args:
        model: The embedding model, or None.
        shared: Whether other threads may use the model (False when the build loaded it).

    Yields:
        The tokenizer for the chunker, or None when the model has none.
    """
    tokenizer = getattr(model, "tokenizer", None)
    private = shared and not getattr(model, "tokenizer_is_shareable", False)
    yield copy.deepcopy(tokenizer) if private and tokenizer is not None else tokenizer


def _reusable(settings: Settings, *, configured_id: str, full: bool) -> store.LoadedIndex | None:
    """Loads the published index when its vectors and chunks may be reused."""
    if full:
        return None
    manifest = store.current_manifest(settings)
    if manifest is None:
        return None
    if (
        manifest.get("model_id") != configured_id
        or manifest.get("format_version") != store.FORMAT_VERSION
        or manifest.get("chunker_version") != CHUNKER_VERSION
        or manifest.get("units_version") != UNITS_VERSION
        # Reused units keep their vectors: late and separate ones must not mix.
        or manifest.get("unit_vectors", "separate") != settings.unit_vectors
        or not same_vectors(settings, manifest)
    ):
        logger.info("Published index uses another model/format/backend: full rebuild")
        return None
    version = index_versions.current_version(settings)
    assert version is not None  # a manifest was read through the pointer
    try:
        return store.load_version(index_versions.versions_root(settings) / version, intents=False)
    except IndexMismatchError:
        logger.info("Published index %s was made by other code: full rebuild", version)
        return None
    except store.IndexCorruptError:
        logger.warning("Published index %s is damaged: full rebuild", version, exc_info=True)
        return None


def build_index(
    settings: Settings,
    *,
    full: bool = False,
    model: EmbeddingModel | None = None,
    progress: ProgressCallback | None = None,
    exclusive_model: bool = False,
) -> BuildReport:
    """Builds a new index version from `knowledge/` and publishes it atomically.

    Args:
        settings: Gives `knowledge_dir`, `index_dir`, the embedding model and batch size.
        full: Re-embed every document even when the published index could be reused.
        model: An already loaded embedding model (loaded from settings when needed).
        progress: Called as `progress(done, total, label)` while embedding.
        exclusive_model: The caller guarantees no other thread uses `model` during the
            build (a CLI or benchmark process), so the chunker may count tokens with the
            model's own tokenizer instead of a private copy (see `chunking_tokenizer`).

    Returns:
        What was added, changed, removed and kept, with chunk count and timing.

    A document that cannot be read is listed in `BuildReport.failed` and skipped (its
    previously published version, if any, is kept); it never aborts the build.

    Raises:
        GlossaryError: `glossary.yaml` is malformed; raised before anything is embedded,
            and the published index stays as it was.
    """
    started = time.perf_counter()
    # Read first: a malformed word list stops the build before minutes of embedding.
    lexicon = load_lexicon(settings.knowledge_dir)
    glossary = glossary_hash(settings.knowledge_dir)
    word_lists = word_lists_hash(settings.knowledge_dir)
    sources, failed = _load_sources(settings)
    configured_id = configured_model_id(settings)
    with build_lock(settings):
        if full:
            # A full rebuild starts from nothing: the cache of embedded texts goes too.
            shutil.rmtree(settings.index_dir / "cache", ignore_errors=True)
        previous = _reusable(settings, configured_id=configured_id, full=full)
        old_docs: dict[str, Any] = previous.manifest.get("documents", {}) if previous else {}
        report = BuildReport(failed=failed)
        if previous is not None:
            for doc_id, _ in failed:
                if doc_id in old_docs and doc_id in previous.docs:
                    # Keep serving the last good version; its old hash makes the index
                    # "stale", so every later build tries the file again.
                    kept = previous.docs[doc_id]
                    sources[doc_id] = _Source(kept, "", str(old_docs[doc_id].get("hash", "")))
        for doc_id, source in sources.items():
            old = old_docs.get(doc_id)
            if old is None:
                report.added.append(doc_id)
            elif old.get("hash") != source.hash:
                report.changed.append(doc_id)
            else:
                report.unchanged.append(doc_id)
        report.removed = sorted(set(old_docs) - set(sources))

        to_embed = [*report.added, *report.changed]
        # A caller's model may serve answers meanwhile (an in-bot re-index).
        shared_model = model is not None and not exclusive_model
        if to_embed and model is None:
            from index.embedding import load_embedding_model

            model = load_embedding_model(settings)
        if model is not None:
            from index.embedding import embedding_dim

            dim = int(embedding_dim(model))
        elif previous is not None:
            dim = previous.dense.dim
        else:  # empty knowledge base and no index yet
            from index.embedding import embedding_dim, load_embedding_model

            model = load_embedding_model(settings)
            dim = int(embedding_dim(model))
        if previous is not None and previous.dense.dim != dim:
            previous = None
            # A failed document kept from the old version has no text to re-embed.
            sources = {doc_id: src for doc_id, src in sources.items() if src.text}
            report.added = sorted(sources)
            report.changed, report.unchanged = [], []
            to_embed = list(report.added)

        chunks_by_doc: dict[str, list[Chunk]] = {}
        unchanged = set(report.unchanged)
        if previous is not None:
            for chunk in sorted(previous.chunks.values(), key=lambda c: (c.doc_id, c.ordinal)):
                if chunk.doc_id in unchanged:
                    chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
        new_chunks: list[Chunk] = []
        with chunking_tokenizer(model, shared=shared_model) as tokenizer:
            for doc_id in to_embed:
                source = sources[doc_id]
                drafts = chunk_document(
                    source.meta, source.text, tokenizer=tokenizer, max_tokens=MAX_CHUNK_TOKENS
                )
                chunks_by_doc[doc_id] = drafts
                new_chunks.extend(drafts)

        dense_ids: list[int] = []
        dense_parts: list[np.ndarray] = []
        sent = 0  # texts sent to the model (what the embedding cache did not have)
        reused = [c for doc_id in report.unchanged for c in chunks_by_doc.get(doc_id, [])]
        if previous is not None and reused:
            ids = [c.chunk_id for c in reused]
            dense_ids.extend(ids)
            dense_parts.append(previous.dense.reconstruct(ids))
        late: dict[int, np.ndarray] | None = None
        if new_chunks:
            assert model is not None
            # Re-chunked or re-built text that was embedded before comes from a cache.
            vectors, late, chunk_texts = embed_new_chunks(model, new_chunks, settings, progress)
            sent += chunk_texts
            dense_ids.extend(c.chunk_id for c in new_chunks)
            dense_parts.append(vectors)
        report.embedded = sent
        # Every version gets a fresh index over all vectors: flat (exact) for small knowledge
        # bases, IVF (retrained on the current vectors) for large ones.
        dense = DenseIndex.from_vectors(
            dense_ids,
            np.vstack(dense_parts) if dense_parts else np.empty((0, dim), dtype=np.float32),
            dim=dim,
        )

        all_chunks = [c for doc_id in sorted(chunks_by_doc) for c in chunks_by_doc[doc_id]]
        if len({c.chunk_id for c in all_chunks}) != len(all_chunks):
            raise RuntimeError("duplicate chunk ids: two chunks share doc, position and text")
        units, unit_texts = build_units(
            all_chunks, new_chunks, previous, model, settings, progress, late=late
        )
        report.embedded += unit_texts
        stats = chunk_stats(units)
        restorer = fit_restorer((c.text for c in all_chunks), settings)
        # The glossary and the word lists shape how the intent examples are read: new ones refit.
        new_glossary = previous is not None and (
            previous.manifest.get("glossary") != glossary
            or previous.manifest.get("word_lists") != word_lists
        )
        intents, intents_entry = fit_intents(
            settings, previous, model, stats,
            changed=bool(to_embed or report.removed) or new_glossary, restorer=restorer,
        )  # fmt: skip
        lexical = LexicalIndex(bigrams=BM25_BIGRAMS)
        lexical.build([c.chunk_id for c in all_chunks], [c.index_text for c in all_chunks])

        version = index_versions.new_version_name()
        root = index_versions.versions_root(settings)
        root.mkdir(parents=True, exist_ok=True)
        path = root / version
        report.version = version
        report.chunks = len(all_chunks)
        manifest = {
            "format_version": store.FORMAT_VERSION,
            "chunker_version": CHUNKER_VERSION,
            "model_id": configured_id,
            "embedding_backend": settings.embedding_backend,
            "embedding_quantization": settings.embedding_quantization,
            "dim": dim,
            "dense_kind": dense.kind,
            "dense_nlist": dense.nlist,
            "dense_nprobe": dense.nprobe,
            "chunk_count": len(all_chunks),
            "doc_count": len(sources),
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": 0.0,
            "bm25_bigrams": BM25_BIGRAMS,
            "max_chunk_tokens": MAX_CHUNK_TOKENS,
            "units_version": UNITS_VERSION,
            "unit_count": len(units),
            # The setting: "late" units are pooled from the chunks' pass when the model gives
            # token states (index.late_units), else embedded alone.
            "unit_vectors": settings.unit_vectors,
            "intents": intents_entry,
            "glossary": glossary,
            "word_lists": word_lists,
            "documents": {
                doc_id: {"hash": sources[doc_id].hash, "chunks": len(chunks_by_doc.get(doc_id, []))}
                for doc_id in sorted(sources)
            },
        }
        try:
            manifest["build_seconds"] = round(time.perf_counter() - started, 3)
            version_writer.write_version_files(
                path,
                manifest=manifest,
                chunks=all_chunks,
                docs=[sources[doc_id].meta for doc_id in sorted(sources)],
                dense=dense,
                lexical=lexical,
                units=units,
                intents=intents,
                restorer=restorer,
                # Found here, not at every engine load (most of the load: index.unit_entities).
                unit_entities=find_unit_entities(units, lexicon),
            )
            # Verify the new version loads and its counts agree before anyone reads it.
            store.load_version(path)
            index_versions.publish_version(settings, version)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        index_versions.prune_versions(settings)
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "Index %s published: %d chunks (%d embedded), +%d ~%d -%d documents in %.1fs",
        version, report.chunks, report.embedded, len(report.added), len(report.changed),
        len(report.removed), report.seconds,
    )  # fmt: skip
    return report

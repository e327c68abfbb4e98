"""What is published: its status against the sources and the configured model, its documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from index import index_versions, store
from index.answer_build import intents_stale
from index.chunking import CHUNKER_VERSION
from index.documents import content_hash, iter_source_files
from index.glossary import glossary_hash
from index.lexicon import word_lists_hash
from index.lifecycle import load_applied
from index.schema import DocumentMeta
from index.settings import Settings
from index.units import UNITS_VERSION


def source_hashes(settings: Settings) -> dict[str, str]:
    """Hashes every source document without parsing it.

    Args:
        settings: Gives `knowledge_dir`.

    Returns:
        doc_id -> content hash.
    """
    root = settings.knowledge_dir
    return {
        path.relative_to(root).as_posix(): content_hash(path) for path in iter_source_files(root)
    }


def configured_model_id(settings: Settings) -> str:
    """The configured embedding model's id, as manifests record it."""
    from index.embedding import model_id

    return model_id(settings)


def same_vectors(settings: Settings, manifest: dict[str, Any]) -> bool:
    """Tells whether the configured backend's query vectors match the index's (see store)."""
    return store.vectors_compatible(
        manifest,
        backend=settings.embedding_backend,
        quantization=settings.embedding_quantization,
    )


def index_status(settings: Settings) -> str:
    """Compares the published index with the sources and the configured model.

    Args:
        settings: Gives `knowledge_dir`, `index_dir` and the embedding model.

    Returns:
        "missing" (nothing published or unreadable), "corrupt" (a file of the current
        version fails its checksum: see `store.verify_version`), "mismatch" (other model,
        backend precision or format: a full rebuild is needed), "stale" (sources changed)
        or "current".
    """
    manifest = store.current_manifest(settings)
    if manifest is None:
        return "missing"
    version = index_versions.current_version(settings)
    assert version is not None  # a manifest was read through the pointer
    try:
        store.verify_version(index_versions.versions_root(settings) / version)
    except store.IndexCorruptError:
        return "corrupt"
    if (
        manifest.get("model_id") != configured_model_id(settings)
        or manifest.get("format_version") != store.FORMAT_VERSION
        or not same_vectors(settings, manifest)
    ):
        return "mismatch"
    published = {doc_id: info.get("hash") for doc_id, info in manifest.get("documents", {}).items()}
    if published != source_hashes(settings) or manifest.get("chunker_version") != CHUNKER_VERSION:
        return "stale"
    if manifest.get("units_version") != UNITS_VERSION or intents_stale(settings, manifest):
        return "stale"
    if manifest.get("glossary") != glossary_hash(settings.knowledge_dir):
        return "stale"
    if manifest.get("word_lists") != word_lists_hash(settings.knowledge_dir):
        return "stale"
    if manifest.get("unit_vectors", "separate") != settings.unit_vectors:
        return "stale"
    return "current"


def list_sources(settings: Settings) -> list[DocumentMeta]:
    """Lists the documents of the published index, sorted by doc_id.

    Admins' status overrides (`index.lifecycle`) are applied, as the engine applies them.

    Args:
        settings: Gives `index_dir` and the overrides file.

    Returns:
        Metadata of each indexed document; empty when nothing is published.
    """
    version = index_versions.current_version(settings)
    if version is None:
        return []
    docs_file: Path = index_versions.versions_root(settings) / version / store.DOCS_NAME
    try:
        raw = json.loads(docs_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    docs = {doc_id: DocumentMeta.from_dict(raw[doc_id]) for doc_id in sorted(raw)}
    return list(load_applied(docs, settings.lifecycle_path).values())

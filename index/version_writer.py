"""Writes the files of one index version (see `index.store` for the layout)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.accents import RESTORER_NAME
from index.index_versions import MANIFEST_NAME
from index.integrity import file_checksums
from index.store import CHUNKS_NAME, DENSE_NAME, DOCS_NAME, FILES_KEY, LEXICAL_NAME, StoredChunk
from index.unit_entities import ENTITIES_NAME, save_unit_entities

if TYPE_CHECKING:
    from index.accents import AccentRestorer
    from index.dense import DenseIndex
    from index.intents import IntentClassifier
    from index.lexical import LexicalIndex
    from index.schema import DocumentMeta
    from index.unit_entities import SavedEntities
    from index.units import UnitStore


def chunk_to_json(chunk: StoredChunk) -> dict[str, Any]:
    """Serialises a chunk for `chunks.jsonl`."""
    return {
        "id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "ordinal": chunk.ordinal,
        "heading_path": list(chunk.heading_path),
        "text": chunk.text,
        "index_text": chunk.index_text,
        "path": list(chunk.path),
    }


def write_version_files(
    path: Path,
    *,
    manifest: dict[str, Any],
    chunks: Iterable[StoredChunk],
    docs: Iterable[DocumentMeta],
    dense: DenseIndex,
    lexical: LexicalIndex,
    units: UnitStore,
    intents: IntentClassifier | None = None,
    restorer: AccentRestorer | None = None,
    unit_entities: SavedEntities | None = None,
) -> None:
    """Writes all files of one version into a (new) directory.

    Args:
        path: The version directory (created).
        manifest: Content of manifest.json.
        chunks: Chunks in store order.
        docs: Metadata of every indexed document.
        dense: The dense index.
        lexical: The lexical index.
        units: The answer units and their vectors.
        intents: The fitted intent classifier (None when intents.yaml is missing).
        restorer: The fitted accent restorer (None when restoration is off), saved so that
            an engine loads it instead of refitting (0.55 s at 10k chunks, measured).
        unit_entities: The entities of every unit, saved so that an engine reads them
            instead of finding them (see `index.unit_entities`).
    """
    path.mkdir(parents=True, exist_ok=False)
    with (path / CHUNKS_NAME).open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk_to_json(chunk), ensure_ascii=False) + "\n")
    docs_json = {doc.doc_id: doc.to_dict() for doc in docs}
    (path / DOCS_NAME).write_text(
        json.dumps(docs_json, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    dense.save(path / DENSE_NAME)
    lexical.save(path / LEXICAL_NAME)
    units.save(path)
    if intents is not None:
        intents.save(path)
    if restorer is not None:
        restorer.save(path / RESTORER_NAME)
    if unit_entities is not None:
        save_unit_entities(path / ENTITIES_NAME, unit_entities)
    manifest = {**manifest, FILES_KEY: file_checksums(path, skip=MANIFEST_NAME)}
    # The manifest goes last: a directory with a manifest is complete.
    (path / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )

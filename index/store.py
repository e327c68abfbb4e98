"""Versioned index directory: write a version, publish it atomically, load what is published.

Layout under `settings.index_dir`::

    current                      text file naming the published version (os.replace'd)
    .build.lock                  flock held by a running build
    versions/<YYYYmmddTHHMMSS-xxxx>/
        manifest.json            format, model, backend, dim, counts, per-document hashes,
                                 and the sha256 of every other file ("files")
        chunks.jsonl             one stored chunk per line
        docs.json                DocumentMeta per doc_id
        dense.faiss              DenseIndex, flat or IVF (manifest "dense_kind"; absent = flat)
        lexical/                 LexicalIndex (bm25s)
        units.jsonl, units.npy   answer units with folded tokens, and their vectors
        intents.joblib           the intent and scope classifier (manifest "intents")
        accents.json             the fitted accent restorer (absent: none, or an older build)
        unit_entities.json       entities of every answer unit (absent: an older build)

Readers only ever follow `current`, which is replaced in one `os.replace`, so they see the
old version or the new one, never half of a build (`index.index_versions`: names, the
pointer, pruning; `index.version_writer` writes a version's files). Every load checks the files against the
manifest's checksums, so a damaged disk or a stray edit is reported by file name instead of
serving wrong vectors or silently losing chunks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.accents import RESTORER_NAME, AccentRestorer
from index.dense import DenseIndex
from index.errors import IndexMismatchError, IndexNotFoundError, KhuyenCongError
from index.index_versions import (
    MANIFEST_NAME,
    POINTER_NAME,
    current_version,
    version_age,
    versions_root,
)
from index.integrity import damaged_files
from index.intents import IntentClassifier, IntentModelError
from index.lexical import LexicalIndex
from index.schema import Chunk, DocumentMeta
from index.settings import Settings
from index.unit_entities import (
    ENTITIES_NAME,
    SavedEntities,
    load_unit_entities,
)
from index.units import UnitStore

#: Bumped when the on-disk layout changes; an older index must be rebuilt.
#: 2: answer units and the intent classifier are stored with the index.
FORMAT_VERSION = 2
CHUNKS_NAME = "chunks.jsonl"
DOCS_NAME = "docs.json"
DENSE_NAME = "dense.faiss"
LEXICAL_NAME = "lexical"

#: Manifest key holding {relative path: sha256} of every file of the version but itself.
FILES_KEY = "files"

logger = logging.getLogger(__name__)

#: A chunk as stored in `chunks.jsonl` (with its `index_text`).
StoredChunk = Chunk

_REFIX = "run `python -m scripts reindex --full`"


class IndexCorruptError(KhuyenCongError):
    """The published index files are missing, unreadable or fail their checksums.

    Attributes:
        damaged: Names of the damaged files, relative to the version directory (empty when
            the damage is not tied to one file, e.g. inconsistent counts).
    """

    def __init__(self, message: str, *, damaged: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.damaged = damaged


@dataclass(slots=True)
class LoadedIndex:
    """One published index version, fully loaded in memory."""

    version: str
    path: Path
    manifest: dict[str, Any]
    chunks: dict[int, StoredChunk]
    docs: dict[str, DocumentMeta]
    dense: DenseIndex
    lexical: LexicalIndex
    units: UnitStore = field(default_factory=UnitStore.empty)
    intents: IntentClassifier | None = None
    #: The accent restorer the build fitted, or None (see `index.answer_build.fit_restorer`).
    restorer: AccentRestorer | None = None
    #: The entities of every unit the build found (None for a version without the file).
    unit_entities: SavedEntities | None = None


def chunk_from_json(data: dict[str, Any]) -> StoredChunk:
    """Reads a chunk written by `chunk_to_json`."""
    return Chunk(
        chunk_id=int(data["id"]),
        doc_id=str(data["doc_id"]),
        text=str(data["text"]),
        heading_path=tuple(data.get("heading_path", ())),
        ordinal=int(data.get("ordinal", 0)),
        index_text=str(data.get("index_text") or data["text"]),
        path=tuple(data.get("path", ())),
    )


def verify_version(path: Path) -> dict[str, Any]:
    """Reads a version's manifest and checks every file against its checksum.

    Args:
        path: The version directory.

    Returns:
        The manifest.

    Raises:
        IndexCorruptError: The manifest is unreadable or files are damaged; the message
            and `damaged` name them.
    """
    manifest = read_manifest(path)
    damaged = damaged_files(path, manifest.get(FILES_KEY))
    if damaged:
        raise IndexCorruptError(
            f"The index version {path.name} is damaged: {', '.join(damaged)} "
            f"missing or changed since the build: {_REFIX}.",
            damaged=tuple(damaged),
        )
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """Reads the manifest of a version directory.

    Args:
        path: The version directory.

    Returns:
        The manifest.

    Raises:
        IndexCorruptError: Missing or unreadable manifest.
    """
    try:
        data = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"The index manifest {path / MANIFEST_NAME} is missing or unreadable ({exc}): {_REFIX}."
        ) from exc
    if not isinstance(data, dict):
        raise IndexCorruptError(f"The index manifest {path / MANIFEST_NAME} is invalid: {_REFIX}.")
    return data


def current_manifest(settings: Settings) -> dict[str, Any] | None:
    """Returns the manifest of the published version, or None when there is none/unreadable."""
    version = current_version(settings)
    if version is None:
        return None
    try:
        return read_manifest(versions_root(settings) / version)
    except IndexCorruptError:
        return None


def vector_space(backend: str, quantization: str) -> str:
    """Names the vectors a backend computes: "float" for every unquantised one, else its own.

    Two settings with the same name give interchangeable vectors (see `vectors_compatible`);
    caches of vectors are keyed by it.
    """
    return "float" if quantization == "none" else f"{backend}-{quantization}"


def vectors_compatible(manifest: dict[str, Any], *, backend: str, quantization: str) -> bool:
    """Tells whether query vectors of a backend match the passage vectors of an index.

    Unquantised torch, ONNX and OpenVINO (f32) compute the same function: their vectors
    agree to cosine >= 0.99999 (tests/index/test_backends.py), so they share an index.
    An int8 model shifts vectors (cosine ~0.994), so it only matches an index built by the
    same int8 variant. Manifests from before backends existed were built with torch.

    Args:
        manifest: A version's manifest.
        backend: The configured backend.
        quantization: The configured quantisation.

    Returns:
        True when the index can be searched with that backend's query vectors.
    """
    built_backend = manifest.get("embedding_backend", "torch")
    built_quantization = manifest.get("embedding_quantization", "none")
    return vector_space(built_backend, built_quantization) == vector_space(backend, quantization)


def check_compatible(
    manifest: dict[str, Any],
    *,
    model_id: str,
    dim: int,
    backend: str = "torch",
    quantization: str = "none",
) -> None:
    """Checks that an index fits the configured embedding model and this code's format.

    Args:
        manifest: A version's manifest.
        model_id: The configured model id.
        dim: The configured model's dimension.
        backend: The configured embedding backend.
        quantization: The configured quantisation.

    Raises:
        IndexMismatchError: Format, model, dimension or vector precision differ; the
            message names the fix.
    """
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index has format version {manifest.get('format_version')} but this code "
            f"reads version {FORMAT_VERSION}: {_REFIX}."
        )
    if manifest.get("model_id") != model_id or manifest.get("dim") != dim:
        raise IndexMismatchError(
            f"The index was built with model {manifest.get('model_id')} "
            f"(dim {manifest.get('dim')}) but EMBEDDING_MODEL is {model_id} (dim {dim}): "
            f"{_REFIX}."
        )
    if not vectors_compatible(manifest, backend=backend, quantization=quantization):
        raise IndexMismatchError(
            "The index was built with EMBEDDING_BACKEND="
            f"{manifest.get('embedding_backend', 'torch')} / EMBEDDING_QUANTIZATION="
            f"{manifest.get('embedding_quantization', 'none')}, whose vectors differ from "
            f"{backend} / {quantization}: {_REFIX}."
        )


def load_version(path: Path, *, intents: bool = True) -> LoadedIndex:
    """Loads one version directory without checking the model.

    Args:
        path: The version directory.
        intents: Also load the intent classifier (a build reusing the vectors of a version
            refits it, so it need not load one saved by other code).

    Returns:
        The loaded index.

    Raises:
        IndexCorruptError: Files are missing, unreadable, fail their checksums or are
            inconsistent.
    """
    manifest = verify_version(path)
    try:
        chunks: dict[int, StoredChunk] = {}
        with (path / CHUNKS_NAME).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    chunk = chunk_from_json(json.loads(line))
                    chunks[chunk.chunk_id] = chunk
        docs_raw = json.loads((path / DOCS_NAME).read_text(encoding="utf-8"))
        docs = {doc_id: DocumentMeta.from_dict(values) for doc_id, values in docs_raw.items()}
        dense = DenseIndex.load(path / DENSE_NAME)
        lexical = LexicalIndex.load(path / LEXICAL_NAME)
        units = UnitStore.load(path)
        classifier = (
            IntentClassifier.load(path, manifest["intents"])
            if intents and manifest.get("intents")
            else None
        )
        restorer_file = path / RESTORER_NAME
        restorer = AccentRestorer.load(restorer_file) if restorer_file.is_file() else None
        entities_file = path / ENTITIES_NAME
        entities = load_unit_entities(entities_file) if entities_file.is_file() else None
    except IntentModelError as exc:
        raise IndexMismatchError(str(exc)) from exc
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"The index in {path} is damaged ({exc}): {_REFIX}.") from exc
    if manifest.get("unit_count") != len(units):
        raise IndexCorruptError(
            f"The index in {path} should hold {manifest.get('unit_count')} answer units but "
            f"has {len(units)}: {_REFIX}."
        )
    expected = manifest.get("chunk_count")
    if not (len(chunks) == dense.ntotal == len(lexical) == expected):
        raise IndexCorruptError(
            f"The index in {path} is inconsistent (manifest {expected} chunks, store "
            f"{len(chunks)}, dense {dense.ntotal}, lexical {len(lexical)}): {_REFIX}."
        )
    # Versions written before IVF support have no "dense_kind": their index is flat.
    if manifest.get("dense_kind", "flat") != dense.kind:
        raise IndexCorruptError(
            f"The index in {path} should hold a {manifest.get('dense_kind')} dense index but "
            f"dense.faiss is {dense.kind}: {_REFIX}."
        )
    if manifest.get("doc_count") != len(docs):
        raise IndexCorruptError(f"The index in {path} lists {len(docs)} documents: {_REFIX}.")
    return LoadedIndex(
        version=path.name,
        path=path,
        manifest=manifest,
        chunks=chunks,
        docs=docs,
        dense=dense,
        lexical=lexical,
        units=units,
        intents=classifier,
        restorer=restorer,
        unit_entities=entities,
    )


def load_published(
    settings: Settings,
    *,
    model_id: str,
    dim: int,
    fallback: bool = True,
) -> LoadedIndex:
    """Loads the published index and checks it fits the configured model.

    A current version that fails its checksums is reported by name in the log; with
    `fallback` the newest older version that verifies and fits the model is served instead
    (`reindex --if-needed` then rebuilds, as `index_status` says "corrupt").

    Args:
        settings: Gives `index_dir` and the embedding backend and quantisation.
        model_id: The configured model id (`index.embedding.model_id(settings)`).
        dim: The loaded model's dimension.
        fallback: Serve the previous good version when the current one is damaged. A
            running engine reloads with False: it keeps what it serves rather than switch
            to a damaged or an older version.

    Returns:
        The loaded index.

    Raises:
        IndexNotFoundError: Nothing is published yet.
        IndexMismatchError: Built with another model, dimension, precision or format.
        IndexCorruptError: The published files are missing or damaged (and, with
            `fallback`, no older version is usable).
    """
    version = current_version(settings)
    if version is None:
        raise IndexNotFoundError(settings.index_dir)
    path = versions_root(settings) / version
    compatible: dict[str, Any] = {
        "model_id": model_id,
        "dim": dim,
        "backend": settings.embedding_backend,
        "quantization": settings.embedding_quantization,
    }
    try:
        if not path.is_dir():
            raise IndexCorruptError(
                f"The index pointer {settings.index_dir / POINTER_NAME} names version "
                f"{version}, which does not exist: {_REFIX}."
            )
        check_compatible(read_manifest(path), **compatible)
        return load_version(path)
    except IndexCorruptError as exc:
        if not fallback:
            raise
        previous = _previous_good(settings, exclude=version, compatible=compatible)
        if previous is None:
            raise
        logger.error("%s Serving the previous good version %s meanwhile.", exc, previous.version)
        return previous


def _previous_good(
    settings: Settings, *, exclude: str, compatible: dict[str, Any]
) -> LoadedIndex | None:
    root = versions_root(settings)
    if not root.is_dir():
        return None
    for path in sorted(root.iterdir(), key=version_age, reverse=True):
        if path.name == exclude or not path.is_dir():
            continue
        try:
            check_compatible(read_manifest(path), **compatible)
            return load_version(path)
        except KhuyenCongError:
            continue
    return None

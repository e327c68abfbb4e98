"""Passage vectors of test index builds, cached on disk by a content hash of the encoder.

Many tests build a small index with the session's ONNX encoder to check what a build
does (a manifest, a console that builds first, an upload, the benchmark's keys), not
what the model computes; embedding the same guides again was ~40 CPU-s of a run. The
encoder is deterministic, so each text's vector is kept under a key of everything that
makes it: the exported model (the export's own fingerprint), the runtime file, the
encoder's source and the runtime's versions. Tests marked `real_embedding` (and every
build with another model) embed for real.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_VECTORS = REPO_ROOT / "data" / "test-cache" / "build-vectors"
#: The sources a passage vector depends on: the encoder, the loader and the build's batching.
_SOURCES = ("index/onnx_encoder.py", "index/embedding.py", "index/build.py")
_PACKAGES = ("onnxruntime", "tokenizers", "numpy")

Embed = Callable[[Any, list[str], int, Any], np.ndarray]


def encoder_key(model: Any) -> str:
    """A hash of what decides an `OnnxEncoder`'s passage vectors."""
    from index.backend_export import source_fingerprint

    digest = hashlib.sha256()
    digest.update(f"{model.path.name}|{model.file_name}|".encode())
    digest.update(source_fingerprint(model.path).encode())
    runtime = model.path / model.file_name
    digest.update(f"|{runtime.stat().st_size}".encode())
    for package in _PACKAGES:
        digest.update(f"|{package}={version(package)}".encode())
    for source in _SOURCES:
        digest.update(source.encode() + b"\0" + (REPO_ROOT / source).read_bytes())
    return digest.hexdigest()[:20]


class VectorStore:
    """The vectors of one encoder key: shards written atomically, read once per process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.vectors: dict[str, np.ndarray] = {}
        self._read: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        """Reads the shards published since the last read (by other workers, too)."""
        for shard in sorted(self.directory.glob("*.npz")):
            if shard.name in self._read:
                continue
            self._read.add(shard.name)
            try:
                with np.load(shard, allow_pickle=False) as data:
                    self.vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError):  # a torn or foreign shard: embed again
                continue

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        self.vectors.update(zip(keys, vectors, strict=True))
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        staging = self.directory / f".{name}"
        with staging.open("wb") as out:  # workers may race: each writes its own shard
            np.savez(out, keys=np.asarray(keys), vectors=vectors)
        os.replace(staging, self.directory / name)
        self._read.add(name)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_build_embed(embed: Embed, root: Path = BUILD_VECTORS) -> Embed:
    """`index.answer_build.embed_in_batches` with the passage vectors of ONNX encoders cached under `root`.

    A miss embeds the missing texts with the real `embed` (in one call, so sorted and
    batched as a build does) and publishes them; progress is reported at 0 and at the end.
    """
    from index.onnx_encoder import OnnxEncoder

    stores: dict[tuple[str, str], VectorStore] = {}

    def store_of(model: OnnxEncoder) -> VectorStore:
        ident = (str(model.path), model.file_name)
        if ident not in stores:
            # One entry per exported model and runtime file; its older keys are dropped.
            name = f"{model.path.name}-{model.file_name.replace('/', '_')}"
            stores[ident] = VectorStore(root / f"{name}-{encoder_key(model)}")
            for old in root.glob(f"{name}-*"):
                if old != stores[ident].directory:
                    shutil.rmtree(old, ignore_errors=True)
        return stores[ident]

    def cached(model: Any, texts: list[str], batch_size: int, progress: Any) -> np.ndarray:
        if not isinstance(model, OnnxEncoder) or not texts:
            return embed(model, texts, batch_size, progress)
        store = store_of(model)
        keys = [_text_key(t) for t in texts]
        if progress is not None:
            progress(0, len(texts), "embedding")
        missing = list(dict.fromkeys(k for k in keys if k not in store.vectors))
        if missing:
            store.refresh()  # another worker may have embedded them since
            missing = [k for k in missing if k not in store.vectors]
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = embed(model, [by_key[k] for k in missing], batch_size, None)
            store.add(missing, np.asarray(fresh, dtype=np.float32))
        if progress is not None:
            progress(len(texts), len(texts), "embedding")
        return np.vstack([store.vectors[k] for k in keys]).astype(np.float32)

    return cached

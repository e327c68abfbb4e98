"""The engine: refusals, citations, hot reload during traffic, and a broken new index."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.schema import Answer

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.engine import Engine
    from index.settings import Settings

pytestmark = pytest.mark.slow

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SEED_DOCS = [
    "articles/quang-nam-qd-2665-chuong-trinh-khuyen-cong-2021-2025.md",
    "articles/hoi-nghi-khuyen-cong-vinh-long-2016.md",
]
NEW_DOC = """---
title: "Hỗ trợ làng nghề gốm Bàu Trúc"
doc_type: news
number: 99/QĐ-TEST
issued: 2025-01-02
url: https://example.gov.vn/bau-truc
---

# Hỗ trợ làng nghề gốm Bàu Trúc

Làng nghề gốm Bàu Trúc được hỗ trợ xây dựng lò nung gốm tiết kiệm năng lượng từ kinh phí
khuyến công địa phương. Mỗi cơ sở gốm tham gia được hỗ trợ tối đa 40 triệu đồng.
"""
NEW_QUESTION = "Làng nghề gốm Bàu Trúc được hỗ trợ lò nung gốm như thế nào?"


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("", "empty"),
        ("    \n\t  ", "empty"),
        ("😀🙏🎉", "empty"),
        ("?!?! ... ---", "empty"),
        ("khuyến công " * 1_000, "too_long"),
        ("a" * 12_000, "too_long"),
    ],
)
def test_unusable_questions_never_raise(engine: Engine, question: str, reason: str) -> None:
    answer = engine.answer(question)
    assert isinstance(answer, Answer)
    # The core returns a code; bot/texts/ words it for every adapter.
    assert (answer.outcome, answer.reason, answer.text, answer.confident) == (
        "invalid", reason, "", False,
    )  # fmt: skip
    assert answer.passages == [] and answer.citations == []


def test_control_characters_are_ignored(engine: Engine) -> None:
    clean = engine.answer("Nghị định nào quy định đối tượng được hỗ trợ khuyến công?")
    dirty = engine.answer("Nghị định nào\x00 quy định\u200b đối tượng được hỗ trợ khuyến công?\x07")
    assert dirty.chunk_ids == clean.chunk_ids and dirty.text == clean.text
    assert dirty.latency_ms > 0


def test_answer_cites_title_and_number(engine: Engine) -> None:
    answer = engine.answer("Quyết định phê duyệt chương trình khuyến công tỉnh Quảng Nam 2021-2025")
    assert answer.confident
    numbers = {c.number for c in answer.citations}
    assert "2665/QĐ-UBND" in numbers
    assert all(c.title for c in answer.citations)
    assert len({c.doc_id for c in answer.citations}) == len(answer.citations)


def test_search_and_sources(engine: Engine) -> None:
    passages = engine.search("hội chợ triển lãm", k=3, mode="bm25")
    assert 0 < len(passages) <= 3
    assert engine.search("   ") == []
    sources = engine.sources()
    assert sources and len({d.doc_id for d in sources}) == len(sources)
    assert engine.manifest.get("chunk_count", 0) > 0


def test_bm25_mode_answers_with_the_same_units_as_hybrid(engine: Engine) -> None:
    # BM25-only retrieval skips the dense search, but units are still picked by the
    # question embedding: without it the answer body was empty or the wrong unit.
    # Before the fix this was refused.
    question = "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?"
    hybrid = engine.answer(question)
    lexical = engine.answer(question, mode="bm25")
    assert hybrid.outcome == lexical.outcome == "answered"
    assert lexical.text and set(lexical.chunk_ids) & set(hybrid.chunk_ids)


@pytest.fixture(scope="module")
def small_kb_built(
    tmp_path_factory: pytest.TempPathFactory,
    model_cache_dir: Path,
    embedding_model: SentenceTransformer,
) -> Path:
    """A two-document knowledge base with its index, built once for this module."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("small-kb")
    for rel in SEED_DOCS:
        target = root / "knowledge" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_KNOWLEDGE / rel, target)
    from index.settings import Settings

    settings = Settings(
        data_dir=root / "data", knowledge_dir=root / "knowledge", MODEL_DIR=model_cache_dir
    )
    build_index(settings, model=embedding_model)
    return root


@pytest.fixture
def small_kb(
    make_settings: Callable[..., Settings], tmp_path: Path, small_kb_built: Path
) -> Settings:
    """This test's own copy of the two-document knowledge base and its index."""
    shutil.copytree(small_kb_built / "knowledge", tmp_path / "knowledge")
    shutil.copytree(small_kb_built / "data", tmp_path / "data")
    return make_settings(knowledge_dir=tmp_path / "knowledge")


def _load(settings: Settings, model: SentenceTransformer) -> Engine:
    from index.engine import load_engine

    return load_engine(settings, model=model)


def _new_doc_found(engine: Engine) -> bool:
    return any("Bàu Trúc" in p.chunk.text for p in engine.search(NEW_QUESTION, k=3))


def test_engine_loads_the_built_restorer_without_refitting(
    small_kb: Settings, embedding_model: SentenceTransformer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index import answer_build
    from index.accents import RESTORER_NAME, AccentRestorer
    from index.index_versions import current_version, versions_root

    version = current_version(small_kb)
    assert version is not None
    assert (versions_root(small_kb) / version / RESTORER_NAME).is_file()
    fresh = answer_build.fit_restorer(_chunk_texts(small_kb), small_kb)
    assert fresh is not None

    def no_fit(*_: object, **__: object) -> AccentRestorer:
        raise AssertionError("the engine refitted the accent restorer")

    monkeypatch.setattr(AccentRestorer, "fit", no_fit)
    engine = _load(small_kb, embedding_model)
    # Evaluation's variants share the answer models; one without restoration has none.
    assert engine.with_overrides(fusion="rrf")._snapshot.models is engine._snapshot.models
    assert engine.with_overrides(restore_diacritics=False)._snapshot.models.restorer is None
    restorer = engine._snapshot.models.restorer
    assert restorer is not None
    for typed in ("ho tro may moc", "lang nghe gom bau truc", "co so o ha noi"):
        assert restorer.restore(typed) == fresh.restore(typed)


def test_index_without_a_saved_restorer_fits_one(
    small_kb: Settings, embedding_model: SentenceTransformer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.accents import RESTORER_NAME, AccentRestorer
    from index.index_versions import current_version, versions_root

    version = current_version(small_kb)
    assert version is not None
    path = versions_root(small_kb) / version / RESTORER_NAME
    path.unlink()
    # An older version has no file and no checksum for it: drop both, as it was written.
    manifest_path = path.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["files"][RESTORER_NAME]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    fits: list[object] = []
    fit = AccentRestorer.fit
    monkeypatch.setattr(AccentRestorer, "fit", lambda *a, **k: fits.append(a) or fit(*a, **k))
    engine = _load(small_kb, embedding_model)
    restorer = engine._snapshot.models.restorer
    assert fits and restorer is not None
    assert restorer.restore("ho tro may moc") == "hỗ trợ máy móc"


def test_engine_reads_the_unit_entities_the_build_found(
    small_kb: Settings, embedding_model: SentenceTransformer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.answering import AnswerModels
    from index.index_versions import current_version, versions_root
    from index.lexicon import Lexicon, load_lexicon
    from index.unit_entities import ENTITIES_NAME, entity_text

    version = current_version(small_kb)
    assert version is not None
    assert (versions_root(small_kb) / version / ENTITIES_NAME).is_file()
    lexicon = load_lexicon(small_kb.knowledge_dir)
    finds: list[str] = []
    find = Lexicon.find
    monkeypatch.setattr(Lexicon, "find", lambda self, text: finds.append(text) or find(self, text))

    engine = _load(small_kb, embedding_model)

    models: AnswerModels = engine._snapshot.models
    units = models.units.units
    assert units and not set(finds) & {entity_text(u) for u in units}
    # What was saved is what finding them now gives.
    for row in (0, len(units) // 2, len(units) - 1):
        assert models.unit_entities(row) == lexicon.find(entity_text(units[row]))
    assert any(models.unit_entities(row).mentions for row in range(len(units)))


def test_unit_entities_are_found_again_for_an_older_index_or_other_names(
    small_kb: Settings, embedding_model: SentenceTransformer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index import engine as engine_module
    from index.index_versions import current_version, versions_root
    from index.lexicon import Lexicon, load_lexicon
    from index.unit_entities import ENTITIES_NAME, entity_text

    version = current_version(small_kb)
    assert version is not None
    path = versions_root(small_kb) / version / ENTITIES_NAME
    finds: list[str] = []
    find = Lexicon.find
    monkeypatch.setattr(Lexicon, "find", lambda self, text: finds.append(text) or find(self, text))
    # Another support item in entities.yaml (after the build): the saved ones do not hold.
    lexicon = load_lexicon(small_kb.knowledge_dir)
    lexicon.items.insert(0, ("lo say che", "lo_say"))
    monkeypatch.setattr(engine_module, "load_lexicon", lambda _: lexicon)
    engine = _load(small_kb, embedding_model)
    units = engine._snapshot.models.units.units
    assert {entity_text(u) for u in units} <= set(finds)

    # An index written before the file existed: no file, no checksum for it.
    path.unlink()
    manifest_path = path.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["files"][ENTITIES_NAME]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(engine_module, "load_lexicon", load_lexicon)
    finds.clear()
    older = _load(small_kb, embedding_model)
    models = older._snapshot.models
    assert {entity_text(u) for u in units} <= set(finds)
    assert models.unit_entities(0) == find(load_lexicon(small_kb.knowledge_dir), entity_text(units[0]))


def _chunk_texts(settings: Settings) -> list[str]:
    from index.store import load_published

    index = load_published(settings, model_id=settings.embedding_model, dim=384)
    return [chunk.text for chunk in index.chunks.values()]


def test_reload_swaps_to_a_new_version(
    small_kb: Settings, embedding_model: SentenceTransformer
) -> None:
    from index.build import build_index

    engine = _load(small_kb, embedding_model)
    old_version = engine.version
    assert engine.reload_if_changed() is False  # nothing changed yet
    assert not _new_doc_found(engine)

    (small_kb.knowledge_dir / "articles" / "bau-truc.md").write_text(NEW_DOC, encoding="utf-8")
    build_index(small_kb, model=embedding_model)
    assert engine.reload_if_changed() is True
    assert engine.version != old_version
    assert _new_doc_found(engine)
    answer = engine.answer(NEW_QUESTION)
    assert answer.confident and "Bàu Trúc" in answer.text
    assert any(c.number == "99/QĐ-TEST" for c in answer.citations)
    assert engine.reload_if_changed() is False


@pytest.mark.real_embedding
def test_reindex_during_a_stream_of_questions(
    small_kb: Settings, embedding_model: SentenceTransformer
) -> None:
    from index.build import build_index

    engine = _load(small_kb, embedding_model)
    questions = [
        "Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?",
        "Hội nghị khuyến công Vĩnh Long năm 2016",
        NEW_QUESTION,
        "",
    ]
    stop = threading.Event()
    errors: list[BaseException] = []
    answers: list[Answer] = []

    def ask() -> None:
        i = 0
        while not stop.is_set():
            try:
                answers.append(engine.answer(questions[i % len(questions)]))
            except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)
            i += 1

    workers = [threading.Thread(target=ask) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        (small_kb.knowledge_dir / "articles" / "bau-truc.md").write_text(NEW_DOC, encoding="utf-8")
        build_index(small_kb, model=embedding_model)
        assert engine.reload_if_changed() is True
        engine.answer(questions[0])  # at least one answer after the swap
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert errors == []
    # Every answer is whole: text for what was answered, an outcome code for the rest.
    assert answers and all(
        a.text if a.outcome in ("answered", "unknown") else a.reason for a in answers
    )
    assert _new_doc_found(engine)


def test_broken_new_version_keeps_the_old_index(
    small_kb: Settings, embedding_model: SentenceTransformer, caplog: pytest.LogCaptureFixture
) -> None:
    from index.build import build_index
    from index.index_versions import current_version, versions_root

    engine = _load(small_kb, embedding_model)
    old_version = engine.version
    before = engine.answer("Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?")

    (small_kb.knowledge_dir / "articles" / "bau-truc.md").write_text(NEW_DOC, encoding="utf-8")
    build_index(small_kb, model=embedding_model)
    new_version = current_version(small_kb)
    assert new_version and new_version != old_version
    dense = versions_root(small_kb) / new_version / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[:100])  # truncated, as after a full disk

    with caplog.at_level(logging.ERROR, logger="index.engine"):
        assert engine.reload_if_changed() is False
    assert new_version in caplog.text
    assert engine.version == old_version
    after = engine.answer("Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?")
    assert after.chunk_ids == before.chunk_ids and after.text == before.text
    assert not _new_doc_found(engine)

"""Tests for index.lexical.LexicalIndex (BM25 over Vietnamese syllables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexical import LexicalIndex

TEXTS = {
    101: "Quyết định số 2665/QĐ-UBND phê duyệt Chương trình khuyến công tỉnh Quảng Nam",
    202: "Nghị định 45/2012/NĐ-CP quy định về khuyến công",
    303: "Hỗ trợ cơ sở công nghiệp nông thôn đầu tư máy móc thiết bị",
    404: "Chỉ thị 04/CT-BCT đẩy mạnh hoạt động khuyến công giai đoạn 2021-2025",
}


@pytest.fixture
def index() -> LexicalIndex:
    lexical = LexicalIndex()
    lexical.build(list(TEXTS), list(TEXTS.values()))
    return lexical


def test_accentless_query_finds_accented_text(index: LexicalIndex) -> None:
    hits = index.search("ho tro co so cong nghiep nong thon may moc", k=2)
    assert hits[0][0] == 303


def test_legal_number_short_forms_match(index: LexicalIndex) -> None:
    assert index.search("qd 2665", k=3)[0][0] == 101
    assert index.search("nđ 45", k=3)[0][0] == 202
    assert index.search("chi thi 4", k=3)[0][0] == 404


def test_scores_positive_and_sorted(index: LexicalIndex) -> None:
    hits = index.search("khuyến", k=10)
    assert {i for i, _ in hits} == {101, 202, 404}  # 303 has no "khuyến"
    scores = [s for _, s in hits]
    assert all(s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_unknown_or_empty_query_returns_nothing(index: LexicalIndex) -> None:
    assert index.search("xyzzy plugh", k=5) == []
    assert index.search("", k=5) == []
    assert index.search("là của và", k=5) == []  # stopwords only


def test_k_limits_results(index: LexicalIndex) -> None:
    assert len(index.search("khuyến công", k=1)) == 1


def test_empty_index_searches_empty() -> None:
    lexical = LexicalIndex()
    lexical.build([], [])
    assert lexical.search("khuyến công", k=5) == []


def test_save_and_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert len(loaded) == 4
    assert loaded.search("qd 2665", k=3) == index.search("qd 2665", k=3)


def test_bigrams_setting_survives_save(tmp_path: Path) -> None:
    lexical = LexicalIndex(bigrams=True)
    lexical.build(list(TEXTS), list(TEXTS.values()))
    lexical.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded.bigrams
    assert loaded.search("khuyen cong", k=1) == lexical.search("khuyen cong", k=1)


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError):
        LexicalIndex().build([1, 2], ["một"])

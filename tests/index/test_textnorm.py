"""Tests for index.textnorm: folding, legal-number canonical tokens, BM25 tokens."""

from __future__ import annotations

import unicodedata

import pytest

from index.textnorm import (
    STOPWORDS,
    bm25_tokens,
    compare_key,
    fold_diacritics,
    fold_key,
    fold_same_length,
    fold_words,
    legal_number_tokens,
    legal_reference_spans,
    nfc,
    normalize_legal_numbers,
    syllables,
)


def test_fold_diacritics_removes_marks_and_d_stroke() -> None:
    assert fold_diacritics("Quyết định Đà Nẵng đồng") == "Quyet dinh Da Nang dong"
    assert fold_diacritics("khuyến công") == "khuyen cong"


def test_nfc_makes_decomposed_equal_to_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nghị định")
    assert decomposed != "Nghị định"
    assert nfc(decomposed) == "Nghị định"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nđ 45", "nd45"),
        ("Nghị định 45/2012/NĐ-CP", "nd45"),
        ("45/2012/ND-CP", "nd45"),
        ("NĐ-CP 45", "nd45"),
        ("nghi dinh so 45", "nd45"),
        ("qd 2665", "qd2665"),
        ("Quyết định số 2665/QĐ-UBND", "qd2665"),
        ("2665/QD-UBND", "qd2665"),
        ("quyet dinh 2665", "qd2665"),
        ("TT 28/2018/TT-BTC", "tt28"),
        ("thông tư 28", "tt28"),
        ("ct 04", "ct4"),
        ("Chỉ thị 04/CT-BCT", "ct4"),
        ("chỉ thị số 4", "ct4"),
        ("NQ 23/2025/NQ-HĐND", "nq23"),
        ("nghị quyết 23", "nq23"),
        # English names of the kinds (English questions on the legal index, issue 8).
        ("Circular 36/2013", "tt36"),
        ("Decree 45/2012", "nd45"),
        ("Joint Circular 26/2014", "ttlt26"),
        ("Decision No. 29/2014/QĐ-UBND", "qd29"),
        ("Resolution 38/2020", "nq38"),
        ("Directive 04", "ct4"),
    ],
)
def test_legal_number_forms_share_one_canonical_token(text: str, expected: str) -> None:
    assert expected in legal_number_tokens(text)
    assert expected in bm25_tokens(text)


def test_an_english_joint_circular_is_not_a_circular() -> None:
    assert legal_number_tokens("Joint Circular 26/2014") == ["ttlt26", "ttlt26_2014"]


def test_year_variant_only_when_year_written() -> None:
    assert legal_number_tokens("Nghị định 45/2012/NĐ-CP") == ["nd45", "nd45_2012"]
    assert legal_number_tokens("nđ 45") == ["nd45"]


def test_reference_matched_by_both_patterns_is_counted_once() -> None:
    assert legal_number_tokens("Quyết định số 2665/QĐ-UBND ngày 16/8/2016") == ["qd2665"]


def test_dates_and_ranges_are_not_legal_numbers() -> None:
    assert legal_number_tokens("ngày 16/8/2016, giai đoạn 2021-2025, 1.000 cơ sở") == []


def test_normalize_legal_numbers_appends_tokens() -> None:
    assert normalize_legal_numbers("theo qd 2665").endswith("qd2665")
    assert normalize_legal_numbers("không có số hiệu") == "không có số hiệu"


def test_syllables_split_ranges_and_punctuation() -> None:
    assert syllables("Giai đoạn 2021-2025, (tỉnh)") == ["giai", "đoạn", "2021", "2025", "tỉnh"]


def test_bm25_tokens_add_folded_form_and_drop_stopwords() -> None:
    tokens = bm25_tokens("Hỗ trợ của khuyến công")
    assert "hỗ" in tokens and "ho" in tokens
    assert "khuyến" in tokens and "khuyen" in tokens
    assert "của" not in tokens and "cua" not in tokens
    assert "của" in STOPWORDS


def test_accentless_query_tokens_overlap_accented_text() -> None:
    doc = set(bm25_tokens("Chương trình khuyến công quốc gia"))
    query = bm25_tokens("chuong trinh khuyen cong quoc gia")
    assert set(query) <= doc


def test_nfc_and_nfd_give_equal_tokens() -> None:
    text = "Quyết định số 2665/QĐ-UBND về khuyến công"
    assert bm25_tokens(unicodedata.normalize("NFD", text)) == bm25_tokens(text)


def test_bigrams_are_folded_and_skip_stopwords() -> None:
    tokens = bm25_tokens("khuyến công của tỉnh", bigrams=True)
    assert "khuyen_cong" in tokens
    assert "cong_tinh" not in tokens  # "của" sits between them
    assert "khuyen_cong" not in bm25_tokens("khuyến công")


def test_compare_key_keeps_accents_and_ignores_form_case_and_spacing() -> None:
    nfd = unicodedata.normalize("NFD", "Vay  Vốn ")
    assert compare_key(nfd) == compare_key("vay vốn") == "vay vốn"
    assert compare_key("mấy") != compare_key("máy")


def test_fold_key_drops_accents_but_keeps_punctuation() -> None:
    assert fold_key("  Đồng   Tháp ") == "dong thap"
    assert fold_key("THỪA THIÊN HUẾ") == fold_key("thua thien hue")
    assert fold_key("Bà Rịa - Vũng Tàu") == "ba ria - vung tau"


def test_fold_words_treats_punctuation_as_a_separator() -> None:
    assert fold_words("Đã liên hệ") == fold_words("da_lien_he") == "da lien he"
    assert fold_words("ĐÃ LIÊN-HỆ") == "da lien he"
    assert fold_words("Bà Rịa - Vũng Tàu") == "ba ria vung tau"
    assert fold_words("TP.HCM") == "tp hcm"
    assert fold_words("  ") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nghị định 45/2012/NĐ-CP có hiệu lực không?", ["Nghị định 45/2012/NĐ-CP"]),
        ("theo 2665/QĐ-UBND của tỉnh", ["2665/QĐ-UBND"]),
        ("NĐ 45 và TT 28/2018/TT-BTC", ["NĐ 45", "TT 28/2018/TT-BTC"]),
        ("năm 2021 có 45 đề án", []),
    ],
)
def test_legal_reference_spans_cut_whole_references(text: str, expected: list[str]) -> None:
    folded = fold_same_length(text).lower()

    assert [text[a:b] for a, b in legal_reference_spans(folded)] == expected

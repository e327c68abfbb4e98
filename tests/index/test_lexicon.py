"""Chat abbreviations, provinces with the 2025 merges, support items, not-found markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexicon import load_lexicon
from index.textnorm import expand_abbreviations, fold_same_length

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
LEXICON = load_lexicon(KNOWLEDGE)


@pytest.mark.parametrize(
    ("typed", "expanded"),
    [
        ("cty minh dc ho tro ko", "cong ty minh duoc ho tro khong"),
        ("Hộ kinh doanh có dc hỗ trợ ko ad", "Hộ kinh doanh có được hỗ trợ không anh chị"),
        ("muc ho tro bn", "muc ho tro bao nhieu"),
        ("Chỉ thị 04/CT-BCT có dc áp dụng không", "Chỉ thị 04/CT-BCT có được áp dụng không"),
    ],
)
def test_abbreviations_are_expanded_from_the_data_file(typed: str, expanded: str) -> None:
    assert LEXICON.expand(typed).casefold() == expanded.casefold()


def test_expansion_keeps_unaccented_text_unaccented() -> None:
    assert expand_abbreviations("ko dc", {"ko": "không", "dc": "được"}) == "khong duoc"


def test_old_province_names_belong_to_their_new_province() -> None:
    found = LEXICON.find("còn Đắk Nông thì sao?").first("province")
    assert found is not None and found.key == "Đắk Nông" and found.parent == "Lâm Đồng"
    merged = LEXICON.find("quang nam")
    assert merged.keys("province") == {"Quảng Nam"} and merged.parents() == {"Đà Nẵng"}
    assert len({parent for _, _, parent in LEXICON.provinces}) == 34


def test_support_items_are_matched_longest_first() -> None:
    found = LEXICON.find("hỗ trợ tham gia hội chợ triển lãm ở nước ngoài")
    assert found.keys("item") == {"hoi_cho_nuoc_ngoai"}
    assert LEXICON.find("thế còn máy đóng gói?").keys("item") == {"may_moc_thiet_bi"}
    assert LEXICON.find("Nghị định 45/2012/NĐ-CP năm 2021").keys("doc") == {"nd45"}


def test_items_without_a_known_level_come_from_criteria_yaml() -> None:
    assert {"nhan_hieu_thuong_hieu", "dao_tao_nghe"} <= LEXICON.unknown_items
    assert "may_moc_thiet_bi" not in LEXICON.unknown_items
    assert LEXICON.says_not_found("Mức hỗ trợ tư vấn: chưa tìm được, hỏi Trung tâm.")
    assert not LEXICON.says_not_found("Tối đa 50% chi phí.")


def test_a_period_names_every_year_in_it() -> None:
    years = LEXICON.find("Kết quả giai đoạn 2016–2020 của tỉnh").keys("year")
    assert years == frozenset({"2016", "2017", "2018", "2019", "2020"})
    assert "2021" not in LEXICON.find("Chương trình 2016-2020").keys("year")


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đà Nẵng", "da nang"),
        # Decomposed accents are composed first, so offsets fit the NFC text.
        ("Quy\u0301 Nho\u031bn", "quy nhon"),
        ("Khuyến công 2025 — ĐỀ ÁN", "khuyen cong 2025 — de an"),
        # A letter whose lower case is two characters still folds to one.
        ("İ", "i"),
    ],
)
def test_fold_same_length_keeps_one_character_per_character(text: str, folded: str) -> None:
    assert fold_same_length(text) == folded
    assert fold_same_length(text) == fold_same_length(text)  # the table, once filled

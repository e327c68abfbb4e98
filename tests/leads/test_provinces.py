"""The one province list: 34 units since 2025 (Nghị quyết 202/2025/QH15); old names still match."""

from __future__ import annotations

import pytest

from index.leads.provinces import (
    load_provinces,
    province_by_id,
    province_key,
    resolve_province,
)
from index.textnorm import fold_words

#: The 63 provincial units before 1 July 2025, and the one each belongs to now. Written out
#: here, independently of provinces.yaml, from the resolution's list of mergers.
BEFORE_2025 = {
    "Hà Nội": "ha_noi", "Thừa Thiên Huế": "hue", "Lai Châu": "lai_chau",
    "Điện Biên": "dien_bien", "Sơn La": "son_la", "Lạng Sơn": "lang_son",
    "Quảng Ninh": "quang_ninh", "Thanh Hóa": "thanh_hoa", "Nghệ An": "nghe_an",
    "Hà Tĩnh": "ha_tinh", "Cao Bằng": "cao_bang",
    "Tuyên Quang": "tuyen_quang", "Hà Giang": "tuyen_quang",
    "Lào Cai": "lao_cai", "Yên Bái": "lao_cai",
    "Thái Nguyên": "thai_nguyen", "Bắc Kạn": "thai_nguyen",
    "Phú Thọ": "phu_tho", "Vĩnh Phúc": "phu_tho", "Hòa Bình": "phu_tho",
    "Bắc Ninh": "bac_ninh", "Bắc Giang": "bac_ninh",
    "Hưng Yên": "hung_yen", "Thái Bình": "hung_yen",
    "Hải Phòng": "hai_phong", "Hải Dương": "hai_phong",
    "Ninh Bình": "ninh_binh", "Hà Nam": "ninh_binh", "Nam Định": "ninh_binh",
    "Quảng Trị": "quang_tri", "Quảng Bình": "quang_tri",
    "Đà Nẵng": "da_nang", "Quảng Nam": "da_nang",
    "Quảng Ngãi": "quang_ngai", "Kon Tum": "quang_ngai",
    "Gia Lai": "gia_lai", "Bình Định": "gia_lai",
    "Khánh Hòa": "khanh_hoa", "Ninh Thuận": "khanh_hoa",
    "Lâm Đồng": "lam_dong", "Đắk Nông": "lam_dong", "Bình Thuận": "lam_dong",
    "Đắk Lắk": "dak_lak", "Phú Yên": "dak_lak",
    "Hồ Chí Minh": "ho_chi_minh", "Bình Dương": "ho_chi_minh",
    "Bà Rịa - Vũng Tàu": "ho_chi_minh",
    "Đồng Nai": "dong_nai", "Bình Phước": "dong_nai",
    "Tây Ninh": "tay_ninh", "Long An": "tay_ninh",
    "Cần Thơ": "can_tho", "Sóc Trăng": "can_tho", "Hậu Giang": "can_tho",
    "Vĩnh Long": "vinh_long", "Bến Tre": "vinh_long", "Trà Vinh": "vinh_long",
    "Đồng Tháp": "dong_thap", "Tiền Giang": "dong_thap",
    "Cà Mau": "ca_mau", "Bạc Liêu": "ca_mau",
    "An Giang": "an_giang", "Kiên Giang": "an_giang",
}  # fmt: skip


def test_the_list_has_the_34_units_of_the_2025_reorganisation() -> None:
    provinces = load_provinces()
    assert len(provinces) == 34
    assert sum(p.kind == "city" for p in provinces) == 6
    assert len({p.id for p in provinces}) == 34 and len({p.code for p in provinces}) == 34
    # Every id is the folded current name, so an id typed or sent back in a button resolves.
    for province in provinces:
        assert resolve_province(province.id).province == province
    assert len(BEFORE_2025) == 63 and len(set(BEFORE_2025.values())) == 34


@pytest.mark.parametrize(("old", "new"), sorted(BEFORE_2025.items()))
def test_every_pre_2025_name_finds_its_province_today(old: str, new: str) -> None:
    for typed in (old, fold_words(old), old.upper(), f"tỉnh {old}"):
        match = resolve_province(typed)
        assert match.province is not None and match.province.id == new, typed


@pytest.mark.parametrize(
    ("typed", "province_id", "former"),
    [
        ("quang nam", "da_nang", "Quảng Nam"),
        ("TP.HCM", "ho_chi_minh", None),
        ("Sài Gòn", "ho_chi_minh", None),
        ("vung tau", "ho_chi_minh", "Bà Rịa - Vũng Tàu"),
        ("ba ria", "ho_chi_minh", "Bà Rịa - Vũng Tàu"),  # a prefix that fits one province
        ("Thành phố Huế", "hue", None),
        ("Đăk Lăk", "dak_lak", None),
        ("Hoà Bình", "phu_tho", "Hòa Bình"),  # old-style tone placement
        ("da_nang", "da_nang", None),
    ],
)
def test_spellings_people_type(typed: str, province_id: str, former: str | None) -> None:
    match = resolve_province(typed)
    assert match.province is not None and match.province.id == province_id
    assert match.former == former


def test_quang_is_ambiguous_and_lists_its_candidates() -> None:
    match = resolve_province("quang")
    assert match.ambiguous and not match.found
    assert [c.label for c in match.candidates] == [
        "Đà Nẵng (Quảng Nam cũ)",
        "Quảng Ngãi",
        "Quảng Ninh",
        "Quảng Trị",
    ]
    # Each candidate resolves on its own, which is what a button sends back.
    for candidate in match.candidates:
        assert candidate.province is not None
        assert resolve_province(candidate.province.id).province == candidate.province


@pytest.mark.parametrize("typed", ["", "   ", "q", "xyz", "Paris"])
def test_what_is_not_a_province(typed: str) -> None:
    match = resolve_province(typed)
    assert not match.found and not match.ambiguous


def test_province_key_joins_old_and_new_names_and_keeps_the_rest_folded() -> None:
    assert province_key("Quảng Nam") == province_key("Đà Nẵng") == "da_nang"
    assert province_key("  Xã   Đông  ") == "xa dong"
    dong_thap = province_by_id("dong_thap")
    assert dong_thap is not None and dong_thap.name == "Đồng Tháp"
    assert province_by_id("nowhere") is None


def test_the_eligibility_provinces_are_names_of_the_list() -> None:
    from pathlib import Path

    from index.criteria import load_criteria

    criteria = load_criteria(Path(__file__).resolve().parents[2] / "knowledge" / "criteria.yaml")
    labels = [p.label for p in criteria.provinces if not p.is_other]
    assert labels
    for label in labels:
        assert resolve_province(label).found, label

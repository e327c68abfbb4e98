"""The eligibility evaluator: verdicts over a small fixed criteria set, and the real file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from index.criteria import Criteria, CriteriaError, load_criteria
from index.eligibility import UNKNOWN, evaluate_eligibility

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_CRITERIA = REPO_ROOT / "knowledge" / "criteria.yaml"

CRITERIA: dict[str, Any] = {
    "legal_notice": "Chỉ tham khảo; tỉnh có thể quy định mức thấp hơn.",
    "beneficiary_types": [
        {"id": "sme", "label": "Doanh nghiệp nhỏ và vừa", "eligible": True},
        {"id": "coop_group", "label": "Tổ hợp tác", "eligible": "verify", "note": "ND 235?"},
        {"id": "large", "label": "Doanh nghiệp lớn", "eligible": False},
        {"id": "cleaner", "label": "Cơ sở SXSH", "eligible": True, "any_area": True},
    ],
    "area_rules": [
        {"id": "commune", "label": "Xã", "rural": True},
        {"id": "inner_ward", "label": "Phường nội thành", "rural": False},
        {"id": "unsure", "label": "Mới sáp nhập", "rural": "verify", "note": "Chưa xác nhận."},
    ],
    "sectors": [
        {"id": "food", "label": "Chế biến thực phẩm", "eligible": True},
        {
            "id": "mining",
            "label": "Khai thác khoáng sản",
            "eligible": "verify",
            "condition": "Chỉ ở địa bàn khó khăn.",
        },
        {"id": "finance", "label": "Tài chính", "eligible": False},
    ],
    "support_items": [
        {
            "id": "machines",
            "label": "Máy móc thiết bị",
            "level": "50%",
            "cap": "300 triệu đồng/cơ sở",
            "legal_basis": "TT 28/2018/TT-BTC",
            "required_documents": ["Giấy đăng ký kinh doanh", "Báo giá"],
            "confidence": "H",
        },
        {
            "id": "sxsh",
            "label": "Mô hình thí điểm sản xuất sạch hơn",
            "level": "30%",
            "legal_basis": "Hòa Bình",
            "required_documents": ["Đề án"],
            "any_area": True,
        },
        {"id": "training", "label": "Đào tạo nghề", "required_documents": "Danh sách học viên"},
    ],
    "provinces": [{"id": "qn", "label": "Quảng Nam", "note": "QĐ 2665"}, "Phú Thọ"],
    "next_steps": {"eligible": "Liên hệ TTKC.", "likely_eligible": "Liên hệ TTKC ngay."},
}


@pytest.fixture
def criteria() -> Criteria:
    return Criteria.model_validate(CRITERIA)


def check(criteria: Criteria, **overrides: Any) -> Any:
    answers: dict[str, Any] = {
        "establishment_type": "sme",
        "area": "commune",
        "sector": "food",
        "support_items": ["machines"],
        "province": "qn",
    }
    answers.update(overrides)
    return evaluate_eligibility(criteria, **answers)


def test_all_true_is_likely_eligible_with_item_details(criteria: Criteria) -> None:
    result = check(criteria)
    assert result.verdict == "likely_eligible"
    assert result.reasons == []
    assert [item.id for item in result.support_items] == ["machines"]
    item = result.support_items[0]
    assert item.cap == "300 triệu đồng/cơ sở"
    assert item.legal_basis == "TT 28/2018/TT-BTC"
    assert item.required_documents == ["Giấy đăng ký kinh doanh", "Báo giá"]
    assert result.next_step == "Liên hệ TTKC ngay."
    assert "thấp hơn" in result.legal_notice


def test_no_item_chosen_lists_every_item(criteria: Criteria) -> None:
    result = check(criteria, support_items=[])
    assert [item.id for item in result.support_items] == ["machines", "sxsh", "training"]
    # A single string of documents is read as a one-element list.
    assert result.support_items[2].required_documents == ["Danh sách học viên"]


@pytest.mark.parametrize(
    ("overrides", "reason_part"),
    [
        ({"establishment_type": "large"}, "Doanh nghiệp lớn"),
        ({"sector": "finance"}, "Tài chính"),
        ({"area": "inner_ward"}, "sản xuất sạch hơn"),
    ],
)
def test_not_eligible_with_reason(
    criteria: Criteria, overrides: dict[str, Any], reason_part: str
) -> None:
    result = check(criteria, **overrides)
    assert result.verdict == "not_eligible"
    assert any(reason_part in reason for reason in result.reasons)
    assert result.support_items == []
    assert result.legal_notice  # always present, whatever the verdict


@pytest.mark.parametrize(
    ("overrides", "reason_part"),
    [
        ({"establishment_type": UNKNOWN}, "loại hình"),
        ({"area": UNKNOWN}, "địa bàn"),
        ({"sector": UNKNOWN}, "ngành"),
        ({"province": UNKNOWN}, "tỉnh"),
        ({"support_items": [UNKNOWN]}, "nội dung hỗ trợ"),
        ({"establishment_type": "coop_group"}, "ND 235?"),
        ({"area": "unsure"}, "Chưa xác nhận."),
        ({"sector": "mining"}, "địa bàn khó khăn"),
    ],
)
def test_unknown_or_verify_needs_verification(
    criteria: Criteria, overrides: dict[str, Any], reason_part: str
) -> None:
    result = check(criteria, **overrides)
    assert result.verdict == "needs_verification"
    assert any(reason_part in reason for reason in result.reasons), result.reasons


def test_not_eligible_wins_over_unknown(criteria: Criteria) -> None:
    result = check(criteria, establishment_type="large", sector=UNKNOWN)
    assert result.verdict == "not_eligible"


def test_cleaner_production_is_allowed_outside_rural_areas(criteria: Criteria) -> None:
    result = check(criteria, area="inner_ward", support_items=["sxsh"])
    assert result.verdict == "likely_eligible"
    assert [item.id for item in result.support_items] == ["sxsh"]


def test_urban_mix_keeps_only_cleaner_production_with_a_note(criteria: Criteria) -> None:
    result = check(criteria, area="inner_ward", support_items=["machines", "sxsh"])
    assert result.verdict == "likely_eligible"
    assert [item.id for item in result.support_items] == ["sxsh"]
    assert result.notes and "không áp dụng" in result.notes[0]


def test_urban_without_a_chosen_item_needs_verification(criteria: Criteria) -> None:
    result = check(criteria, area="inner_ward", support_items=[])
    assert result.verdict == "needs_verification"
    assert [item.id for item in result.support_items] == ["sxsh"]


def test_cleaner_production_type_skips_the_area_test(criteria: Criteria) -> None:
    result = check(criteria, establishment_type="cleaner", area="inner_ward")
    assert result.verdict == "likely_eligible"
    unknown_area = check(criteria, establishment_type="cleaner", area=UNKNOWN)
    assert unknown_area.verdict == "likely_eligible"


def test_to_dict_is_plain_and_keeps_answers(criteria: Criteria) -> None:
    stored = check(criteria, sector="mining").to_dict()
    assert stored["verdict"] == "needs_verification"
    assert stored["establishment_type"] == "sme"
    assert stored["matched_support_items"] == ["machines"]
    assert yaml.safe_load(yaml.safe_dump(stored)) == stored


def test_provinces_accept_names_and_mappings(criteria: Criteria) -> None:
    assert [p.label for p in criteria.provinces] == ["Quảng Nam", "Phú Thọ"]
    assert criteria.province("qn") is not None
    # Verdict names missing from next_steps fall back to a built-in sentence.
    assert "Sở Công Thương" in criteria.next_step("not_eligible")


def test_load_criteria_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(CRITERIA, allow_unicode=True), encoding="utf-8")
    first = load_criteria(path)
    assert load_criteria(path) is first
    changed = dict(CRITERIA, legal_notice="Thông báo mới.")
    path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert load_criteria(path).legal_notice == "Thông báo mới."


def test_load_criteria_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CriteriaError, match="not found"):
        load_criteria(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("beneficiary_types: [", encoding="utf-8")
    with pytest.raises(CriteriaError, match="broken.yaml"):
        load_criteria(broken)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("beneficiary_types: 3\n", encoding="utf-8")
    with pytest.raises(CriteriaError, match="schema"):
        load_criteria(wrong)


def test_real_criteria_file_loads_and_follows_the_rules() -> None:
    criteria = load_criteria(REAL_CRITERIA)
    assert criteria.beneficiary_types and criteria.area_rules and criteria.sectors
    assert all(item.legal_basis and item.required_documents for item in criteria.support_items)
    rural = next(a.id for a in criteria.area_rules if a.rural is True)
    urban = next(a.id for a in criteria.area_rules if a.rural is False)
    sme = next(t.id for t in criteria.beneficiary_types if t.eligible is True and not t.any_area)
    sector = next(s.id for s in criteria.sectors if s.eligible is True)
    plain = next(i.id for i in criteria.support_items if not i.is_cleaner_production)
    cleaner = next(i.id for i in criteria.support_items if i.is_cleaner_production)
    province = criteria.provinces[0].id
    base = {"establishment_type": sme, "sector": sector, "province": province}

    ok = evaluate_eligibility(criteria, area=rural, support_items=[plain], **base)
    assert ok.verdict == "likely_eligible"
    urban_plain = evaluate_eligibility(criteria, area=urban, support_items=[plain], **base)
    assert urban_plain.verdict == "not_eligible"
    urban_clean = evaluate_eligibility(criteria, area=urban, support_items=[cleaner], **base)
    assert urban_clean.verdict == "likely_eligible"
    assert "235/2025" in ok.legal_notice

    mining = next(s for s in criteria.sectors if "khoáng sản" in s.label)
    mined = evaluate_eligibility(
        criteria, area=rural, support_items=[plain], **{**base, "sector": mining.id}
    )
    assert mined.verdict == "needs_verification"
    assert any("khó khăn" in reason for reason in mined.reasons)

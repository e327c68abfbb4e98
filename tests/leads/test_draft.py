"""LeadDraft: what a registration still needs, and the LeadCreate it becomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from index.leads.draft import ASK_ORDER, LeadDraft


def _complete() -> LeadDraft:
    return LeadDraft(
        full_name="Nguyễn Văn An",
        phone="+84912345678",
        establishment_name="Cơ sở mây tre Phú Vinh",
        establishment_type="Hộ kinh doanh",
        province="Quảng Nam",
        district="Duy Xuyên",
        support_items=[],
        consent_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
    )


def test_next_missing_walks_the_questions_in_order() -> None:
    draft = LeadDraft()
    asked = []
    while (field := draft.next_missing()) is not None:
        asked.append(field)
        if field == "district":
            draft.skip("district")
        else:
            setattr(draft, field, getattr(_complete(), field))
    assert tuple(asked) == ASK_ORDER


def test_an_empty_need_is_an_answer_and_a_skip_can_be_undone() -> None:
    draft = _complete()
    assert draft.next_missing() is None  # support_items == [] means "chưa rõ"
    draft.clear("province", "district")
    assert draft.next_missing() == "province"
    draft.province = "Đà Nẵng"
    draft.skip("district")
    assert draft.next_missing() is None
    draft.clear("district")
    assert draft.next_missing() == "district"
    with pytest.raises(ValueError, match="cannot be skipped"):
        draft.skip("phone")  # type: ignore[arg-type]


def test_to_lead_create_validates_and_needs_consent() -> None:
    lead_in = _complete().to_lead_create(telegram_user_id=7, telegram_username="an")
    assert (lead_in.telegram_user_id, lead_in.province, lead_in.support_items) == (
        7,
        "Quảng Nam",
        [],
    )
    draft = _complete()
    draft.consent_at = None
    with pytest.raises(ValidationError, match="consent_at"):
        draft.to_lead_create(telegram_user_id=7, telegram_username=None)


def test_drafts_stored_by_earlier_versions_still_load() -> None:
    legacy = {
        "full_name": "An",
        "phone": "+84912345678",
        "establishment_name": "Cơ sở",
        "establishment_type": "Hộ kinh doanh",
        "province": "Quảng Nam",
        "district": None,  # a present None meant "skipped"
        "support_selection": ["Máy móc"],
    }
    draft = LeadDraft.from_stored(legacy)
    assert draft.next_missing() == "support_items"
    assert draft.support_selection == ["Máy móc"]
    assert LeadDraft.from_stored(None).next_missing() == "full_name"
    assert LeadDraft.from_stored(draft) is draft


def test_a_check_prefills_the_questions_it_answered() -> None:
    check = {
        "verdict": "likely_eligible",
        "establishment_type_label": "Hộ kinh doanh",
        "sector_label": "Chế biến nông sản",
        "province_label": "Quảng Nam",
        "support_item_labels": ["Máy móc thiết bị"],
    }
    draft = LeadDraft.prefilled(check, "  Hỗ trợ máy móc bao nhiêu? ")
    assert draft.prefilled_fields() == ["establishment_type", "province", "support_items"]
    assert draft.eligibility_answers["verdict"] == "likely_eligible"
    assert (draft.sector, draft.question) == ("Chế biến nông sản", "Hỗ trợ máy móc bao nhiêu?")
    assert draft.next_missing() == "full_name"
    empty = LeadDraft.prefilled(None, None)
    assert empty.prefilled_fields() == [] and empty.question is None

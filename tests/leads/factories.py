"""Factories of valid lead registrations for the leads-store tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from index.leads.models import LeadCreate

_numbers = itertools.count(1)


def unique_phone() -> str:
    """Returns a valid, never-repeated Vietnamese mobile number in E.164 (+8491xxxxxxx)."""
    return f"+8491{next(_numbers):07d}"


def lead_data(**overrides: Any) -> dict[str, Any]:
    """Returns the raw fields of a valid registration; keyword overrides win."""
    data: dict[str, Any] = {
        "telegram_user_id": 7_000_000_001,
        "telegram_username": "anh_nguyen",
        "full_name": "Nguyễn Văn Ánh",
        "phone": unique_phone(),
        "establishment_name": "Cơ sở dệt chiếu Định Yên",
        "establishment_type": "Hộ kinh doanh",
        "sector": "Thủ công mỹ nghệ",
        "province": "Đồng Tháp",
        "district": "Lấp Vò",
        "support_items": ["Máy móc thiết bị", "Xúc tiến thương mại"],
        "eligibility_answers": {"employees": 12, "has_license": True},
        "question": "Cơ sở nhỏ có được hỗ trợ máy móc không?",
        "consent_at": datetime(2026, 3, 1, 2, 30, tzinfo=UTC),
    }
    data.update(overrides)
    return data


def make_lead_in(**overrides: Any) -> LeadCreate:
    """Returns a validated LeadCreate; keyword overrides win."""
    return LeadCreate.model_validate(lead_data(**overrides))

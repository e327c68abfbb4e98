"""Validation and column types of the leads models, plus the SQLModel-tutorial in-memory setup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, select

from index.leads.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    Lead,
    LeadCreate,
    LeadPublic,
    LeadStatus,
    QuestionLog,
    compute_need_key,
)
from tests.leads.factories import lead_data, make_lead_in


@pytest.fixture(name="memory_session")
def memory_session_fixture() -> Iterator[Session]:
    """An in-memory SQLite database shared through StaticPool, as in the SQLModel tutorial."""
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_every_status_has_a_vietnamese_label() -> None:
    assert set(STATUS_LABELS) == set(LeadStatus)
    assert STATUS_LABELS[LeadStatus.not_eligible] == "Không đủ điều kiện"
    assert OPEN_STATUSES == (LeadStatus.new, LeadStatus.contacted, LeadStatus.qualified)


def test_lead_create_requires_consent() -> None:
    data = lead_data()
    del data["consent_at"]
    with pytest.raises(ValidationError, match="consent_at"):
        LeadCreate.model_validate(data)


def test_lead_create_rejects_naive_consent() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        make_lead_in(consent_at=datetime(2026, 3, 1, 9, 30))


def test_consent_is_converted_to_utc() -> None:
    vn = timezone(timedelta(hours=7))
    lead_in = make_lead_in(consent_at=datetime(2026, 3, 1, 9, 30, tzinfo=vn))
    assert lead_in.consent_at == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    assert lead_in.consent_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "length"),
    [
        ("full_name", 121),
        ("establishment_name", 201),
        ("province", 61),
        ("district", 61),
        ("sector", 121),
        ("question", 2001),
    ],
)
def test_max_length_is_enforced(field: str, length: int) -> None:
    with pytest.raises(ValidationError, match=field):
        make_lead_in(**{field: "a" * length})


def test_text_at_max_length_is_accepted() -> None:
    assert len(make_lead_in(full_name="a" * 120).full_name) == 120


def test_blank_required_text_is_rejected() -> None:
    with pytest.raises(ValidationError, match="full_name"):
        make_lead_in(full_name="   ")


def test_phone_is_normalised_to_e164_by_the_one_phone_rule() -> None:
    # The rule itself is tested in test_phones.py; LeadCreate must use it.
    assert make_lead_in(phone="0912 345 678").phone == "+84912345678"
    assert make_lead_in(phone="02773 851 234").phone == "+842773851234"


@pytest.mark.parametrize("typed", ["12345", "không có", "0912", "+14155552671", "+4930123456"])
def test_invalid_or_foreign_phone_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError, match="phone"):
        make_lead_in(phone=typed)


def test_support_items_are_cleaned_and_limited() -> None:
    lead_in = make_lead_in(support_items=["  Máy  móc ", "", "Máy móc", "Đào tạo"])
    assert lead_in.support_items == ["Máy móc", "Đào tạo"]
    with pytest.raises(ValidationError, match="support_items"):
        make_lead_in(support_items=[f"hạng mục {i}" for i in range(13)])
    with pytest.raises(ValidationError, match="support_items"):
        make_lead_in(support_items=["x" * 101])


def test_need_key_ignores_order_case_and_diacritics() -> None:
    assert compute_need_key(["Máy móc", "Đào tạo"]) == compute_need_key(["dao tao", "MAY MOC"])
    assert compute_need_key(["Máy móc"]) != compute_need_key(["Máy móc", "Đào tạo"])
    assert compute_need_key([]) == ""
    long_key = compute_need_key([f"{i:03d}" + "x" * 96 for i in range(12)])
    assert long_key.startswith("sha256:") and len(long_key) <= 255


def test_lead_roundtrip_in_memory(memory_session: Session) -> None:
    lead = Lead.model_validate(make_lead_in(), update={"province_key": "dong thap"})
    memory_session.add(lead)
    memory_session.commit()
    memory_session.expire_all()

    stored = memory_session.exec(select(Lead)).one()
    assert stored.status is LeadStatus.new
    assert stored.created_at.tzinfo is not None
    assert stored.consent_at == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    assert stored.support_items == ["Máy móc thiết bị", "Xúc tiến thương mại"]
    assert stored.eligibility_answers == {"employees": 12, "has_license": True}
    public = LeadPublic.model_validate(stored)
    assert public.id == stored.id and public.full_name == "Nguyễn Văn Ánh"


def test_naive_timestamp_cannot_be_stored(memory_session: Session) -> None:
    memory_session.add(
        QuestionLog(question="q", confident=True, latency_ms=1.0, created_at=datetime(2026, 1, 1))
    )
    with pytest.raises(Exception, match="naive datetime"):
        memory_session.commit()

"""Statistics over hand-made data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from index.leads import crud
from index.leads.models import LeadStatus, QuestionLog
from index.leads.stats import compute_stats, normalize_question
from tests.leads.factories import make_lead_in

# 2026-03-10 12:00 in Vietnam.
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


def _question(session: Session, text: str, *, confident: bool, at: datetime) -> None:
    session.add(
        QuestionLog(question=text, confident=confident, chunk_ids=[], latency_ms=5.0, created_at=at)
    )
    session.commit()


@pytest.fixture
def filled(session: Session) -> Session:
    leads = [
        ("Đồng Tháp", ["Máy móc", "Đào tạo"], LeadStatus.new),
        ("dong thap", ["máy móc"], LeadStatus.contacted),
        ("Đồng Tháp", ["Xúc tiến thương mại"], LeadStatus.closed),
        ("Huế", ["Máy móc"], LeadStatus.new),
    ]
    for province, items, status in leads:
        lead, _ = crud.upsert_lead(
            session=session, lead_in=make_lead_in(province=province, support_items=items)
        )
        assert lead.id is not None
        crud.change_status(session=session, lead_id=lead.id, status=status, actor="x")

    day = timedelta(days=1)
    # Today (VN) 10:00 = 03:00 UTC; yesterday; 2 days ago; and one outside a 3-day window.
    _question(session, "Vay vốn thế nào?", confident=False, at=NOW - timedelta(hours=2))
    _question(session, "vay vốn  THẾ NÀO", confident=False, at=NOW - day)
    _question(session, "Vay vốn thế nào ??", confident=False, at=NOW - day)
    _question(session, "Hỗ trợ máy móc bao nhiêu?", confident=True, at=NOW - day)
    _question(session, "Thuế môn bài?", confident=False, at=NOW - 2 * day)
    _question(session, "Hỗ trợ đào tạo?", confident=True, at=NOW - 2 * day)
    _question(session, "Thuế môn bài", confident=False, at=NOW - 5 * day)
    # 00:30 on 2026-03-10 in Vietnam, though still 03-09 in UTC: counted on 03-10.
    _question(session, "Đăng ký ở đâu", confident=True, at=datetime(2026, 3, 9, 17, 30, tzinfo=UTC))
    # In the future relative to NOW: excluded.
    _question(session, "Câu hỏi tương lai", confident=False, at=NOW + timedelta(hours=1))
    return session


def test_lead_counts(filled: Session) -> None:
    stats = compute_stats(session=filled, days=3, now=NOW)

    assert stats.total_leads == 4
    assert stats.leads_by_status == {
        LeadStatus.new: 2,
        LeadStatus.contacted: 1,
        LeadStatus.qualified: 0,
        LeadStatus.not_eligible: 0,
        LeadStatus.supported: 0,
        LeadStatus.closed: 1,
    }
    assert stats.leads_by_province == {"Đồng Tháp": 3, "Huế": 1}
    assert stats.leads_by_support_item == {"Máy móc": 3, "Đào tạo": 1, "Xúc tiến thương mại": 1}


def test_question_figures(filled: Session) -> None:
    stats = compute_stats(session=filled, days=3, now=NOW)

    assert stats.questions_per_day == [
        (date(2026, 3, 8), 2),
        (date(2026, 3, 9), 3),
        (date(2026, 3, 10), 2),
    ]
    assert stats.total_questions == 7
    assert stats.confident_questions == 3
    assert stats.confident_share == pytest.approx(3 / 7)
    # Shown in the earliest spelling asked (whitespace collapsed).
    assert stats.top_unanswered == [("vay vốn THẾ NÀO", 3), ("Thuế môn bài?", 1)]


def test_wider_window_counts_older_questions(filled: Session) -> None:
    stats = compute_stats(session=filled, days=30, now=NOW)
    assert len(stats.questions_per_day) == 30
    assert stats.questions_per_day[-1] == (date(2026, 3, 10), 2)
    assert stats.total_questions == 8
    assert stats.top_unanswered == [("vay vốn THẾ NÀO", 3), ("Thuế môn bài", 2)]


def test_top_unanswered_keeps_ten(session: Session) -> None:
    for index in range(12):
        for _ in range(index + 1):
            _question(session, f"Câu hỏi số {index}?", confident=False, at=NOW - timedelta(hours=1))
    stats = compute_stats(session=session, days=1, now=NOW)
    assert len(stats.top_unanswered) == 10
    assert stats.top_unanswered[0] == ("Câu hỏi số 11?", 12)
    assert stats.top_unanswered[-1] == ("Câu hỏi số 2?", 3)


def test_empty_store(session: Session) -> None:
    stats = compute_stats(session=session, days=7, now=NOW)
    assert stats.total_leads == 0
    assert stats.confident_share is None
    assert stats.top_unanswered == []
    assert [count for _, count in stats.questions_per_day] == [0] * 7


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  Vay   vốn thế nào ?? ", "vay vốn thế nào"),
        ("VAY VỐN THẾ NÀO…", "vay vốn thế nào"),
        # NFD input (as some keyboards send it) groups with NFC input.
        ("Vay vo\u0302\u0301n the\u0302\u0301 na\u0300o?", "vay vốn thế nào"),
    ],
)
def test_normalize_question(text: str, key: str) -> None:
    assert normalize_question(text) == key


def test_invalid_arguments(session: Session) -> None:
    with pytest.raises(ValueError):
        compute_stats(session=session, days=0, now=NOW)
    with pytest.raises(ValueError):
        compute_stats(session=session, now=datetime(2026, 3, 10))

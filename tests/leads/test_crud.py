"""CRUD of the leads store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from index.leads import answer_log, crud, erasure, lead_queries
from index.leads.db import session_scope
from index.leads.models import (
    EventKind,
    Feedback,
    Lead,
    LeadEvent,
    LeadStatus,
    QuestionLog,
)
from tests.leads.factories import make_lead_in, unique_phone


def _set_created_at(session: Session, lead: Lead, moment: datetime) -> None:
    lead.created_at = moment
    session.add(lead)
    session.commit()


def test_create_lead_records_created_event(session: Session) -> None:
    lead, created = crud.upsert_lead(session=session, lead_in=make_lead_in())

    assert created is True
    assert lead.id is not None
    assert lead.status is LeadStatus.new
    assert lead.province_key == "dong_thap"  # the province id of index.leads.provinces
    events = lead_queries.list_events(session=session, lead_id=lead.id)
    assert [(e.kind, e.new_status, e.actor) for e in events] == [
        ("created", LeadStatus.new, "tg:7000000001")
    ]


def test_timestamps_are_aware_after_reading_back(db_engine: Engine) -> None:
    with session_scope(db_engine) as session:
        lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
        lead_id = lead.id
    with session_scope(db_engine) as session:
        assert lead_id is not None
        stored = lead_queries.get_lead(session=session, lead_id=lead_id)
        assert stored is not None
        for moment in (stored.created_at, stored.updated_at, stored.consent_at):
            assert moment.utcoffset() == timedelta(0)
        assert stored.consent_at == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
        assert abs(datetime.now(UTC) - stored.created_at) < timedelta(hours=1)
        event = lead_queries.list_events(session=session, lead_id=lead_id)[0]
        assert event.created_at.tzinfo is not None


def test_same_phone_and_need_updates_open_lead(session: Session) -> None:
    phone = unique_phone()
    first, created = crud.upsert_lead(
        session=session, lead_in=make_lead_in(phone=phone, support_items=["Máy móc", "Đào tạo"])
    )
    assert first.id is not None
    second, created_again = crud.upsert_lead(
        session=session,
        lead_in=make_lead_in(
            phone=phone.replace("+84", "0"),  # same number typed the local way
            support_items=["đào tạo", "MÁY MÓC"],  # same need, other order and case
            full_name="Nguyễn Thị Bình",
            district=None,
        ),
    )

    assert (created, created_again) == (True, False)
    assert second.id == first.id
    assert second.full_name == "Nguyễn Thị Bình"
    assert second.district == "Lấp Vò"  # a missing field does not erase what we knew
    assert second.updated_at >= first.created_at
    assert lead_queries.count_leads(session=session) == 1
    kinds = [e.kind for e in lead_queries.list_events(session=session, lead_id=first.id)]
    assert kinds == ["created", "updated"]


def test_different_need_creates_new_lead(session: Session) -> None:
    phone = unique_phone()
    first, _ = crud.upsert_lead(
        session=session, lead_in=make_lead_in(phone=phone, support_items=["Máy móc"])
    )
    second, created = crud.upsert_lead(
        session=session, lead_in=make_lead_in(phone=phone, support_items=["Đào tạo"])
    )
    assert created is True
    assert second.id != first.id
    assert lead_queries.count_leads(session=session) == 2


@pytest.mark.parametrize(
    "final_status", [LeadStatus.closed, LeadStatus.supported, LeadStatus.not_eligible]
)
def test_finished_lead_is_not_reused(session: Session, final_status: LeadStatus) -> None:
    lead_in = make_lead_in()
    first, _ = crud.upsert_lead(session=session, lead_in=lead_in)
    assert first.id is not None
    crud.change_status(session=session, lead_id=first.id, status=final_status, actor="canbo")

    second, created = crud.upsert_lead(session=session, lead_in=lead_in)
    assert created is True
    assert second.id != first.id
    assert lead_queries.count_leads(session=session, status=LeadStatus.new) == 1


@pytest.mark.parametrize("open_status", [LeadStatus.contacted, LeadStatus.qualified])
def test_lead_in_progress_is_reused(session: Session, open_status: LeadStatus) -> None:
    lead_in = make_lead_in()
    first, _ = crud.upsert_lead(session=session, lead_in=lead_in)
    assert first.id is not None
    crud.change_status(session=session, lead_id=first.id, status=open_status, actor="canbo")
    second, created = crud.upsert_lead(session=session, lead_in=lead_in)
    assert (created, second.id, second.status) == (False, first.id, open_status)


def test_change_status_records_event_with_actor(session: Session) -> None:
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
    assert lead.id is not None

    updated = crud.change_status(
        session=session, lead_id=lead.id, status=LeadStatus.contacted, actor="tg:1001 @canbo"
    )
    assert updated.status is LeadStatus.contacted
    crud.change_status(
        session=session, lead_id=lead.id, status=LeadStatus.qualified, actor="tg:1002"
    )
    # Same status again: nothing changes, no event.
    crud.change_status(
        session=session, lead_id=lead.id, status=LeadStatus.qualified, actor="tg:1002"
    )

    events = [e for e in lead_queries.list_events(session=session, lead_id=lead.id) if e.kind == "status"]
    assert [(e.old_status, e.new_status, e.actor) for e in events] == [
        (LeadStatus.new, LeadStatus.contacted, "tg:1001 @canbo"),
        (LeadStatus.contacted, LeadStatus.qualified, "tg:1002"),
    ]
    stored = lead_queries.get_lead(session=session, lead_id=lead.id)
    assert stored is not None and stored.status is LeadStatus.qualified


def test_change_status_of_unknown_lead(session: Session) -> None:
    with pytest.raises(LookupError):
        crud.change_status(session=session, lead_id=999_999, status=LeadStatus.closed, actor="x")
    with pytest.raises(crud.LeadNotFoundError):
        crud.add_note(session=session, lead_id=999_999, note="gọi lại", actor="x")


def test_change_status_rejects_unknown_status(session: Session) -> None:
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
    assert lead.id is not None
    with pytest.raises(ValueError):
        crud.change_status(session=session, lead_id=lead.id, status="archived", actor="x")  # type: ignore[arg-type]


def test_notes(session: Session) -> None:
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
    assert lead.id is not None

    event = crud.add_note(
        session=session, lead_id=lead.id, note="  Đã gọi, hẹn thứ Hai.  ", actor="@canbo"
    )

    assert (event.kind, event.note, event.actor) == ("note", "Đã gọi, hẹn thứ Hai.", "@canbo")
    session.expire_all()
    kinds = [e.kind for e in lead_queries.list_events(session=session, lead_id=lead.id)]
    assert kinds == [EventKind.created, EventKind.note]
    assert all(isinstance(kind, EventKind) for kind in kinds)
    with pytest.raises(ValueError, match="empty"):
        crud.add_note(session=session, lead_id=lead.id, note="   ", actor="@canbo")
    with pytest.raises(ValueError, match="longer"):
        crud.add_note(session=session, lead_id=lead.id, note="x" * 2001, actor="@canbo")


def test_assign_lead(session: Session) -> None:
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
    assert lead.id is not None
    assigned = crud.assign_lead(session=session, lead_id=lead.id, assigned_to="@canbo", actor="x")
    assert assigned.assigned_to == "@canbo"
    assert lead_queries.list_events(session=session, lead_id=lead.id)[-1].kind == "updated"


def test_filters(session: Session) -> None:
    dong_thap, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(province="Đồng Tháp"))
    hue, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(province="Thừa Thiên Huế"))
    old, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(province="Đồng Tháp"))
    assert hue.id is not None
    crud.change_status(session=session, lead_id=hue.id, status=LeadStatus.contacted, actor="x")
    _set_created_at(session, old, datetime(2025, 1, 15, tzinfo=UTC))

    def ids(**filters: object) -> list[int | None]:
        return [lead.id for lead in lead_queries.list_leads(session=session, **filters)]  # type: ignore[arg-type]

    assert ids(province="dong thap") == [dong_thap.id, old.id]
    assert ids(province="ĐỒNG THÁP ") == [dong_thap.id, old.id]
    assert ids(status=LeadStatus.contacted) == [hue.id]
    assert ids(status=LeadStatus.new, province="Huế") == []
    assert ids(since=datetime(2026, 1, 1, tzinfo=UTC)) == [hue.id, dong_thap.id]
    assert ids(until=datetime(2026, 1, 1, tzinfo=UTC)) == [old.id]
    assert lead_queries.count_leads(session=session, province="Đồng Tháp") == 2
    assert lead_queries.count_leads(session=session, until=datetime(2025, 1, 15, tzinfo=UTC)) == 0
    assert lead_queries.count_leads(session=session, since=datetime(2025, 1, 15, tzinfo=UTC)) == 3


def test_newest_first_and_pagination(session: Session) -> None:
    base = datetime(2026, 2, 1, tzinfo=UTC)
    ids = []
    for day in range(7):
        lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
        _set_created_at(session, lead, base + timedelta(days=day))
        ids.append(lead.id)
    newest_first = list(reversed(ids))

    page1 = lead_queries.list_leads(session=session, limit=3)
    page2 = lead_queries.list_leads(session=session, offset=3, limit=3)
    page3 = lead_queries.list_leads(session=session, offset=6, limit=3)
    everything = lead_queries.list_leads(session=session, limit=None)

    assert [lead.id for lead in page1 + page2 + page3] == newest_first
    assert len(page3) == 1
    assert [lead.id for lead in everything] == newest_first


def test_list_leads_for_user(session: Session) -> None:
    mine, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(telegram_user_id=42))
    crud.upsert_lead(session=session, lead_in=make_lead_in(telegram_user_id=43))
    assert [lead.id for lead in lead_queries.list_leads_for_user(session=session, telegram_user_id=42)] == [
        mine.id
    ]


def test_record_feedback(session: Session) -> None:
    feedback = answer_log.record_feedback(
        session=session, telegram_user_id=42, question="Vay vốn?", chunk_ids=[3, 1], rating=-1
    )
    assert (feedback.rating, feedback.chunk_ids) == (-1, [3, 1])
    with pytest.raises(ValueError, match="rating"):
        answer_log.record_feedback(
            session=session, telegram_user_id=42, question="q", chunk_ids=[], rating=5
        )


def test_log_question_truncates_long_input(session: Session) -> None:
    entry = answer_log.log_question(
        session=session,
        telegram_user_id=None,
        question="Hỏi " * 1000,
        confident=False,
        chunk_ids=[7, 8],
        latency_ms=12.5,
    )
    session.expire_all()
    stored = session.get(QuestionLog, entry.id)
    assert stored is not None
    assert len(stored.question) == 2000 and stored.question.endswith("…")
    assert (stored.confident, stored.chunk_ids, stored.latency_ms) == (False, [7, 8], 12.5)
    assert stored.created_at.tzinfo is not None


def test_delete_user_data(session: Session) -> None:
    user, other = 42, 43
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(telegram_user_id=user))
    second, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(telegram_user_id=user))
    kept, _ = crud.upsert_lead(session=session, lead_in=make_lead_in(telegram_user_id=other))
    assert lead.id is not None and kept.id is not None
    crud.add_note(session=session, lead_id=lead.id, note="gọi lại", actor="x")
    for uid in (user, other):
        answer_log.record_feedback(
            session=session, telegram_user_id=uid, question="q", chunk_ids=[1], rating=1
        )
        answer_log.log_question(
            session=session,
            telegram_user_id=uid,
            question="q",
            confident=True,
            chunk_ids=[1],
            latency_ms=1.0,
        )

    removed = erasure.delete_user_data(session=session, telegram_user_id=user)

    # 2 leads + 3 events (2 created, 1 note) + 1 feedback + 1 question log
    assert removed == 7
    assert lead_queries.list_leads_for_user(session=session, telegram_user_id=user) == []
    assert lead_queries.get_lead(session=session, lead_id=kept.id) is not None
    assert session.exec(select(LeadEvent).where(LeadEvent.lead_id == lead.id)).all() == []
    assert len(session.exec(select(Feedback)).all()) == 1
    assert len(session.exec(select(QuestionLog)).all()) == 1
    assert len(lead_queries.list_events(session=session, lead_id=kept.id)) == 1
    assert erasure.delete_user_data(session=session, telegram_user_id=user) == 0


def test_deleting_a_lead_cascades_to_events(session: Session) -> None:
    lead, _ = crud.upsert_lead(session=session, lead_in=make_lead_in())
    assert lead.id is not None
    crud.add_note(session=session, lead_id=lead.id, note="x", actor="y")
    session.delete(lead)
    session.commit()
    assert session.exec(select(LeadEvent)).all() == []


def test_database_enforces_column_lengths(session: Session, db_engine: Engine) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths; LeadCreate does")
    from sqlalchemy.exc import DataError

    lead = Lead.model_validate(make_lead_in(), update={"province_key": "x"})
    lead.full_name = "a" * 121  # bypasses LeadCreate validation on purpose
    session.add(lead)
    with pytest.raises(DataError):
        session.commit()

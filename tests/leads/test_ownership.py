"""Lead ownership: only the owner's registration updates a lead; erasure removes what they wrote.

Runs on SQLite and PostgreSQL (the `session` / `db_engine` fixtures of conftest.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from index.leads import answer_log, crud, erasure, lead_queries
from index.leads.db import session_scope
from index.leads.models import EventKind, Lead, LeadEvent
from tests.leads.factories import make_lead_in, unique_phone

OWNER = 1001
INTRUDER = 2002


def test_another_account_with_the_same_phone_makes_a_new_flagged_lead(session: Session) -> None:
    phone = unique_phone()
    mine, _ = crud.upsert_lead(
        session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=OWNER)
    )
    theirs, created = crud.upsert_lead(
        session=session,
        lead_in=make_lead_in(phone=phone, telegram_user_id=INTRUDER, full_name="Kẻ Mạo Danh"),
    )

    assert created is True
    assert theirs.id != mine.id
    assert theirs.duplicate_of_id == mine.id  # for staff to check
    assert theirs.telegram_user_id == INTRUDER
    session.refresh(mine)
    assert mine.full_name == "Nguyễn Văn Ánh"  # the owner's lead is untouched
    assert mine.duplicate_of_id is None
    assert [e.kind for e in lead_queries.list_events(session=session, lead_id=mine.id or 0)] == [
        EventKind.created
    ]


def test_the_owner_still_updates_their_own_open_lead(session: Session) -> None:
    phone = unique_phone()
    first, _ = crud.upsert_lead(
        session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=OWNER)
    )
    crud.upsert_lead(session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=INTRUDER))
    again, created = crud.upsert_lead(
        session=session,
        lead_in=make_lead_in(phone=phone, telegram_user_id=OWNER, full_name="Nguyễn Thị Bình"),
    )
    assert (created, again.id, again.full_name) == (False, first.id, "Nguyễn Thị Bình")
    assert lead_queries.count_leads(session=session) == 2


def test_leads_without_an_account_share_one_owner(session: Session) -> None:
    lead_in = make_lead_in(telegram_user_id=None)
    first, _ = crud.upsert_lead(session=session, lead_in=lead_in)
    second, created = crud.upsert_lead(session=session, lead_in=lead_in)
    assert (created, second.id) == (False, first.id)


def test_a_double_tap_by_the_owner_still_makes_one_lead(db_engine: Engine) -> None:
    lead_in = make_lead_in(telegram_user_id=OWNER)

    def register() -> int:
        with session_scope(db_engine) as session:
            lead, _ = crud.upsert_lead(session=session, lead_in=lead_in)
            return int(lead.id or 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: register(), range(16)))
    assert len(ids) == 1


def test_erasure_removes_what_the_user_wrote_on_any_lead(db_engine: Engine) -> None:
    phone = unique_phone()
    with session_scope(db_engine) as session:
        victim, _ = crud.upsert_lead(
            session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=OWNER)
        )
        intruder, _ = crud.upsert_lead(
            session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=INTRUDER)
        )
        victim_id, intruder_id = victim.id, intruder.id
        assert victim_id is not None and intruder_id is not None
        # What an update by another account left before leads had owners, and a staff
        # note by an account that also uses the bot as an owner.
        session.add(LeadEvent(lead_id=victim_id, kind=EventKind.updated, actor=f"tg:{INTRUDER}"))
        session.add(
            LeadEvent(
                lead_id=victim_id, kind=EventKind.note, note="gọi lại", actor=f"tg:{INTRUDER} @cb"
            )
        )
        session.commit()
        answer_log.log_question(
            session=session,
            telegram_user_id=INTRUDER,
            question="Hỏi",
            confident=True,
            chunk_ids=[1],
            latency_ms=1.0,
        )

    with session_scope(db_engine) as session:
        removed = erasure.delete_user_data(session=session, telegram_user_id=INTRUDER)

    with session_scope(db_engine) as session:
        assert session.get(Lead, intruder_id) is None
        assert session.get(Lead, victim_id) is not None
        actors = session.exec(
            select(LeadEvent.actor, LeadEvent.kind).where(LeadEvent.lead_id == victim_id)
        ).all()
        # The registration trace is gone; the staff work record stays.
        assert sorted((a, str(k)) for a, k in actors) == [
            (f"tg:{OWNER}", "created"),
            (f"tg:{INTRUDER} @cb", "note"),
        ]
        remaining = session.exec(
            select(func.count()).select_from(Lead).where(col(Lead.telegram_user_id) == INTRUDER)
        ).one()
    assert remaining == 0
    # lead + its created event + the old update event + the question log
    assert removed == 4


def test_erasing_the_original_owner_clears_the_duplicate_pointer(db_engine: Engine) -> None:
    phone = unique_phone()
    with session_scope(db_engine) as session:
        original, _ = crud.upsert_lead(
            session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=OWNER)
        )
        other, _ = crud.upsert_lead(
            session=session, lead_in=make_lead_in(phone=phone, telegram_user_id=INTRUDER)
        )
        assert other.duplicate_of_id == original.id
        other_id = other.id
    with session_scope(db_engine) as session:
        erasure.delete_user_data(session=session, telegram_user_id=OWNER)
    with session_scope(db_engine) as session:
        kept = session.get(Lead, other_id)
        assert kept is not None and kept.duplicate_of_id is None

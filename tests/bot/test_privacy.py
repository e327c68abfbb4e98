"""/xoadulieu through the real Application: explain, confirm, delete, report the count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import texts
from index.leads import answer_log, crud, erasure
from index.leads.db import session_scope
from index.leads.models import Lead, LeadCreate
from tests.bot.conftest import OWNER_ID

OTHER_ID = 222


def add_lead(db_engine: Any, user_id: int, phone: str) -> None:
    with session_scope(db_engine) as session:
        crud.upsert_lead(
            session=session,
            lead_in=LeadCreate(
                telegram_user_id=user_id,
                full_name="Nguyễn Văn An",
                phone=phone,
                establishment_name="Cơ sở An",
                province="Quảng Nam",
                support_items=["Máy móc thiết bị"],
                consent_at=datetime.now(UTC),
            ),
        )
        answer_log.log_question(
            session=session,
            telegram_user_id=user_id,
            question="Hỗ trợ bao nhiêu?",
            confident=True,
            chunk_ids=[1],
            latency_ms=5.0,
        )


def user_ids_with_leads(db_engine: Any) -> list[int | None]:
    with session_scope(db_engine) as session:
        return [lead.telegram_user_id for lead in session.exec(select(Lead)).all()]


@pytest.fixture
def stored(db_engine: Any, app: Any) -> None:
    add_lead(db_engine, OWNER_ID, "0912345678")
    add_lead(db_engine, OTHER_ID, "0987654321")
    app.user_data[OWNER_ID]["eligibility"] = {"verdict": "likely_eligible"}
    app.user_data[OWNER_ID]["last_question"] = "Hỗ trợ bao nhiêu?"


async def test_confirmed_deletion_removes_rows_and_bot_state(
    app, sent, db_engine, stored, make_command_update, make_callback_update
) -> None:
    await app.process_update(make_command_update("/xoadulieu"))
    assert sent.texts() == [texts.PRIVACY_EXPLAIN]
    assert sent.callback_data() == ["privacy:confirm", "privacy:cancel"]
    assert user_ids_with_leads(db_engine) == [OWNER_ID, OTHER_ID]

    await app.process_update(make_callback_update("privacy:confirm"))

    assert user_ids_with_leads(db_engine) == [OTHER_ID]
    done = sent.texts()[-1]
    # One lead, its "created" event and one logged question.
    assert done == texts.PRIVACY_DONE.format(count=3)
    assert dict(app.user_data.get(OWNER_ID, {})) == {}


async def test_cancel_keeps_everything(
    app, sent, db_engine, stored, make_command_update, make_callback_update
) -> None:
    await app.process_update(make_command_update("/xoadulieu"))
    await app.process_update(make_callback_update("privacy:cancel"))

    assert sent.texts()[-1] == texts.PRIVACY_CANCELLED
    assert user_ids_with_leads(db_engine) == [OWNER_ID, OTHER_ID]
    assert app.user_data[OWNER_ID]["eligibility"] == {"verdict": "likely_eligible"}


async def test_failed_deletion_is_not_reported_as_done(
    app, sent, db_engine, stored, make_callback_update, monkeypatch
) -> None:
    def broken(**kwargs: Any) -> int:
        raise OperationalError("DELETE FROM leads", {}, Exception("database is locked"))

    monkeypatch.setattr(erasure, "delete_user_data", broken)
    await app.process_update(make_callback_update("privacy:confirm"))

    assert sent.texts() == [texts.PRIVACY_FAILED]
    assert user_ids_with_leads(db_engine) == [OWNER_ID, OTHER_ID]
    assert app.user_data[OWNER_ID]["eligibility"] == {"verdict": "likely_eligible"}


@pytest.mark.persistent
async def test_deletion_also_clears_the_state_file(
    app,
    sent,
    bot_settings,
    db_engine,
    make_command_update,
    make_message_update,
    make_callback_update,
) -> None:
    from bot.persistence import read_state_file

    add_lead(db_engine, OWNER_ID, "0912345678")
    await app.process_update(make_command_update("/dangky"))
    await app.process_update(make_message_update("Nguyễn Văn An"))
    await app.update_persistence()
    before = read_state_file(bot_settings.persistence_path)
    assert "lead_draft" in before["user_data"][OWNER_ID]
    assert (OWNER_ID, OWNER_ID) in before["conversations"]["registration"]

    # /xoadulieu in the middle of a registration ends it and then asks, like /start would.
    await app.process_update(make_command_update("/xoadulieu"))
    assert sent.texts()[-2:] == [texts.LEAD_PAUSED, texts.PRIVACY_EXPLAIN]
    await app.process_update(make_callback_update("privacy:confirm"))
    await app.update_persistence()

    stored = read_state_file(bot_settings.persistence_path)
    assert OWNER_ID not in stored["user_data"]
    assert OWNER_ID not in stored["chat_data"]
    assert (OWNER_ID, OWNER_ID) not in stored["conversations"].get("registration", {})
    assert user_ids_with_leads(db_engine) == []

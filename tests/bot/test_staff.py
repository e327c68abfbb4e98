"""Staff tools through the real Application: permissions, lead list, card, notes, export, stats."""

from __future__ import annotations

import csv
import io
import itertools
import logging
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from sqlmodel import select

from bot import texts
from bot.handlers.staff import parse_export_args
from bot.staff_store import PAGE_SIZE
from index.leads import answer_log, crud, lead_queries
from index.leads.db import session_scope
from index.leads.models import EventKind, Lead, LeadCreate, LeadEvent, LeadStatus
from tests.bot.conftest import ADMIN_ID, OWNER_ID, STAFF_ID

_phones = itertools.count(1)


def seed_lead(db_engine: Any, **overrides: Any) -> int:
    """Stores one valid lead through the CRUD API and returns its id."""
    data: dict[str, Any] = {
        "telegram_user_id": 5550001,
        "telegram_username": "chu_co_so",
        "full_name": "Nguyễn Văn An",
        "phone": f"+8491{next(_phones):07d}",
        "establishment_name": "Cơ sở mây tre đan Hòa Bình",
        "establishment_type": "Hộ kinh doanh",
        "sector": "Thủ công mỹ nghệ",
        "province": "Quảng Nam",
        "district": "Điện Bàn",
        "support_items": ["Máy móc thiết bị"],
        "question": "Có được hỗ trợ máy móc không?",
        "consent_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    status = overrides.pop("status", None)
    data.update(overrides)
    with session_scope(db_engine) as session:
        lead, created = crud.upsert_lead(session=session, lead_in=LeadCreate.model_validate(data))
        assert created and lead.id is not None
        if status is not None:
            crud.change_status(session=session, lead_id=lead.id, status=status, actor="seed")
        return lead.id


def events(db_engine: Any, lead_id: int) -> list[LeadEvent]:
    with session_scope(db_engine) as session:
        return lead_queries.list_events(session=session, lead_id=lead_id)


def lead_status(db_engine: Any, lead_id: int) -> LeadStatus:
    with session_scope(db_engine) as session:
        lead = session.exec(select(Lead).where(Lead.id == lead_id)).one()
        return LeadStatus(lead.status)


def lead_buttons(sent: Any) -> list[str]:
    return [data for data in sent.callback_data() if data.startswith("staff:lead:")]


# --- pure parsing ---------------------------------------------------------------------------


def test_export_args_are_parsed_loosely() -> None:
    query = parse_export_args(["new", "2026-01-01", "2026-12-31"])
    assert query.status is LeadStatus.new
    assert (query.since, query.until) == (
        datetime(2026, 1, 1).date(),
        datetime(2026, 12, 31).date(),
    )
    query = parse_export_args(["to", "2026-02-01"])
    assert query.status is None and query.since is None
    assert query.until == datetime(2026, 2, 1).date()
    # Vietnamese word order and dates as people write them, like the CLI's --since.
    query = parse_export_args(["đã", "liên", "hệ", "từ", "25/11/2026", "đến", "30/11/2026"])
    assert query.status is LeadStatus.contacted
    assert (query.since, query.until) == (
        datetime(2026, 11, 25).date(),
        datetime(2026, 11, 30).date(),
    )
    assert parse_export_args([]).status is None
    with pytest.raises(ValueError):
        parse_export_args(["bogus"])


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/leads", "/leads moi Quảng Nam", "/export", "/thongke"])
async def test_non_staff_commands_are_refused_and_logged(
    app, sent, db_engine, make_command_update, caplog, command
) -> None:
    seed_lead(db_engine, full_name="Bí Mật Khách Hàng")
    caplog.set_level(logging.WARNING, logger="bot.handlers.staff")

    await app.process_update(make_command_update(command, user_id=OWNER_ID))

    assert sent.texts() == [texts.STAFF_REFUSAL]
    assert not sent.of("sendDocument")
    assert "Bí Mật" not in sent.text()
    assert any(
        str(OWNER_ID) in record.getMessage() and command.split()[0] in record.getMessage()
        for record in caplog.records
    )


@pytest.mark.parametrize(
    "template", ["staff:page:0:-:-", "staff:lead:{id}", "staff:st:{id}:closed"]
)
async def test_non_staff_buttons_are_refused_and_change_nothing(
    app, sent, db_engine, make_callback_update, caplog, template
) -> None:
    lead_id = seed_lead(db_engine, full_name="Bí Mật Khách Hàng")
    caplog.set_level(logging.WARNING, logger="bot.handlers.staff")

    await app.process_update(make_callback_update(template.format(id=lead_id), user_id=OWNER_ID))

    assert sent.answered_callbacks() == [texts.STAFF_REFUSAL]
    assert not sent.of("sendMessage", "editMessageText")
    assert lead_status(db_engine, lead_id) is LeadStatus.new
    assert [e.kind for e in events(db_engine, lead_id)] == [EventKind.created]
    assert any(str(OWNER_ID) in record.getMessage() for record in caplog.records)


async def test_non_staff_cannot_start_the_note_conversation(
    app, sent, db_engine, make_callback_update, make_message_update, caplog
) -> None:
    lead_id = seed_lead(db_engine)
    caplog.set_level(logging.WARNING, logger="bot.handlers.staff")

    await app.process_update(make_callback_update(f"staff:note:{lead_id}", user_id=OWNER_ID))
    assert sent.answered_callbacks() == [texts.STAFF_REFUSAL]
    assert not sent.of("sendMessage", "editMessageText")
    assert any("staff:note" in record.getMessage() for record in caplog.records)

    # The next text is an ordinary question, not a note.
    await app.process_update(make_message_update("ghi chú giả mạo", user_id=OWNER_ID))
    assert [e.kind for e in events(db_engine, lead_id)] == [EventKind.created]


async def test_admins_may_use_staff_commands(app, sent, db_engine, make_command_update) -> None:
    seed_lead(db_engine)
    await app.process_update(make_command_update("/leads", user_id=ADMIN_ID))
    assert texts.STAFF_REFUSAL not in sent.texts()
    assert len(lead_buttons(sent)) == 1


# --- /leads ---------------------------------------------------------------------------------


async def test_leads_lists_and_paginates(
    app, sent, db_engine, make_command_update, make_callback_update
) -> None:
    ids = [seed_lead(db_engine, full_name=f"Chủ cơ sở {n}") for n in range(PAGE_SIZE + 2)]

    await app.process_update(make_command_update("/leads", user_id=STAFF_ID))

    (text,) = sent.texts()
    assert f"trên tổng số {PAGE_SIZE + 2}" in text
    first_page = lead_buttons(sent)
    assert len(first_page) == PAGE_SIZE
    # Newest first.
    assert first_page[0] == f"staff:lead:{ids[-1]}"
    assert (texts.STAFF_BUTTON_NEXT, f"staff:page:{PAGE_SIZE}:-:-") in sent.buttons()
    assert all(len(data.encode()) <= 64 for data in sent.callback_data())
    label = next(text for text, data in sent.buttons() if data == first_page[0])
    assert label == f"#{ids[-1]} Chủ cơ sở {PAGE_SIZE + 1} · Quảng Nam · Mới"

    sent.clear()
    await app.process_update(make_callback_update(f"staff:page:{PAGE_SIZE}:-:-", user_id=STAFF_ID))
    assert sent.of("editMessageText")
    assert lead_buttons(sent) == [f"staff:lead:{ids[1]}", f"staff:lead:{ids[0]}"]
    assert (texts.STAFF_BUTTON_PREV, "staff:page:0:-:-") in sent.buttons()


@pytest.mark.parametrize("argument", ["contacted", "da lien he", "Đã liên hệ"])
async def test_leads_filters_by_status(app, sent, db_engine, make_command_update, argument) -> None:
    contacted = seed_lead(db_engine, status=LeadStatus.contacted)
    seed_lead(db_engine)

    await app.process_update(make_command_update(f"/leads {argument}", user_id=STAFF_ID))

    assert lead_buttons(sent) == [f"staff:lead:{contacted}"]
    assert "Đã liên hệ" in sent.text()


@pytest.mark.parametrize("argument", ["quang nam", "Quảng Nam", "QUANG NAM"])
async def test_leads_filters_by_province_without_accents(
    app, sent, db_engine, make_command_update, argument
) -> None:
    quang_nam = seed_lead(db_engine, province="Quảng Nam")
    seed_lead(db_engine, province="Đồng Tháp")

    await app.process_update(make_command_update(f"/leads {argument}", user_id=STAFF_ID))

    assert lead_buttons(sent) == [f"staff:lead:{quang_nam}"]


async def test_leads_status_and_province_filters_survive_pagination(
    app, sent, db_engine, make_command_update, make_callback_update
) -> None:
    for _ in range(PAGE_SIZE + 1):
        seed_lead(db_engine, province="Thừa Thiên Huế")
    seed_lead(db_engine, province="Đồng Tháp")
    seed_lead(db_engine, province="Thừa Thiên Huế", status=LeadStatus.closed)

    await app.process_update(make_command_update("/leads moi thua thien hue", user_id=STAFF_ID))
    assert len(lead_buttons(sent)) == PAGE_SIZE
    (next_page,) = [data for text, data in sent.buttons() if text == texts.STAFF_BUTTON_NEXT]
    assert next_page is not None and next_page.startswith(f"staff:page:{PAGE_SIZE}:new:")

    sent.clear()
    await app.process_update(make_callback_update(next_page, user_id=STAFF_ID))
    assert len(lead_buttons(sent)) == 1
    assert f"trên tổng số {PAGE_SIZE + 1}" in sent.text()


async def test_leads_empty_and_unknown_province(app, sent, db_engine, make_command_update) -> None:
    await app.process_update(make_command_update("/leads", user_id=STAFF_ID))
    assert sent.texts() == [texts.STAFF_NO_LEADS]
    seed_lead(db_engine)
    sent.clear()
    await app.process_update(make_command_update("/leads Cà Mau", user_id=STAFF_ID))
    assert "Cà Mau" in sent.text()
    assert not lead_buttons(sent)


# --- card, status, note ----------------------------------------------------------------------


async def test_card_shows_escaped_fields_verdict_and_buttons(
    app, sent, db_engine, make_callback_update
) -> None:
    lead_id = seed_lead(
        db_engine,
        full_name="Trần <Thị> & Bình",
        support_items=["Máy móc thiết bị", "Đào tạo nghề"],
        eligibility_answers={"verdict": "likely_eligible", "reasons": []},
    )

    await app.process_update(make_callback_update(f"staff:lead:{lead_id}", user_id=STAFF_ID))

    (card,) = sent.texts()
    assert "Trần &lt;Thị&gt; &amp; Bình" in card
    assert "<Thị>" not in card
    assert "Máy móc thiết bị, Đào tạo nghề" in card
    assert texts.STAFF_VERDICT_LIKELY in card
    assert f"Hồ sơ #{lead_id}" in card
    data = sent.callback_data()
    for status in LeadStatus:
        assert f"staff:st:{lead_id}:{status.value}" in data
    assert f"staff:note:{lead_id}" in data
    assert "staff:page:0:-:-" in data
    assert ("✅ Mới", f"staff:st:{lead_id}:new") in sent.buttons()


async def test_status_change_records_actor_and_refreshes_card(
    app, sent, db_engine, make_callback_update
) -> None:
    lead_id = seed_lead(db_engine)

    await app.process_update(
        make_callback_update(f"staff:st:{lead_id}:contacted", user_id=STAFF_ID, username="canbo")
    )

    assert lead_status(db_engine, lead_id) is LeadStatus.contacted
    change = events(db_engine, lead_id)[-1]
    assert change.kind == EventKind.status
    assert (change.old_status, change.new_status) == (LeadStatus.new, LeadStatus.contacted)
    assert change.actor == f"tg:{STAFF_ID} @canbo"
    assert sent.answered_callbacks() == [texts.STAFF_STATUS_CHANGED.format(status="Đã liên hệ")]
    (card,) = sent.texts()
    assert "Đã liên hệ" in card and f"tg:{STAFF_ID} @canbo" in card
    assert ("✅ Đã liên hệ", f"staff:st:{lead_id}:contacted") in sent.buttons()

    sent.clear()
    await app.process_update(
        make_callback_update(f"staff:st:{lead_id}:contacted", user_id=STAFF_ID)
    )
    assert sent.answered_callbacks() == [texts.STAFF_STATUS_UNCHANGED]
    assert len(events(db_engine, lead_id)) == 2


async def test_note_conversation_stores_note(
    app, sent, db_engine, make_callback_update, make_message_update
) -> None:
    lead_id = seed_lead(db_engine)

    await app.process_update(
        make_callback_update(f"staff:note:{lead_id}", user_id=STAFF_ID, username="canbo")
    )
    assert sent.texts() == [texts.STAFF_NOTE_ASK.format(lead_id=lead_id)]

    sent.clear()
    await app.process_update(
        make_message_update("Đã gọi điện, hẹn khảo sát <tuần sau>", user_id=STAFF_ID)
    )
    note = events(db_engine, lead_id)[-1]
    assert note.kind == EventKind.note
    assert note.note == "Đã gọi điện, hẹn khảo sát <tuần sau>"
    assert note.actor == f"tg:{STAFF_ID} @owner"
    assert sent.texts()[0] == texts.STAFF_NOTE_SAVED.format(lead_id=lead_id)
    assert "hẹn khảo sát &lt;tuần sau&gt;" in sent.texts()[1]
    # The note was not also answered as a question.
    assert not sent.of("sendChatAction")

    # The conversation is over: the next text is a question again, not a second note.
    sent.clear()
    await app.process_update(make_message_update("Nghị định 45/2012", user_id=STAFF_ID))
    assert [e.kind for e in events(db_engine, lead_id)].count(EventKind.note) == 1


async def test_note_conversation_cancel(
    app, sent, db_engine, make_callback_update, make_message_update, make_command_update
) -> None:
    lead_id = seed_lead(db_engine)
    await app.process_update(make_callback_update(f"staff:note:{lead_id}", user_id=STAFF_ID))
    sent.clear()

    await app.process_update(make_command_update("/huy", user_id=STAFF_ID))
    assert sent.texts() == [texts.STAFF_NOTE_CANCELLED]

    await app.process_update(make_message_update("không phải ghi chú", user_id=STAFF_ID))
    assert EventKind.note not in [e.kind for e in events(db_engine, lead_id)]


# --- /export ------------------------------------------------------------------------------


async def test_export_sends_csv_and_xlsx(app, sent, db_engine, make_command_update) -> None:
    seed_lead(db_engine, full_name="Lê Thị Hồng Nhung", province="Bắc Ninh")
    seed_lead(db_engine, full_name="Phạm Đức Thắng", status=LeadStatus.closed)

    await app.process_update(make_command_update("/export", user_id=STAFF_ID))

    documents = sent.of("sendDocument")
    assert [call.params["document"].filename for call in documents] == ["leads.csv", "leads.xlsx"]
    raw_csv = documents[0].params["document"].content
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    body = "\n".join(",".join(row) for row in rows[1:])
    assert len(rows) == 3
    assert "Lê Thị Hồng Nhung" in body and "Bắc Ninh" in body and "Phạm Đức Thắng" in body

    workbook = openpyxl.load_workbook(io.BytesIO(documents[1].params["document"].content))
    values = [
        str(cell) for row in workbook.active.iter_rows(values_only=True) for cell in row if cell
    ]
    assert "Lê Thị Hồng Nhung" in values and "Phạm Đức Thắng" in values


async def test_export_filters_by_status_and_dates(
    app, sent, db_engine, make_command_update
) -> None:
    seed_lead(db_engine, full_name="Lê Thị Hồng Nhung")
    seed_lead(db_engine, full_name="Phạm Đức Thắng", status=LeadStatus.closed)
    year = datetime.now(UTC).year

    await app.process_update(
        make_command_update(f"/export new {year}-01-01 {year}-12-31", user_id=STAFF_ID)
    )
    raw_csv = sent.of("sendDocument")[0].params["document"].content.decode("utf-8-sig")
    assert "Lê Thị Hồng Nhung" in raw_csv and "Phạm Đức Thắng" not in raw_csv

    sent.clear()
    await app.process_update(make_command_update("/export 2001-01-01 2001-12-31", user_id=STAFF_ID))
    assert not sent.of("sendDocument")
    assert sent.texts() == [texts.STAFF_EXPORT_EMPTY]

    sent.clear()
    await app.process_update(make_command_update("/export xyz", user_id=STAFF_ID))
    assert sent.texts() == [texts.STAFF_EXPORT_BAD_ARGS]


# --- /thongke -----------------------------------------------------------------------------


async def test_stats_shows_leads_and_questions(app, sent, db_engine, make_command_update) -> None:
    seed_lead(db_engine, province="Quảng Nam", support_items=["Đào tạo nghề"])
    seed_lead(db_engine, province="Đồng Tháp", status=LeadStatus.contacted)
    with session_scope(db_engine) as session:
        for question, confident in [
            ("Giá vé máy bay?", False),
            ("Giá vé máy bay?", False),
            ("Nghị định 45?", True),
        ]:
            answer_log.log_question(
                session=session,
                telegram_user_id=1,
                question=question,
                confident=confident,
                chunk_ids=[],
                latency_ms=1.0,
            )

    await app.process_update(make_command_update("/thongke", user_id=STAFF_ID))

    (text,) = sent.texts()
    # Quảng Nam is part of Đà Nẵng since 2025 (Nghị quyết 202/2025/QH15); the name typed stays.
    assert "Đà Nẵng (Quảng Nam cũ): <b>1</b>" in text and "Đồng Tháp: <b>1</b>" in text
    assert "Mới: <b>1</b>" in text and "Đã liên hệ: <b>1</b>" in text
    assert "Đào tạo nghề: <b>1</b>" in text
    assert "<b>33%</b> (3 câu hỏi)" in text
    assert "giá vé máy bay" in text.lower() and "(2)" in text


async def test_leads_province_with_hyphen_matches_loosely(
    app, sent, db_engine, make_command_update
) -> None:
    lead_id = seed_lead(db_engine, province="Bà Rịa - Vũng Tàu")
    seed_lead(db_engine, province="Quảng Nam")

    await app.process_update(make_command_update("/leads ba ria vung tau", user_id=STAFF_ID))

    assert lead_buttons(sent) == [f"staff:lead:{lead_id}"]


async def test_conversations_are_persistent_when_the_app_persists(
    bot_settings, bot_engine, db_engine, recording
) -> None:
    from telegram.ext import ConversationHandler

    from bot.app import build_application
    from bot.conversations import CONVERSATION_GROUP

    application = build_application(
        bot_settings, engine=bot_engine, db_engine=db_engine, request=recording, persistence=True
    )
    conversations = {
        handler.name: handler
        for handler in application.handlers[CONVERSATION_GROUP]
        if isinstance(handler, ConversationHandler)
    }
    names = ("staff_note", "admin_upload", "admin_status", "registration")
    assert set(conversations) >= set(names)
    assert all(conversations[name].persistent for name in names)
    # The ones that hold a draft end by themselves (Settings.conversation_timeout_minutes).
    assert all(
        conversations[name].conversation_timeout == bot_settings.conversation_timeout_minutes * 60
        for name in names
    )

"""/dangky through the real Application: steps, validation, consent, commit-then-tell, restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import texts
from index.criteria import load_criteria
from index.leads import crud
from index.leads.db import session_scope
from index.leads.models import NAME_MAX, Lead
from tests.bot.conftest import OWNER_ID, STAFF_CHAT_ID, RecordingRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
CRITERIA = load_criteria(REPO_ROOT / "knowledge" / "criteria.yaml")
SUPPORT_LABELS = [item.label for item in CRITERIA.support_items]
TYPE_LABELS = [option.label for option in CRITERIA.beneficiary_types]
PROVINCES = [p.label for p in CRITERIA.provinces if not p.is_other]

Step = Callable[[], Awaitable[None]]


@pytest.fixture(autouse=True)
def only_inline_markup_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the recording request echo reply_markup like Telegram: inline keyboards only.

    Telegram never returns a reply keyboard (request_contact) or ReplyKeyboardRemove inside
    the sent Message, and PTB cannot parse one there.
    """
    original = RecordingRequest._message

    def message(self: RecordingRequest, params: dict[str, Any]) -> dict[str, Any]:
        result = original(self, params)
        markup = result.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" not in markup:
            del result["reply_markup"]
        return result

    monkeypatch.setattr(RecordingRequest, "_message", message)


def leads_in(db_engine: Any) -> list[Lead]:
    with session_scope(db_engine) as session:
        return list(session.exec(select(Lead)).all())


def saved_texts(sent: Any) -> list[str]:
    return [
        text
        for text in sent.texts()
        if text.startswith("✅ Đã lưu") or text.startswith("✅ Đã cập nhật")
    ]


@pytest.fixture
def bot(app, make_command_update, make_message_update, make_callback_update, make_contact_update):
    """Small driver: command / text / press / contact as the owner."""

    class Driver:
        async def command(self, text: str, user_id: int = OWNER_ID) -> None:
            await app.process_update(make_command_update(text, user_id=user_id))

        async def text(self, text: str, user_id: int = OWNER_ID) -> None:
            await app.process_update(make_message_update(text, user_id=user_id))

        async def press(self, data: str, user_id: int = OWNER_ID) -> None:
            await app.process_update(make_callback_update(data, user_id=user_id))

        async def contact(self, phone: str, **kwargs: Any) -> None:
            await app.process_update(make_contact_update(phone, **kwargs))

        async def until_summary(
            self, *, name: str = "Nguyễn Văn An", phone: str = "0912 345 678", sup: int = 1
        ) -> None:
            await self.command("/dangky")
            await self.text(name)
            await self.text(phone)
            await self.text("Cơ sở mây tre đan Phú Vinh")
            await self.press("lead:type:3")
            await self.press("lead:prov:0")
            await self.press("lead:district:skip")
            await self.press(f"lead:sup:{sup}")
            await self.press("lead:sup:done")
            await self.press("lead:consent:yes")

    return Driver()


async def test_full_registration_commits_before_telling_the_user(
    bot, sent, db_engine, monkeypatch
) -> None:
    real_upsert = crud.upsert_lead
    seen_at_commit: list[int] = []

    def spy(**kwargs: Any) -> Any:
        result = real_upsert(**kwargs)
        seen_at_commit.append(len(saved_texts(sent)))
        return result

    monkeypatch.setattr(crud, "upsert_lead", spy)
    await bot.command("/dangky")
    assert sent.texts()[-1] == texts.LEAD_ASK_NAME
    await bot.text("Nguyễn Văn An")
    phone_prompt = sent[-1].params
    assert phone_prompt["text"] == texts.LEAD_ASK_PHONE
    assert phone_prompt["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await bot.text("0912 345 678")
    assert sent.of("sendMessage")[-2].params["reply_markup"] == {"remove_keyboard": True}
    await bot.text("Cơ sở mây tre đan Phú Vinh")
    assert sent.texts()[-1] == texts.LEAD_ASK_TYPE
    assert sent.callback_data()[-len(TYPE_LABELS) :] == [
        f"lead:type:{i}" for i in range(len(TYPE_LABELS))
    ]
    await bot.press("lead:type:3")
    await bot.press("lead:prov:other")
    assert sent.texts()[-1] == texts.LEAD_ASK_PROVINCE_TEXT
    await bot.text("Hà Nội")
    assert sent.texts()[-1] == texts.LEAD_ASK_DISTRICT
    await bot.text("Xã Phú Nghĩa")
    await bot.press("lead:sup:1")
    await bot.press("lead:sup:0")
    await bot.press("lead:sup:done")
    assert sent.texts()[-1] == texts.LEAD_ASK_CONSENT
    assert "13/2023/NĐ-CP" in texts.LEAD_ASK_CONSENT and "/xoadulieu" in texts.LEAD_ASK_CONSENT
    await bot.press("lead:consent:yes")
    summary = sent.texts()[-1]
    assert "Nguyễn Văn An" in summary and "+84912345678" in summary and "Hà Nội" in summary
    assert sent.callback_data()[-2:] == ["lead:confirm", "lead:edit"]
    assert leads_in(db_engine) == []

    await bot.press("lead:confirm")

    assert seen_at_commit == [0]  # nothing said before the commit
    assert len(saved_texts(sent)) == 1
    (lead,) = leads_in(db_engine)
    assert lead.phone == "+84912345678"
    assert lead.consent_at is not None
    assert lead.full_name == "Nguyễn Văn An"
    assert lead.telegram_user_id == OWNER_ID
    assert lead.establishment_type == TYPE_LABELS[3]
    assert lead.province == "Hà Nội" and lead.district == "Xã Phú Nghĩa"
    assert lead.support_items == [SUPPORT_LABELS[1], SUPPORT_LABELS[0]]
    assert str(lead.id) in saved_texts(sent)[0]


async def test_staff_chat_is_told_from_the_outbox_never_in_the_users_turn(
    app, bot, sent, db_engine
) -> None:
    from bot.handlers.announcements import drain_outbox
    from index.leads import outbox
    from index.leads.models import AnnouncementState

    await bot.until_summary()
    sent.clear()
    await bot.press("lead:confirm")
    chats = [call.params.get("chat_id") for call in sent.of("sendMessage")]
    assert chats == [OWNER_ID]
    with session_scope(db_engine) as session:
        pending = outbox.count_announcements(session=session, state=AnnouncementState.pending)
    assert pending == 1

    assert await drain_outbox(app.bot, db_engine, app.bot_data.settings) == 1
    (lead,) = leads_in(db_engine)
    staff = [c for c in sent.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT_ID]
    assert len(staff) == 1 and f"#{lead.id}" in staff[0].params["text"]


async def test_invalid_phone_is_asked_again_with_an_example(bot, sent) -> None:
    await bot.command("/dangky")
    await bot.text("Trần Thị Bình")
    await bot.text("12345")
    assert sent.texts()[-1] == texts.LEAD_BAD_PHONE
    assert "0912 345 678" in texts.LEAD_BAD_PHONE
    await bot.text("+84 912 345 678")
    assert sent.texts()[-1] == texts.LEAD_ASK_ESTABLISHMENT


@pytest.mark.parametrize("contact_user_id", [OWNER_ID, 999])
async def test_shared_contact_is_accepted(bot, sent, contact_user_id: int) -> None:
    await bot.command("/dangky")
    await bot.text("Trần Thị Bình")
    await bot.contact("84987654321", contact_user_id=contact_user_id)
    assert "+84987654321" in sent.texts()[-2]
    assert sent.texts()[-1] == texts.LEAD_ASK_ESTABLISHMENT


async def test_no_consent_stores_nothing(bot, sent, app, db_engine) -> None:
    await bot.command("/dangky")
    await bot.text("Lê Văn Cường")
    await bot.text("0987654321")
    await bot.text("Xưởng cơ khí Cường")
    await bot.press("lead:type:0")
    await bot.press("lead:prov:1")
    await bot.press("lead:district:skip")
    await bot.press("lead:sup:u")
    await bot.press("lead:consent:no")
    assert sent.texts()[-1] == texts.LEAD_NO_CONSENT
    assert leads_in(db_engine) == []
    assert "lead_draft" not in app.user_data[OWNER_ID]


async def test_same_phone_and_need_updates_the_open_lead(bot, sent, db_engine) -> None:
    await bot.until_summary(name="Phạm Thị Dung")
    await bot.press("lead:confirm")
    await bot.until_summary(name="Phạm Thị Dung (sửa)")
    await bot.press("lead:confirm")

    (lead,) = leads_in(db_engine)
    assert lead.full_name == "Phạm Thị Dung (sửa)"
    first, second = saved_texts(sent)
    assert first.startswith("✅ Đã lưu") and second.startswith("✅ Đã cập nhật")


CANCEL_STEPS = [
    "name",
    "phone",
    "establishment",
    "type",
    "province",
    "district",
    "support",
    "consent",
    "confirm",
    "edit",
]


@pytest.mark.parametrize("step", CANCEL_STEPS)
async def test_huy_cancels_at_every_step(bot, sent, app, db_engine, step: str) -> None:
    answers: list[tuple[str, str]] = [
        ("text", "Võ Văn Em"),
        ("text", "0912345678"),
        ("text", "HTX Em"),
        ("press", "lead:type:1"),
        ("press", "lead:prov:2"),
        ("press", "lead:district:skip"),
        ("press", "lead:sup:u"),
        ("press", "lead:consent:yes"),
        ("press", "lead:edit"),
    ]
    await bot.command("/dangky")
    for kind, value in answers[: CANCEL_STEPS.index(step)]:
        await getattr(bot, kind)(value)

    await bot.command("/huy")

    assert sent.texts()[-1] == texts.LEAD_CANCELLED
    assert sent[-1].params["reply_markup"] == {"remove_keyboard": True}
    assert "lead_draft" not in app.user_data[OWNER_ID]
    await bot.command("/huy")  # nothing is running any more
    assert sent.texts()[-1] == texts.LEAD_NOTHING_TO_CANCEL
    assert leads_in(db_engine) == []


async def test_double_tap_on_confirm_saves_once(bot, sent, db_engine) -> None:
    await bot.until_summary()
    await bot.press("lead:confirm")
    await bot.press("lead:confirm")

    assert len(leads_in(db_engine)) == 1
    assert len(saved_texts(sent)) == 1
    assert sent.answered_callbacks()[-1] == texts.LEAD_ALREADY_SAVED


async def test_confirm_tapped_while_saving_is_acknowledged(bot, sent, app, db_engine) -> None:
    await bot.until_summary()
    # As if the first tap were still being committed when the second one arrives.
    app.user_data[OWNER_ID]["lead_submitting"] = True
    await bot.press("lead:confirm")
    assert sent.answered_callbacks()[-1] == texts.LEAD_ALREADY_SAVED
    assert leads_in(db_engine) == []


async def test_kiemtra_in_the_middle_pauses_registration_and_starts_the_check(
    bot, sent, app
) -> None:
    await bot.command("/dangky")
    await bot.text("Đỗ Văn Giang")
    sent.clear()

    await bot.command("/kiemtra")

    assert sent.texts() == [texts.LEAD_PAUSED, texts.ELIG_STEP_TYPE]
    assert "lead_draft" not in app.user_data[OWNER_ID]
    await bot.press("elig:type:u")  # the check conversation really is running
    assert sent.texts()[-1] == texts.ELIG_STEP_AREA


async def test_start_in_the_middle_ends_registration_and_shows_the_menu(bot, sent) -> None:
    await bot.command("/dangky")
    sent.clear()
    await bot.command("/start")
    assert sent.texts()[0] == texts.LEAD_PAUSED
    assert "menu:register" in sent.callback_data()


async def test_summary_escapes_html(bot, sent) -> None:
    await bot.until_summary(name="<b>An & Co</b>")
    summary = sent.texts()[-1]
    assert "&lt;b&gt;An &amp; Co&lt;/b&gt;" in summary
    assert "<b>An" not in summary


async def test_non_text_and_long_input_are_asked_again(bot, sent, app, make_media_update) -> None:
    await bot.command("/dangky")
    await app.process_update(make_media_update("sticker"))
    assert texts.LEAD_TEXT_ONLY in sent.texts()[-1]
    assert texts.LEAD_ASK_NAME in sent.texts()[-1]
    await bot.text("A" * (NAME_MAX + 1))
    assert sent.texts()[-1] == texts.LEAD_TOO_LONG.format(limit=NAME_MAX)
    await bot.text("Hoàng Văn Hải")
    assert sent.texts()[-1] == texts.LEAD_ASK_PHONE


async def test_edit_changes_a_field_and_returns_to_the_summary(bot, sent, db_engine) -> None:
    await bot.until_summary(name="Tên cũ")
    await bot.press("lead:edit")
    assert "lead:edit:name" in sent.callback_data()
    await bot.press("lead:edit:name")
    assert sent.texts()[-1] == texts.LEAD_ASK_NAME
    await bot.text("Tên mới")
    assert "Tên mới" in sent.texts()[-1] and "Vui lòng kiểm tra" in sent.texts()[-1]
    await bot.press("lead:confirm")
    assert leads_in(db_engine)[0].full_name == "Tên mới"


async def test_database_failure_is_not_reported_as_saved(bot, sent, db_engine, monkeypatch) -> None:
    def broken(**kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO leads", {}, Exception("no such table: leads"))

    await bot.until_summary()
    monkeypatch.setattr(crud, "upsert_lead", broken)
    await bot.press("lead:confirm")
    assert sent.texts()[-1] == texts.LEAD_NOT_SAVED
    assert saved_texts(sent) == []
    assert "no such table" not in sent.text()

    monkeypatch.undo()  # the database is back: the same button now saves
    await bot.press("lead:confirm")
    assert len(saved_texts(sent)) == 1
    assert len(leads_in(db_engine)) == 1


async def test_prefill_from_eligibility_and_last_question(bot, sent, app, db_engine) -> None:
    types = [o.id for o in CRITERIA.beneficiary_types]
    areas = [o.id for o in CRITERIA.area_rules]
    sectors = [o.id for o in CRITERIA.sectors]
    items = [o.id for o in CRITERIA.support_items]
    provinces = [o.id for o in CRITERIA.provinces]
    app.user_data[OWNER_ID]["last_question"] = "Hỗ trợ máy móc bao nhiêu?"
    await bot.command("/kiemtra")
    await bot.press(f"elig:type:{types.index('ho_kinh_doanh')}")
    await bot.press(f"elig:area:{areas.index('xa_thi_tran_huyen_thi_xa')}")
    await bot.press(f"elig:sector:{sectors.index('che_bien_nong_lam_thuy_san')}")
    await bot.press(f"elig:support:{items.index('may_moc_thiet_bi')}")
    await bot.press("elig:support:done")
    await bot.press(f"elig:province:{provinces.index('quang_nam')}")
    sent.clear()

    await bot.press("lead:start")
    assert texts.LEAD_FIELD_TYPE in sent.texts()[0] and texts.LEAD_FIELD_PROVINCE in sent.texts()[0]
    await bot.text("Lý Thị Kim")
    await bot.text("0912000111")
    await bot.text("Cơ sở chế biến Kim")
    assert sent.texts()[-1] == texts.LEAD_ASK_DISTRICT  # type and province were skipped
    await bot.press("lead:district:skip")
    assert sent.texts()[-1] == texts.LEAD_ASK_CONSENT  # support was skipped
    await bot.press("lead:consent:yes")
    assert "Quảng Nam" in sent.texts()[-1] and "Hộ kinh doanh" in sent.texts()[-1]
    await bot.press("lead:confirm")

    (lead,) = leads_in(db_engine)
    assert lead.establishment_type == "Hộ kinh doanh"
    assert lead.province == "Quảng Nam"
    assert lead.support_items == [CRITERIA.support_items[items.index("may_moc_thiet_bi")].label]
    assert lead.eligibility_answers["verdict"] == "likely_eligible"
    assert lead.sector == CRITERIA.sectors[sectors.index("che_bien_nong_lam_thuy_san")].label
    assert lead.question == "Hỗ trợ máy móc bao nhiêu?"


async def test_stale_registration_button_is_answered(bot, sent) -> None:
    await bot.press("lead:consent:yes")
    assert sent.answered_callbacks() == [texts.LEAD_STALE]


async def test_menu_button_starts_and_old_buttons_keep_the_step(bot, sent) -> None:
    await bot.press("menu:register")
    assert sent.texts()[-1] == texts.LEAD_ASK_NAME
    await bot.press("lead:consent:yes")  # a button of another message, at the name step
    assert sent.answered_callbacks()[-1] == texts.LEAD_USE_BUTTONS
    await bot.text("Mai Văn Nam")
    assert sent.texts()[-1] == texts.LEAD_ASK_PHONE


def _rebind(update: Any, application: Any) -> Any:
    for obj in (update, update.message, update.callback_query):
        if obj is not None:
            obj.set_bot(application.bot)
    if update.callback_query is not None and update.callback_query.message is not None:
        update.callback_query.message.set_bot(application.bot)
    return update


async def test_registration_survives_a_restart(
    bot_settings,
    bot_engine,
    db_engine,
    recording,
    sent,
    make_command_update,
    make_message_update,
    make_callback_update,
) -> None:
    from bot.app import build_application

    def build() -> Any:
        return build_application(
            bot_settings,
            engine=bot_engine,
            db_engine=db_engine,
            request=recording,
            persistence=True,
        )

    first = build()
    async with first:
        await first.job_queue.start()  # as run_polling does; the conversation has a timeout
        for update in (
            make_command_update("/dangky"),
            make_message_update("Bùi Văn Long"),
            make_message_update("0912 888 999"),
        ):
            await first.process_update(_rebind(update, first))
        await first.job_queue.stop(wait=False)
    assert sent.texts()[-1] == texts.LEAD_ASK_ESTABLISHMENT
    assert bot_settings.persistence_path.exists()

    second = build()
    async with second:
        await second.job_queue.start()
        steps = [
            make_message_update("Xưởng gỗ Long"),
            make_callback_update("lead:type:0"),
            make_callback_update("lead:prov:0"),
            make_callback_update("lead:district:skip"),
            make_callback_update("lead:sup:0"),
            make_callback_update("lead:sup:done"),
            make_callback_update("lead:consent:yes"),
            make_callback_update("lead:confirm"),
        ]
        await second.process_update(_rebind(steps[0], second))
        assert sent.texts()[-1] == texts.LEAD_ASK_TYPE  # same step as before the restart
        for update in steps[1:]:
            await second.process_update(_rebind(update, second))
        await second.job_queue.stop(wait=False)

    (lead,) = leads_in(db_engine)
    assert lead.full_name == "Bùi Văn Long"
    assert lead.phone == "+84912888999"
    assert lead.establishment_name == "Xưởng gỗ Long"


async def test_edited_answer_does_not_count_as_the_next_one(
    bot, sent, app, make_edited_message_update
) -> None:
    await bot.command("/dangky")
    await bot.text("Tên ban đầu")
    await app.process_update(make_edited_message_update("Tên đã sửa"))
    assert app.user_data[OWNER_ID]["lead_draft"].phone is None
    assert texts.LEAD_BAD_PHONE not in sent.texts()
    await bot.text("0912345678")
    assert sent.texts()[-1] == texts.LEAD_ASK_ESTABLISHMENT


def _conversation(app: Any, name: str) -> Any:
    from telegram.ext import ConversationHandler

    return next(
        handler
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, ConversationHandler) and handler.name == name
    )


async def _stored_user_data(bot_settings: Any) -> dict[int, Any]:
    """What the state file holds, read back from the file (like a restart)."""
    return _stored(bot_settings)["user_data"]


def _stored(bot_settings: Any) -> dict[str, Any]:
    from bot.persistence import read_state_file

    return read_state_file(bot_settings.persistence_path)


@pytest.mark.persistent
@pytest.mark.job_queue
async def test_abandoned_registration_times_out_and_its_draft_is_deleted(
    app, bot, sent, bot_settings, bot_engine
) -> None:
    await bot.command("/dangky")
    await bot.text("Bùi Văn Long")
    await bot.text("0912 888 999")
    await app.update_persistence()
    draft = (await _stored_user_data(bot_settings))[OWNER_ID]["lead_draft"]
    assert draft.phone == "+84912888999"  # the name and phone are in the state file now

    registration = _conversation(app, "registration")
    assert registration.conversation_timeout == bot_settings.conversation_timeout_minutes * 60
    job = registration.timeout_jobs[(OWNER_ID, OWNER_ID)]
    await job.run(app)  # what the job queue does after 30 quiet minutes

    assert sent.texts()[-1] == texts.LEAD_TIMED_OUT
    assert "lead_draft" not in app.user_data[OWNER_ID]
    await app.update_persistence()
    assert "lead_draft" not in (await _stored_user_data(bot_settings)).get(OWNER_ID, {})
    assert (OWNER_ID, OWNER_ID) not in _stored(bot_settings)["conversations"].get(
        "registration", {}
    )
    # The conversation is over: the next text is a question, not the establishment's name.
    await bot.text("Xưởng gỗ Long")
    assert bot_engine.questions == ["Xưởng gỗ Long"]


@pytest.mark.job_queue
async def test_a_timeout_is_scheduled_again_after_every_answer(app, bot) -> None:
    registration = _conversation(app, "registration")
    await bot.command("/dangky")
    first = registration.timeout_jobs[(OWNER_ID, OWNER_ID)]
    await bot.text("Bùi Văn Long")
    second = registration.timeout_jobs[(OWNER_ID, OWNER_ID)]
    assert second is not first  # the clock restarts: only silence ends a registration
    await bot.command("/huy")
    assert (OWNER_ID, OWNER_ID) not in registration.timeout_jobs


@pytest.mark.persistent
@pytest.mark.job_queue
async def test_drafts_a_restart_left_without_a_timeout_are_swept(
    app, bot, sent, bot_settings
) -> None:
    from datetime import UTC, datetime, timedelta

    await bot.command("/dangky")
    await bot.text("Bùi Văn Long")
    await bot.command("/dangky", user_id=222)
    old = app.user_data[OWNER_ID]["lead_draft"]
    old.touched_at = datetime.now(UTC) - timedelta(minutes=31)  # as if left before a restart
    (job,) = app.job_queue.get_jobs_by_name("draft-sweep")

    await job.run(app)

    assert "lead_draft" not in app.user_data[OWNER_ID]
    assert app.user_data[222]["lead_draft"].next_missing() == "full_name"  # still fresh
    await app.update_persistence()
    stored = await _stored_user_data(bot_settings)
    assert "lead_draft" not in stored.get(OWNER_ID, {}) and "lead_draft" in stored[222]

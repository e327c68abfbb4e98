"""The answer always gets through: cosmetic calls that fail, captions, a broken database."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, PhotoSize, Update, User
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot import texts
from index.leads import writer as writer_module
from index.leads.db import create_db_engine
from index.leads.writer import ATTEMPTS, BackgroundWriter, writer_for
from index.schema import Answer, Citation
from tests.bot.conftest import ADMIN_ID, OWNER_ID, StubEngine

ANSWER_TEXT = "Cơ sở công nghiệp nông thôn được hỗ trợ máy móc thiết bị."
COSMETIC_FAILURES = [RetryAfter(5), TimedOut("slow"), NetworkError("reset"), BadRequest("old")]
_ids = itertools.count(70_000)


class AnsweringEngine(StubEngine):
    """Answers every question confidently with one fixed text, recording the questions."""

    version = "fixed"

    def answer(self, question: str, **kwargs: Any) -> Answer:
        refused = super().answer(question, **kwargs)
        return replace(
            refused,
            text=ANSWER_TEXT,
            confident=True,
            reason=None,
            outcome="answered",
            citations=[Citation(title="Nghị định về khuyến công", number="235/2025/NĐ-CP")],
        )


@pytest.fixture
def answering(app: Any) -> AnsweringEngine:
    engine = AnsweringEngine()
    app.bot_data.engine = engine
    return engine


@pytest.fixture
def broken_db(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A database that refuses every connection (a directory where the file should be).

    Its background writer is the production one with every retry kept but no pause
    between attempts (the default pauses 0.5 s and 1 s per write: 3 s of waiting here).
    """
    path = tmp_path / "gone" / "leads.db"
    path.mkdir(parents=True)
    engine = create_db_engine(f"sqlite:///{path}")
    writer = BackgroundWriter(engine, backoff=0.0)
    monkeypatch.setitem(writer_module._writers, id(engine), writer)
    app.bot_data.db = engine
    yield engine
    writer.close()
    engine.dispose()


def photo_update(app: Any, caption: str | None, *, user_id: int = OWNER_ID) -> Update:
    user = User(id=user_id, is_bot=False, first_name="An")
    message = Message(
        message_id=next(_ids),
        date=dt.datetime.now(dt.UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE, first_name="An"),
        from_user=user,
        photo=[PhotoSize(file_id="ph", file_unique_id="u-ph", width=90, height=90)],
        caption=caption,
    )
    update = Update(update_id=next(_ids), message=message)
    update.set_bot(app.bot)
    message.set_bot(app.bot)
    return update


def answers(sent: Any) -> list[str]:
    return [text for text in sent.texts() if ANSWER_TEXT in text]


# --- 4. cosmetic calls ----------------------------------------------------------------------


@pytest.mark.parametrize("failure", COSMETIC_FAILURES, ids=type)
async def test_a_failing_typing_indicator_never_costs_the_answer(
    app, sent, recording, answering, make_message_update, failure, caplog
) -> None:
    recording.fail_methods["sendChatAction"] = failure

    with caplog.at_level(logging.INFO):
        await app.process_update(make_message_update("Được hỗ trợ những gì?"))

    assert "sendChatAction" in sent.methods()
    assert len(answers(sent)) == 1
    assert texts.ERROR_REPLY not in sent.text()
    assert "Ignored a failed sendChatAction" in caplog.text


@pytest.mark.parametrize("failure", COSMETIC_FAILURES, ids=type)
async def test_a_failing_callback_answer_never_costs_the_reply(
    app, sent, recording, answering, make_message_update, make_callback_update, failure
) -> None:
    await app.process_update(make_message_update("Được hỗ trợ những gì?"))
    answer_id = sent.message_ids()[-1]
    recording.fail_methods["answerCallbackQuery"] = failure
    sent.clear()

    await app.process_update(make_callback_update("menu:help"))
    await app.process_update(make_callback_update("ask:fb:up", message_id=answer_id))
    await app.process_update(make_callback_update("lead:start"))

    assert texts.ERROR_REPLY not in sent.text()
    assert texts.HELP in sent.texts()
    assert texts.LEAD_ASK_NAME in sent.text()


#: Seconds a slow answer waits at most for the indicator (a hang guard, not a timing).
INDICATOR_GUARD_S = 30.0


class SlowEngine(AnsweringEngine):
    """Answers only once the typing indicator went out (or the hang guard ran out).

    Waiting for the indicator instead of sleeping a fixed second: the answer is as late as
    needed for the indicator to be due, and no later.
    """

    def __init__(self, sent: Any) -> None:
        super().__init__()
        self.sent = sent

    def answer(self, question: str, **kwargs: Any) -> Answer:
        deadline = time.monotonic() + INDICATOR_GUARD_S
        while "sendChatAction" not in self.sent.methods() and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().answer(question, **kwargs)


@pytest.mark.parametrize(("delay", "typing"), [(30.0, False), (0.05, True)])
async def test_the_typing_indicator_is_shown_only_for_a_slow_answer(
    app, sent, make_message_update, delay, typing
) -> None:
    app.bot_data.settings = app.bot_data.settings.model_copy(
        update={"typing_indicator_delay_seconds": delay}
    )
    app.bot_data.engine = SlowEngine(sent) if typing else AnsweringEngine()

    await app.process_update(make_message_update("Được hỗ trợ những gì?"))

    assert len(answers(sent)) == 1
    assert ("sendChatAction" in sent.methods()) is typing
    if typing:
        assert sent.methods().index("sendChatAction") < sent.methods().index("sendMessage")


# --- 5. captions ----------------------------------------------------------------------------


async def test_a_question_in_a_photo_caption_is_answered(app, sent, answering) -> None:
    await app.process_update(photo_update(app, "Ảnh giấy phép: được hỗ trợ những gì?"))
    assert answering.questions == ["Ảnh giấy phép: được hỗ trợ những gì?"]
    assert len(answers(sent)) == 1


async def test_a_photo_without_caption_still_gets_the_media_note(app, sent, answering) -> None:
    await app.process_update(photo_update(app, None))
    assert answering.questions == []
    assert sent.texts() == [texts.UNSUPPORTED_MEDIA]


async def test_a_document_caption_from_an_owner_is_answered(
    app, sent, answering, make_document_update
) -> None:
    update = make_document_update(
        "giay-to.pdf", "application/pdf", "f1", user_id=OWNER_ID, caption="Hồ sơ cần gì?"
    )
    await app.process_update(update)
    assert answering.questions == ["Hồ sơ cần gì?"]
    assert len(answers(sent)) == 1


async def test_an_admins_captioned_document_is_an_upload_not_a_question(
    app, sent, recording, answering, make_document_update
) -> None:
    recording.files["up1"] = b"%PDF-1.4 not really"
    update = make_document_update(
        "nghi-dinh.pdf", "application/pdf", "up1", user_id=ADMIN_ID, caption="Nghị định mới"
    )
    await app.process_update(update)
    assert answering.questions == []
    assert answers(sent) == []


# --- 6. question log and rating with the database down --------------------------------------


async def test_with_the_database_down_the_answer_and_the_rating_still_go_through(
    app, sent, answering, broken_db, make_message_update, make_callback_update, caplog
) -> None:
    await app.process_update(make_message_update("Được hỗ trợ những gì?"))
    assert len(answers(sent)) == 1
    answer_id = sent.message_ids()[-1]
    sent.clear()

    await app.process_update(make_callback_update("ask:fb:up", message_id=answer_id))

    assert sent.answered_callbacks() == [texts.FEEDBACK_THANKS]
    assert texts.ERROR_REPLY not in sent.text()
    # Both writes were tried in the background, failed, and were logged without content.
    writer = writer_for(broken_db)
    with caplog.at_level(logging.WARNING):
        assert writer.flush(timeout=30)
    assert writer.failed == 2 and writer.written == 0
    assert writer.attempts == ATTEMPTS  # every retry was made, only the pauses were skipped
    assert "Được hỗ trợ" not in caplog.text


async def test_without_a_database_the_rating_gets_a_polite_note(
    app, sent, answering, make_message_update, make_callback_update
) -> None:
    await app.process_update(make_message_update("Được hỗ trợ những gì?"))
    answer_id = sent.message_ids()[-1]
    app.bot_data.db = None
    sent.clear()

    await app.process_update(make_callback_update("ask:fb:up", message_id=answer_id))

    assert sent.answered_callbacks() == [texts.FEEDBACK_NOT_SAVED]
    assert texts.ERROR_REPLY not in sent.text()

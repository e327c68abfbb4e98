"""One end-to-end run: the real bot, polling a fake Bot API server on 127.0.0.1.

The bot runs `Application.run_polling` (in a thread, without signal handlers) against the
loopback fake of `scripts.fake_bot_api`. The test feeds updates the way Telegram would and
asserts on what the bot sent and on the lead stored in the database.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from index.leads.db import create_db_engine, session_scope
from index.settings import Settings
from scripts.fake_bot_api import ApiCall, FakeBotApi

from .conftest import STAFF_CHAT_ID
from .live_bot import live_bot

pytestmark = pytest.mark.real_engine

USER = {"id": 111, "is_bot": False, "first_name": "An", "username": "owner", "language_code": "vi"}
CHAT = {"id": 111, "type": "private", "first_name": "An", "username": "owner"}
STEP_TIMEOUT = 15.0
Calls = list[ApiCall]


class Driver:
    """Plays the user: sends updates and waits until the bot has finished processing each.

    "Finished" is the bot's own signal: the update processor's done callback for that
    update (every reply of a handler is sent before its update is done), not a quiet period.
    """

    def __init__(self, api: FakeBotApi, app: Any) -> None:
        self.api = api
        self.seen = 0
        self.cq_ids = itertools.count(1)
        self.msg_ids = itertools.count(1)
        self._done: set[int] = set()
        self._cond = threading.Condition()
        app.update_processor.add_done_callback(self._on_done)

    def _on_done(self, update: Any) -> None:
        with self._cond:
            self._done.add(update.update_id)
            self._cond.notify_all()

    def _wait_for_reply(self, update_id: int) -> Calls:
        with self._cond:
            processed = self._cond.wait_for(lambda: update_id in self._done, STEP_TIMEOUT)
        assert processed, f"the bot did not process update {update_id} in time"
        new = self.api.calls[self.seen :]
        self.seen = len(self.api.calls)
        assert new, "the bot did not reply in time"
        return new

    def text(self, text: str) -> Calls:
        message: dict[str, Any] = {
            "message_id": next(self.msg_ids),
            "date": int(time.time()),
            "chat": CHAT,
            "from": USER,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self._wait_for_reply(self.api.push(message=message))

    def press(self, data: str, message_id: int) -> Calls:
        update_id = self.api.push(
            callback_query={
                "id": f"cq{next(self.cq_ids)}",
                "from": USER,
                "chat_instance": "ci-1",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": CHAT,
                    "from": self.api.bot_user,
                    "text": "…",
                },
            }
        )
        return self._wait_for_reply(update_id)


def texts_of(calls: Calls) -> str:
    return "\n".join(c.text for c in calls if c.method in {"sendMessage", "editMessageText"})


def keyboard_of(calls: Calls) -> tuple[list[str], int] | None:
    """Returns the callback data of the newest inline keyboard and its message id."""
    for call in reversed(calls):
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return call.callback_data(), int(call.result["message_id"])
    return None


def first(buttons: list[str], pattern: str) -> str | None:
    return next((data for data in buttons if re.fullmatch(pattern, data)), None)


@pytest.fixture
def running_bot(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> Iterator[tuple[FakeBotApi, Settings, Any]]:
    # The engine is shared to keep the test fast; the DB engine and persistence are real.
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, settings, app):
        yield api, settings, app


def _play_until(
    driver: Driver,
    calls: Calls,
    step: Callable[[list[str], int], tuple[str, str] | None],
    *,
    max_steps: int = 20,
) -> Calls:
    """Answers prompts with `step` (returns ("press", data) / ("text", text)) until None."""
    history = list(calls)
    for _ in range(max_steps):
        keyboard = keyboard_of(calls)
        buttons, message_id = keyboard if keyboard else ([], -1)
        action = step(buttons, message_id)
        if action is None:
            return history
        kind, value = action
        calls = driver.press(value, message_id) if kind == "press" else driver.text(value)
        history.extend(calls)
    raise AssertionError(f"flow did not finish; last texts: {texts_of(calls)[-500:]}")


def test_owner_journey_over_a_real_polling_bot(
    running_bot: tuple[FakeBotApi, Settings, Any],
) -> None:
    api, settings, app = running_bot
    driver = Driver(api, app)
    startup = [c.method for c in api.calls]
    assert "getMe" in startup and "setMyCommands" in startup and "deleteWebhook" in startup
    driver.seen = len(api.calls)

    # /start shows the menu.
    calls = driver.text("/start")
    assert "Trợ lý Khuyến công" in texts_of(calls)
    assert keyboard_of(calls) is not None
    assert keyboard_of(calls)[0] == ["menu:ask", "menu:check", "menu:register", "menu:help"]

    # A free question gets an answer with sources.
    calls = driver.text("Văn bản gốc quy định về khuyến công là nghị định nào?")
    assert "sendChatAction" in [c.method for c in calls]
    answer = texts_of(calls)
    assert "45/2012" in answer and "Nguồn:" in answer

    # /kiemtra: pick the first option at every step, one support item, then see the verdict.
    toggled: set[int] = set()

    def eligibility_step(buttons: list[str], message_id: int) -> tuple[str, str] | None:
        if "lead:start" in buttons:
            return None
        item = first(buttons, r"elig:support:\d+")
        if item and message_id not in toggled:
            toggled.add(message_id)
            return "press", item
        if "elig:support:done" in buttons:
            return "press", "elig:support:done"
        choice = first(buttons, r"elig:(type|area|sector|province):\d+")
        assert choice, f"no eligibility button in {buttons}"
        return "press", choice

    history = _play_until(driver, driver.text("/kiemtra"), eligibility_step)
    verdict_keyboard = keyboard_of(history)
    assert verdict_keyboard is not None and "lead:start" in verdict_keyboard[0]

    # /dangky from the verdict's button: type, province and needs come prefilled.
    answers = iter(["Nguyễn Văn An", "0912 345 678", "Cơ sở mộc An Phát"])
    picked: set[int] = set()

    saved_prefix = texts.LEAD_SAVED_NEW.split("{")[0]

    def saved() -> bool:
        return any(c.method == "sendMessage" and saved_prefix in c.text for c in api.calls)

    def registration_step(buttons: list[str], message_id: int) -> tuple[str, str] | None:
        if saved():
            return None
        for pattern in (r"lead:consent:yes", r"lead:district:skip", r"lead:confirm"):
            found = first(buttons, pattern)
            if found:
                return "press", found
        for pattern in (r"lead:type:\d+", r"lead:prov:\d+"):
            found = first(buttons, pattern)
            if found:
                return "press", found
        item = first(buttons, r"lead:sup:\d+")
        if item and message_id not in picked:
            picked.add(message_id)
            return "press", item
        if "lead:sup:done" in buttons:
            return "press", "lead:sup:done"
        text = next(answers, None)
        return None if text is None else ("text", text)

    history = _play_until(
        driver, driver.press("lead:start", verdict_keyboard[1]), registration_step, max_steps=25
    )
    # Announced from the outbox by the repeating job, after the user's confirmation.
    announced, _ = api.wait_for(
        lambda c: c.method == "sendMessage", chat_id=STAFF_CHAT_ID, timeout=30
    )
    assert announced is not None, "the staff chat was not told about the new lead"

    from index.leads.lead_queries import list_leads

    db_engine = create_db_engine(settings.database_url)
    try:
        with session_scope(db_engine) as session:
            leads = list_leads(session=session)
    finally:
        db_engine.dispose()
    assert len(leads) == 1
    lead = leads[0]
    assert lead.phone == "+84912345678"
    assert lead.full_name == "Nguyễn Văn An"
    assert lead.establishment_name == "Cơ sở mộc An Phát"
    assert lead.telegram_user_id == 111
    assert lead.consent_at is not None
    assert lead.province and lead.eligibility_answers
    assert lead.question == "Văn bản gốc quy định về khuyến công là nghị định nào?"
    assert str(lead.id) in texts_of(history)

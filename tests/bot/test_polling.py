"""The way in for updates: an unparsable update is skipped once, polling goes on; re-deliveries
are dropped; the journal is durable before each getUpdates."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from telegram.request import RequestData

from bot.console_request import OfflineRequest
from bot.polling import JournaledUpdateQueue, PollingRequest, sanitize_updates
from bot.update_journal import UpdateJournal
from index.settings import Settings
from scripts.fake_bot_api import FakeUser
from scripts.load_scenarios import is_answer

from .live_bot import live_bot

#: A message whose date is not a timestamp: PTB's parser raises on the whole batch.
MALFORMED = {"message": {"message_id": 1, "date": "hôm qua", "chat": {"id": 5, "type": "private"}}}


def test_sanitize_replaces_only_the_broken_update() -> None:
    good = {
        "update_id": 2,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}},
    }
    clean, changed = sanitize_updates([{"update_id": 1, **MALFORMED}, good, {"no": "id"}])
    assert changed == 2
    assert clean == [{"update_id": 1}, good]


class _Inner(OfflineRequest):
    """Answers getUpdates with a canned body and records when the journal was synced."""

    def __init__(self, body: dict[str, Any], journal: UpdateJournal) -> None:
        self.body = body
        self.journal = journal
        self.unsynced_at_call: list[bool] = []

    def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        self.unsynced_at_call.append(self.journal._unsynced)
        return 200, json.dumps(self.body).encode()


async def test_polling_request_syncs_the_journal_before_confirming(tmp_path: Path) -> None:
    from telegram import Update

    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    inner = _Inner({"ok": True, "result": [{"update_id": 9, **MALFORMED}]}, journal)
    request = PollingRequest(inner, journal)
    journal.record(Update(update_id=8))
    assert journal._unsynced

    code, payload = await request.do_request("http://x/bot1:a/getUpdates", "POST")

    assert inner.unsynced_at_call == [False]
    assert code == 200 and json.loads(payload)["result"] == [{"update_id": 9}]


async def test_a_polled_update_is_journaled_as_received(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telegram import Update

    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    raw = {
        "update_id": 11,
        "message": {
            "message_id": 3,
            "date": 1,
            "chat": {"id": 5, "type": "private"},
            "text": "Hỏi",
        },
    }
    request = PollingRequest(_Inner({"ok": True, "result": [raw]}, journal), journal)
    await request.do_request("http://x/bot1:a/getUpdates", "POST")
    update = Update.de_json(raw, None)

    def re_encode(_self: object) -> dict[str, Any]:
        raise AssertionError("the polled update was encoded again")

    # Encoding every update back to JSON cost ~2 % of the bot's time in the load test.
    monkeypatch.setattr(Update, "to_dict", re_encode)
    await JournaledUpdateQueue(journal).put(update)
    await journal.sync()
    monkeypatch.undo()
    restarted = UpdateJournal(tmp_path)
    restarted.restore(None)
    assert restarted.replay() == [raw]


async def test_queue_drops_a_redelivered_update(tmp_path: Path) -> None:
    from telegram import Update

    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    queue = JournaledUpdateQueue(journal)
    await queue.put(Update(update_id=1))
    await queue.put(Update(update_id=1))
    await queue.put(Update(update_id=2))
    assert queue.qsize() == 2


def test_an_unparsable_update_is_logged_once_and_polling_goes_on(
    tmp_path: Path, kb_settings: Settings, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        live_bot(kb_settings, tmp_path, engine=engine) as (
            api,
            _settings,
            _app,
        ),
    ):
        broken = api.push(**MALFORMED)
        user = FakeUser(api, 4242)
        user.send("Nghị định nào quy định về khuyến công?")
        answer, _ = api.wait_for(is_answer, chat_id=4242, timeout=60)
        assert answer is not None, "polling stalled behind the unparsable update"
        # The broken update was confirmed to Telegram, so it is never fetched again.
        deadline = time.monotonic() + 30
        while api.confirmed_offset <= broken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.confirmed_offset > broken
        polls = api.polls
        while api.polls < polls + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    skipped = [r for r in caplog.records if f"Skipping update {broken}" in r.getMessage()]
    assert len(skipped) == 1
    assert "hôm qua" not in caplog.text


async def test_a_webhook_update_is_durable_before_it_is_accepted(tmp_path: Path) -> None:
    from telegram import Update

    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    queue = JournaledUpdateQueue(journal, sync_each_put=True)
    await queue.put(Update(update_id=5))
    assert not journal._unsynced
    restarted = UpdateJournal(tmp_path)
    restarted.restore(None)
    assert [raw["update_id"] for raw in restarted.replay()] == [5]

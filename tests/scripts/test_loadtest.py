"""The load test's scenarios at small N: correctness only (every question answered, no lead
lost or duplicated, every lead announced), never speed. Plus the faults: a real `kill -9`
of `python -m bot`, a database write lock held throughout, and a wrong token."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from index.settings import Settings
from scripts.fake_bot_api import FakeBotApi, FakeUser
from scripts.fake_bot_server import serve
from scripts.load_bot import BOT_USER, STAFF_CHAT_ID, bot_env, bot_under_test, crash_midway
from scripts.load_leads import announced_leads, lead_counts, lead_report, wait_for_announcements
from scripts.load_scenarios import ask_question, is_answer, run_ask, run_register
from tests.bot.live_bot import live_bot

#: Seconds a simulated user waits for a reply before the test fails (a hang guard).
REPLY_TIMEOUT = 120.0


def _leads(settings_or_url: Any, result: Any, api: FakeBotApi) -> dict[str, int]:
    url = settings_or_url if isinstance(settings_or_url, str) else settings_or_url.database_url
    wait_for_announcements(api, url, result, STAFF_CHAT_ID, REPLY_TIMEOUT)
    stored = lead_counts(url, [r.user_id for r in result.registrations])
    return lead_report(result, stored, announced_leads(api, STAFF_CHAT_ID))


def test_users_asking_at_once_all_get_answers(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> None:
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, _settings, _app):
        result = run_ask(api, users=6, questions=2, timeout=REPLY_TIMEOUT)
    assert (result.answered, result.errors, result.timeouts) == (12, 0, 0)


def test_concurrent_registrations_lose_and_duplicate_nothing(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> None:
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, settings, _app):
        result = run_register(api, registrations=8, timeout=REPLY_TIMEOUT)
        leads = _leads(settings, result, api)
    assert [r.failure for r in result.registrations] == [None] * 8
    assert result.probe_outcome == "answered"
    assert leads == {
        "leads_confirmed": 8,
        "leads_saved": 8,
        "leads_lost": 0,
        "leads_duplicated": 0,
        "leads_announced": 8,
    }


def test_a_429_storm_from_telegram_loses_no_reply(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> None:
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, settings, _app):
        # Telegram refuses every message beyond 3 a second with 429 "retry after N".
        api.flood_rate = 3.0
        # And, whatever the pace, the one after the first 3 and the second after it: a slow
        # machine produced the answers below 3 a second and met no 429 at all.
        api.flood_after = 3
        # Six answers at once against a bucket of three: the storm. The run is paced by the
        # 3 a second, so its length is its message count (12 questions and three
        # registrations: 64 calls, 19.6 s; six and two, still concurrent: 12.7 s).
        asked = run_ask(api, users=6, questions=1, timeout=REPLY_TIMEOUT)
        registered = run_register(api, registrations=2, timeout=REPLY_TIMEOUT)
        leads = _leads(settings, registered, api)
    assert api.flooded > 0, "no 429 was answered: the storm did not happen"
    assert (asked.answered, asked.errors, asked.timeouts) == (6, 0, 0)
    assert [r.failure for r in registered.registrations] == [None] * 2
    assert registered.probe_outcome == "answered"
    assert leads["leads_saved"] == leads["leads_confirmed"] == leads["leads_announced"] == 2


def test_the_forced_flood_comes_after_a_count_whatever_the_pace() -> None:
    api = FakeBotApi(token="t", bot_user=BOT_USER, flood_after=3)
    send = {"chat_id": 1, "text": "x"}
    # However slowly they come (no rate is set), the 4th message and the second after it
    # are refused.
    statuses = [api.handle("t", "sendMessage", send)[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429] and api.flooded == 2
    status, payload = api.handle("t", "sendMessage", send)
    assert status == 429 and payload["parameters"]["retry_after"] == 1
    assert len(api.calls) == 3  # refused messages reached no one
    api._forced_until = time.monotonic() - 0.01  # the second is over: once only
    assert [api.handle("t", "sendMessage", send)[0] for _ in range(5)] == [200] * 5


def test_a_locked_database_freezes_no_one(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> None:
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, settings, _app):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the lock until released below
        try:
            asked = run_ask(api, users=3, questions=2, timeout=REPLY_TIMEOUT)
            starter = FakeUser(api, 5555)
            starter.send("/start")
            welcome, _ = api.wait_for(
                lambda c: c.method == "sendMessage", chat_id=5555, timeout=REPLY_TIMEOUT
            )
            blocked = run_register(api, registrations=1, timeout=REPLY_TIMEOUT, probe=False)
        finally:
            lock.rollback()
            lock.close()
        # Unlocked: pressing "confirm" again saves the kept draft.
        owner = blocked.registrations[0]
        summary = [c for c in api.calls_to(owner.user_id) if "lead:confirm" in c.callback_data()]
        index = len(api.calls_to(owner.user_id))
        FakeUser(api, owner.user_id).press("lead:confirm", int(summary[-1].result["message_id"]))
        saved, _ = api.wait_for(
            lambda c: texts.LEAD_SAVED_NEW.split("{")[0] in c.text,
            chat_id=owner.user_id,
            start=index,
            timeout=REPLY_TIMEOUT,
        )
        stored = lead_counts(settings.database_url, [owner.user_id])
    assert (asked.answered, asked.errors, asked.timeouts) == (6, 0, 0)
    assert welcome is not None
    # Never reported as saved while the lock was held; the retry completes it.
    assert blocked.registrations[0].failure is not None
    assert texts.LEAD_NOT_SAVED.split("<b>")[0] in blocked.registrations[0].failure
    assert saved is not None and len(stored[owner.user_id]) == 1


@pytest.mark.slow
def test_kill_9_with_updates_in_flight_drops_nothing(
    tmp_path: Path, kb_settings: Settings
) -> None:
    # The outbox drained every 0.5 s (as in live_bot), not every 10 s: the test waits for
    # the staff announcements of both bot lives, never for the drain's cadence.
    fast_drain = {"STAFF_ANNOUNCE_SECONDS": "0.5"}
    with bot_under_test(kb_settings, workdir=tmp_path, extra_env=fast_drain) as (api, bot, url):
        result = run_register(
            api, registrations=6, timeout=REPLY_TIMEOUT, midway=lambda: crash_midway(api, bot)
        )
        leads = _leads(url, result, api)
        log = bot.tail(400)
    assert bot.starts == 2
    assert "Replaying" in log, log
    assert [r.failure for r in result.registrations] == [None] * 6
    assert not any(r.unanswered for r in result.registrations)
    assert result.probe_outcome == "answered"
    assert leads["leads_confirmed"] == leads["leads_saved"] == 6
    assert (leads["leads_lost"], leads["leads_duplicated"]) == (0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_wrong_token_is_never_logged(tmp_path: Path, kb_settings: Settings, level: str) -> None:
    wrong = "987654321:AAF-wrongwrongwrongwrongwrongwrong12"
    api = FakeBotApi(token="123456:right", bot_user=BOT_USER)
    with serve(api) as base_url:
        env = bot_env(
            base_url=base_url,
            data_dir=tmp_path / "data",
            index_dir=kb_settings.index_dir,
            model_dir=kb_settings.model_dir,
            knowledge_dir=kb_settings.knowledge_dir,
            database_url=None,
            extra={"TELEGRAM_BOT_TOKEN": wrong, "LOG_LEVEL": level},
        )
        done = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=REPLY_TIMEOUT,
            check=False,
        )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in output
    assert wrong not in output and wrong.split(":")[1] not in output


def test_a_question_is_answered_through_the_helpers(
    tmp_path: Path, kb_settings: Settings, engine: Any
) -> None:
    # The helpers the scenarios use agree with what the bot sends.
    with live_bot(kb_settings, tmp_path, engine=engine) as (api, _settings, _app):
        outcome, latency, _ = ask_question(
            api, FakeUser(api, 4321), "Khuyến công là gì?", start=0, timeout=REPLY_TIMEOUT
        )
        answer, _ = api.wait_for(is_answer, chat_id=4321, timeout=1)
    assert outcome == "answered" and latency >= 0 and answer is not None

"""One end-to-end run: the real bot, polling a fake Bot API server on 127.0.0.1.

The bot runs `Application.run_polling` (in a thread, without signal handlers) against a tiny
`http.server` that speaks the Bot API methods the bot uses. The test feeds updates the way
Telegram would and asserts on what the bot sent and on the lead stored in the database.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from bot.app import build_application
from index.leads.db import create_db_engine, session_scope
from index.settings import Settings

from .conftest import BOT_ID, BOT_TOKEN, BOT_USERNAME, STAFF_CHAT_ID

pytestmark = pytest.mark.real_engine

USER = {"id": 111, "is_bot": False, "first_name": "An", "username": "owner", "language_code": "vi"}
CHAT = {"id": 111, "type": "private", "first_name": "An", "username": "owner"}
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý", "username": BOT_USERNAME}
#: Parameters PTB sends JSON-encoded inside the form body.
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options"}
QUIET_SECONDS = 0.5
STEP_TIMEOUT = 15.0


class FakeBotApi:
    """State of the fake Bot API: updates to deliver and every call the bot made."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.message_ids = itertools.count(5000)
        self.update_ids = itertools.count(1)
        self.unexpected: list[str] = []
        self.polled = threading.Event()

    def push(self, **update: Any) -> None:
        """Queues an update for the next getUpdates."""
        with self.cond:
            self.updates.append({"update_id": next(self.update_ids), **update})
            self.cond.notify_all()

    def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        deadline = time.monotonic() + min(float(params.get("timeout", 0) or 0), 1.0)
        with self.cond:
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                self.cond.wait(remaining)

    def handle(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getUpdates":
            self.polled.set()
            return self.get_updates(params)
        if method == "getMe":
            result: Any = BOT_USER
        elif method in {
            "deleteWebhook",
            "setMyCommands",
            "answerCallbackQuery",
            "sendChatAction",
            "deleteMessage",
        }:
            result = True
        elif method in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}:
            chat_id = int(params.get("chat_id", 111))
            result = {
                "message_id": int(params.get("message_id") or next(self.message_ids)),
                "date": int(time.time()),
                "chat": CHAT if chat_id == 111 else {"id": chat_id, "type": "supergroup"},
                "from": BOT_USER,
                "text": params.get("text", "…"),
            }
            markup = params.get("reply_markup")
            # Like Telegram, only inline keyboards come back on the Message.
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                result["reply_markup"] = markup
        else:
            self.unexpected.append(method)
            raise KeyError(method)
        with self.cond:
            self.calls.append((method, params, result))
        return result


def make_handler(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            params: dict[str, Any] = {}
            if "json" in self.headers.get("Content-Type", ""):
                params = json.loads(body or "{}")
            else:
                for key, values in parse_qs(body, keep_blank_values=True).items():
                    params[key] = json.loads(values[0]) if key in JSON_FIELDS else values[0]
            method = self.path.rsplit("/", 1)[-1]
            try:
                payload = {"ok": True, "result": api.handle(method, params)}
                status = 200
            except KeyError:
                payload = {"ok": False, "error_code": 404, "description": "Not Found"}
                status = 404
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The bot dropped a long poll while shutting down; nothing to answer.
                pass

        do_GET = do_POST  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keeps the test output quiet."""

    return Handler


class Driver:
    """Plays the user: sends updates and waits until the bot has finished replying."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.seen = 0
        self.cq_ids = itertools.count(1)
        self.msg_ids = itertools.count(1)

    def _wait_for_reply(self) -> list[tuple[str, dict[str, Any], Any]]:
        deadline = time.monotonic() + STEP_TIMEOUT
        last_count, last_change = len(self.api.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            count = len(self.api.calls)
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            new = self.api.calls[self.seen :]
            replied = any(
                m in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
                or (m == "answerCallbackQuery" and p.get("text"))
                for m, p, _ in new
            )
            if replied and time.monotonic() - last_change >= QUIET_SECONDS:
                break
        new = self.api.calls[self.seen :]
        self.seen = len(self.api.calls)
        assert new, "the bot did not reply in time"
        return new

    def text(self, text: str) -> list[tuple[str, dict[str, Any], Any]]:
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
        self.api.push(message=message)
        return self._wait_for_reply()

    def press(self, data: str, message_id: int) -> list[tuple[str, dict[str, Any], Any]]:
        self.api.push(
            callback_query={
                "id": f"cq{next(self.cq_ids)}",
                "from": USER,
                "chat_instance": "ci-1",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": CHAT,
                    "from": BOT_USER,
                    "text": "…",
                },
            }
        )
        return self._wait_for_reply()


def texts_of(calls: list[tuple[str, dict[str, Any], Any]]) -> str:
    return "\n".join(
        str(p.get("text", "")) for m, p, _ in calls if m in {"sendMessage", "editMessageText"}
    )


def keyboard_of(calls: list[tuple[str, dict[str, Any], Any]]) -> tuple[list[str], int] | None:
    """Returns the callback data of the newest inline keyboard and its message id."""
    for _, params, result in reversed(calls):
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            data = [
                button["callback_data"]
                for row in markup["inline_keyboard"]
                for button in row
                if "callback_data" in button
            ]
            return data, int(result["message_id"])
    return None


def first(buttons: list[str], pattern: str) -> str | None:
    return next((data for data in buttons if re.fullmatch(pattern, data)), None)


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeBotApi, int]]:
    api = FakeBotApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield api, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def running_bot(
    fake_api: tuple[FakeBotApi, int], tmp_path: Path, kb_settings: Settings, engine: Any
) -> Iterator[tuple[FakeBotApi, Settings]]:
    api, port = fake_api
    settings = Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=kb_settings.knowledge_dir,
        INDEX_DIR=kb_settings.index_dir,
        MODEL_DIR=kb_settings.model_dir,
        DATABASE_URL=f"sqlite:///{(tmp_path / 'e2e.db').as_posix()}",
        telegram_bot_token=SecretStr(BOT_TOKEN),
        telegram_api_base_url=f"http://127.0.0.1:{port}/bot",
        staff_user_ids=[1001],
        admin_user_ids=[1002],
        staff_chat_id=STAFF_CHAT_ID,
    )
    # The engine is shared to keep the test fast; the DB engine and persistence are real.
    app = build_application(settings, engine=engine)
    loop_ready = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    setup = app.post_init
    assert setup is not None

    async def post_init(application: Any) -> None:
        loops.append(asyncio.get_running_loop())
        await setup(application)
        loop_ready.set()

    app.post_init = post_init
    errors: list[BaseException] = []

    def run() -> None:
        try:
            app.run_polling(poll_interval=0.0, timeout=1, stop_signals=None, close_loop=True)
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
            loop_ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert loop_ready.wait(30), "the bot did not start"
        assert not errors, errors
        assert api.polled.wait(10), "the bot never polled for updates"
        yield api, settings
    finally:
        if loops:
            loops[0].call_soon_threadsafe(app.stop_running)
        thread.join(timeout=20)
        assert not thread.is_alive(), "the bot did not stop"
        assert not errors, errors
        assert not api.unexpected, f"unexpected Bot API methods: {api.unexpected}"


def _play_until(
    driver: Driver,
    calls: list[tuple[str, dict[str, Any], Any]],
    step: Callable[[list[str], int], tuple[str, str] | None],
    *,
    max_steps: int = 20,
) -> list[tuple[str, dict[str, Any], Any]]:
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


def test_owner_journey_over_a_real_polling_bot(running_bot: tuple[FakeBotApi, Settings]) -> None:
    api, settings = running_bot
    driver = Driver(api)
    startup = [m for m, _, _ in api.calls]
    assert "getMe" in startup and "setMyCommands" in startup and "deleteWebhook" in startup
    driver.seen = len(api.calls)

    # /start shows the menu.
    calls = driver.text("/start")
    assert "Trợ lý Khuyến công" in texts_of(calls)
    assert keyboard_of(calls) is not None
    assert keyboard_of(calls)[0] == ["menu:ask", "menu:check", "menu:register", "menu:help"]

    # A free question gets an answer with sources.
    calls = driver.text("Nghị định nào quy định đối tượng được hỗ trợ khuyến công?")
    assert "sendChatAction" in [m for m, _, _ in calls]
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

    def saved() -> bool:
        return any(
            m == "sendMessage" and str(p.get("chat_id")) == str(STAFF_CHAT_ID)
            for m, p, _ in api.calls
        )

    history = _play_until(
        driver, driver.press("lead:start", verdict_keyboard[1]), registration_step, max_steps=25
    )
    assert saved(), "the staff chat was not told about the new lead"

    from index.leads.crud import list_leads

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
    assert lead.question == "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?"
    assert str(lead.id) in texts_of(history)

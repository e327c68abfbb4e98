"""build_application wiring, start-up, the global error handler and the entry point."""

from __future__ import annotations

import pytest
import sqlalchemy
from pydantic import SecretStr
from telegram.error import NetworkError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

import bot.__main__ as entry
from bot import texts
from bot.app import build_application, file_url_for, release_resources, setup_application
from bot.context import BotData
from bot.conversations import CONVERSATION_GROUP
from bot.handlers import ask, errors, fallback, start
from bot.persistence import StatePersistence
from index.schema import Answer

from .conftest import STAFF_CHAT_ID, RecordingRequest


def test_base_url_and_file_url_point_at_a_custom_server(bot_settings) -> None:
    settings = bot_settings.model_copy(
        update={"telegram_api_base_url": "http://127.0.0.1:8081/bot"}
    )

    app = build_application(settings, engine=object(), db_engine=object(), persistence=False)

    assert app.bot.base_url == "http://127.0.0.1:8081/bot123456:TEST"
    assert app.bot.base_file_url == "http://127.0.0.1:8081/file/bot123456:TEST"
    assert app.bot.defaults.parse_mode == "HTML"
    assert app.bot.defaults.link_preview_options.is_disabled is True
    assert app.bot.rate_limiter is not None


def test_file_url_is_derived_from_the_api_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://local:8081/bot/") == "http://local:8081/file/bot"
    assert file_url_for("http://local:8081/custom") == "http://local:8081/custom/file/bot"


def test_persistence_never_pickles_bot_data(bot_settings) -> None:
    app = build_application(bot_settings, engine=object(), db_engine=object())

    assert isinstance(app.persistence, StatePersistence)
    assert app.persistence.path == bot_settings.persistence_path
    assert app.persistence.store_data.bot_data is False
    assert app.persistence.store_data.user_data is True
    assert isinstance(app.bot_data, BotData) and app.bot_data.settings is bot_settings


def test_handlers_are_registered_in_order(bot_settings) -> None:
    app = build_application(bot_settings, engine=object(), db_engine=object(), persistence=False)
    handlers = app.handlers[0]
    callbacks = [getattr(handler, "callback", None) for handler in handlers]

    def position(callback: object) -> int:
        return callbacks.index(callback)

    # Feature conversations come before the Q&A catch-all, which comes before the fallbacks.
    first_conversation = next(
        i for i, handler in enumerate(handlers) if isinstance(handler, ConversationHandler)
    )
    assert first_conversation < position(start.start) < position(ask.answer_question)
    assert position(ask.answer_question) < position(fallback.unknown_command)
    assert position(fallback.unknown_command) < position(fallback.unsupported_media)
    assert isinstance(handlers[-1], CallbackQueryHandler)
    assert handlers[-1].callback is fallback.stale_button
    assert isinstance(handlers[position(ask.answer_question)], MessageHandler)
    commands = {
        command
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert {"start", "help", "trogiup"} <= commands
    assert list(app.error_handlers) == [errors.error_handler]
    # The text-taking conversations run first, in one early group: a note or an upload
    # before the registration, so a staff member's note is never taken as their name.
    early = [getattr(handler, "name", None) for handler in app.handlers[CONVERSATION_GROUP]]
    assert early == ["staff_note", "admin_upload", "admin_status", "registration"]
    # Before everything, the chat policy: personal data private, staff tools in staff chats.
    from bot.chat_policy import POLICY_GROUP

    assert sorted(app.handlers) == [POLICY_GROUP, CONVERSATION_GROUP, 0]


async def test_setup_loads_missing_resources_and_publishes_commands(
    bot_settings, engine, monkeypatch
) -> None:
    import index

    loaded: list[object] = []

    def fake_load_engine(settings):
        loaded.append(settings)
        return engine

    monkeypatch.setattr(index, "load_engine", fake_load_engine)
    recording = RecordingRequest()
    app = build_application(bot_settings, request=recording, persistence=False)

    async with app:
        await setup_application(app)
        assert loaded == [bot_settings]
        assert app.bot_data.engine is engine
        db_engine = app.bot_data.db
        assert db_engine is not None and app.bot_data.owns_db
        assert "leads" in sqlalchemy.inspect(db_engine).get_table_names()
        await release_resources(app)

    command_calls = recording.calls.of("setMyCommands")
    default = command_calls[0].params
    assert default["scope"] == {"type": "default"}
    names = [command["command"] for command in default["commands"]]
    assert names == ["start", "kiemtra", "dangky", "huy", "trogiup", "help", "xoadulieu"]
    scoped = {call.params["scope"]["chat_id"]: call.params for call in command_calls[1:]}
    assert set(scoped) == {1001, 1002}
    staff_names = {command["command"] for command in scoped[1001]["commands"]}
    admin_names = {command["command"] for command in scoped[1002]["commands"]}
    assert set(names) < staff_names <= admin_names


class _ExplodingEngine:
    def answer(self, question: str, **kwargs: object) -> Answer:
        raise RuntimeError("secret detail /srv/index/current is corrupt")


async def test_error_handler_apologises_and_notifies_staff_without_trace(
    app, sent, make_message_update, caplog
) -> None:
    app.bot_data.engine = _ExplodingEngine()  # type: ignore[assignment]

    await app.process_update(make_message_update("Mức hỗ trợ là bao nhiêu?"))

    user_replies = [c.params["text"] for c in sent.of("sendMessage") if c.params["chat_id"] == 111]
    staff_notes = [
        c.params["text"] for c in sent.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT_ID
    ]
    assert user_replies == [texts.ERROR_REPLY]
    assert len(staff_notes) == 1 and "RuntimeError" in staff_notes[0]
    for text in sent.texts():
        assert "Traceback" not in text
        assert "secret detail" not in text
    # The trace goes to the log, with the same error id as the staff note.
    error_id = staff_notes[0].split("<code>")[1].split("</code>")[0]
    assert error_id in caplog.text and "secret detail" in caplog.text


async def test_error_in_a_button_press_is_answered(app, sent, make_callback_update) -> None:
    async def broken(update, context):
        raise ValueError("boom")

    app.add_handler(CallbackQueryHandler(broken, pattern="^broken$"), group=-1)

    await app.process_update(make_callback_update("broken"))

    assert "answerCallbackQuery" in sent.methods()
    assert texts.ERROR_REPLY in sent.texts()


def test_run_without_token_explains_and_opens_the_console(
    bot_settings, monkeypatch, capsys
) -> None:
    opened: list[object] = []
    monkeypatch.setattr(entry, "run_console", opened.append)
    monkeypatch.setattr(entry, "quiet_logs_for_console", lambda: None)
    settings = bot_settings.model_copy(update={"telegram_bot_token": None})

    entry.run(settings)

    assert opened == [settings]
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().out


class _FakeApp:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    def run_polling(self, **kwargs: object) -> None:
        self.calls.append(("polling", kwargs))

    def run_webhook(self, **kwargs: object) -> None:
        self.calls.append(("webhook", kwargs))


def test_run_polls_or_serves_a_webhook(bot_settings, monkeypatch) -> None:
    fake = _FakeApp()
    monkeypatch.setattr(entry, "build_application", lambda settings: fake)
    monkeypatch.setattr(entry, "ensure_index", lambda settings, output: None)

    entry.run(bot_settings)
    webhook = bot_settings.model_copy(
        update={
            "telegram_mode": "webhook",
            "webhook_url": "https://bot.example.gov.vn/telegram/hook",
            "webhook_port": 8443,
            "webhook_secret_token": SecretStr("s3cret"),
        }
    )
    entry.run(webhook)

    (mode, polling), (mode2, hook) = fake.calls
    assert mode == "polling" and polling["drop_pending_updates"] is False
    assert mode2 == "webhook"
    assert hook["url_path"] == "telegram/hook"
    assert hook["webhook_url"] == "https://bot.example.gov.vn/telegram/hook"
    assert hook["secret_token"] == "s3cret"
    assert hook["port"] == 8443


def test_main_console_flag_opens_the_console(monkeypatch, isolated_env) -> None:
    opened: list[object] = []
    monkeypatch.setattr(entry, "run_console", opened.append)
    monkeypatch.setattr(entry, "run", lambda settings: opened.append("bot"))
    # main() configures logging for a real process; keep the test process's logging intact.
    monkeypatch.setattr(entry.logging, "basicConfig", lambda **kwargs: None)
    monkeypatch.setattr(entry, "quiet_logs_for_console", lambda: None)

    entry.main(["--console"])

    assert len(opened) == 1 and opened[0] != "bot"


async def test_polling_network_errors_are_only_logged(app, sent, caplog) -> None:
    await app.process_error(None, NetworkError("connection reset"))
    await app.process_error(None, RuntimeError("job failed"))

    staff_notes = [c.params["text"] for c in sent.of("sendMessage")]
    assert len(staff_notes) == 1 and "RuntimeError" in staff_notes[0]
    assert "connection reset" in caplog.text


class _ReloadingEngine:
    """Counts reload_if_changed calls; the first one finds a new version."""

    def __init__(self) -> None:
        self.calls = 0
        self.version = "v1"

    def reload_if_changed(self) -> bool:
        self.calls += 1
        if self.calls == 1:
            self.version = "v2"
            return True
        return False


@pytest.mark.job_queue
async def test_a_repeating_job_picks_up_an_index_rebuilt_by_the_cli(app, bot_settings) -> None:
    import datetime as dt

    (job,) = app.job_queue.get_jobs_by_name("index-reload")
    assert job.job.trigger.interval == dt.timedelta(seconds=bot_settings.index_reload_seconds)
    engine = _ReloadingEngine()
    app.bot_data.engine = engine  # type: ignore[assignment]

    await job.run(app)  # what the job queue does every INDEX_RELOAD_SECONDS
    await job.run(app)

    assert engine.calls == 2 and engine.version == "v2"


def test_the_reload_job_can_be_switched_off(bot_settings) -> None:
    settings = bot_settings.model_copy(update={"index_reload_seconds": 0})
    app = build_application(settings, engine=object(), db_engine=object(), persistence=False)
    assert app.job_queue is not None
    assert not app.job_queue.get_jobs_by_name("index-reload")

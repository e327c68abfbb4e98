"""Bot test fixtures: the real Application over an offline, recording Bot API request.

Tests drive real `telegram.Update` objects through `build_application(...)` exactly like
python-telegram-bot's own tests: `await app.process_update(update)`, then assertions on the
Bot API calls the bot made (`sent`).

Fixture API (function scope):
    bot_settings      Settings in a tmp dir (staff 1001, admin 1002, staff chat -100500).
    db_engine         migrated SQLAlchemy engine on the tmp SQLite file of bot_settings.
    recording         the RecordingRequest (`.calls`, `.files` for downloads, `.fail_methods`).
    sent              the list of recorded calls (`SentCalls`), cleared after app start-up.
    bot_engine        a StubEngine (every question refused, `.questions` recorded); the real
                      session engine for tests marked `real_engine` (answers, uploads, e2e).
    app               initialized Application (`async with app:` + the same start-up code as
                      post_init, job queue running), with bot_engine and db_engine injected.
    make_message_update(text, *, user_id=111, chat_id=None, username="owner")
    make_command_update("/start arg", *, user_id=111, chat_id=None)
    make_callback_update(data, *, user_id=111, message=None, message_id=None, chat_id=None)
                      (message_id: the id of a bot message the button sits on, e.g.
                      `sent.message_ids()[-1]`)
    make_contact_update(phone, *, user_id=111, first_name="An", contact_user_id=<user_id>)
    make_document_update(file_name, mime, file_id, *, user_id=1002, caption=None, size=None)
    make_media_update(kind, *, user_id=111)   kind: sticker/photo/voice/video/location/contact
    make_edited_message_update(text, *, user_id=111)
SentCalls helpers: .methods() .of(*methods) .texts() .text() .buttons() .callback_data()
    .answered_callbacks() .message_ids(*methods); uploaded files appear in params as
    RecordedFile(filename, content, mimetype) (e.g. sent.of("sendDocument")[0].params["document"]).
Helpers (import from tests.bot.conftest): last_texts(sent), RecordedFile, ApiCall, STAFF_ID,
    ADMIN_ID, STAFF_CHAT_ID, OWNER_ID.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import pytest_asyncio
from pydantic import SecretStr
from telegram import (
    CallbackQuery,
    Chat,
    Contact,
    Document,
    Location,
    Message,
    MessageEntity,
    PhotoSize,
    Sticker,
    Update,
    User,
    Video,
    Voice,
)
from telegram.error import TimedOut
from telegram.ext import Application
from telegram.request import RequestData

from bot.console_request import TRUE_METHODS, OfflineRequest
from index.schema import Answer
from index.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy

    from index.engine import Engine

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "123456:TEST"
BOT_ID = 123456
BOT_USERNAME = "khuyencong_test_bot"
STAFF_ID = 1001
ADMIN_ID = 1002
STAFF_CHAT_ID = -100500
OWNER_ID = 111

#: Methods that return the sent/edited Message.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}
)


class RecordedFile(NamedTuple):
    """A file the bot uploaded (e.g. an exported CSV), as recorded by RecordingRequest."""

    filename: str
    content: bytes
    mimetype: str


class ApiCall(NamedTuple):
    """One Bot API call: the method name and its parameters (files as RecordedFile)."""

    method: str
    params: dict[str, Any]


class SentCalls(list[ApiCall]):
    """The recorded calls, with small query helpers for assertions.

    `results` holds the JSON result the fake Bot API returned for each call, in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []

    def clear(self) -> None:
        super().clear()
        self.results.clear()

    def message_ids(self, *methods: str) -> list[int]:
        """Returns the message_id of each Message returned (sendMessage by default)."""
        wanted = methods or ("sendMessage",)
        return [
            result["message_id"]
            for call, result in zip(self, self.results, strict=True)
            if call.method in wanted and isinstance(result, dict) and "message_id" in result
        ]

    def of(self, *methods: str) -> list[ApiCall]:
        """Returns the calls of the given methods, in order."""
        return [call for call in self if call.method in methods]

    def methods(self) -> list[str]:
        """Returns the method names, in order."""
        return [call.method for call in self]

    def texts(self) -> list[str]:
        """Returns the texts of sendMessage/editMessageText calls, in order."""
        return last_texts(self)

    def text(self) -> str:
        """Returns all sent/edited texts joined by newlines (handy for `in` checks)."""
        return "\n".join(self.texts())

    def buttons(self) -> list[tuple[str, str | None]]:
        """Returns (text, callback_data or url) of every inline button sent, in order."""
        found: list[tuple[str, str | None]] = []
        for call in self:
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict):
                for row in markup.get("inline_keyboard", []):
                    for button in row:
                        found.append(
                            (button["text"], button.get("callback_data") or button.get("url"))
                        )
        return found

    def callback_data(self) -> list[str]:
        """Returns the callback_data of every inline button sent, in order."""
        return [data for _, data in self.buttons() if data is not None]

    def answered_callbacks(self) -> list[str]:
        """Returns the texts of answerCallbackQuery calls ('' when no text)."""
        return [str(call.params.get("text", "")) for call in self.of("answerCallbackQuery")]


def last_texts(sent: list[ApiCall]) -> list[str]:
    """Returns the texts of sendMessage/editMessageText calls, in order."""
    return [
        str(call.params.get("text", ""))
        for call in sent
        if call.method in ("sendMessage", "editMessageText")
    ]


def _bot_user() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "Trợ lý Khuyến công",
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


class RecordingRequest(OfflineRequest):
    """A BaseRequest that never touches the network: records calls, returns plausible JSON.

    Unknown Bot API methods fail the test (recorded in `unexpected`, checked at teardown).
    `files` maps a file_id to the bytes a getFile + download returns. `fail_methods` maps a
    method name to an exception to raise (to test error paths).
    """

    def __init__(self) -> None:
        self.calls = SentCalls()
        self.files: dict[str, bytes] = {}
        self.fail_methods: dict[str, Exception] = {}
        self.unexpected: list[str] = []
        self._message_ids = itertools.count(1000)

    def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            params.update(self._files_of(request_data))
        self.calls.append(ApiCall(api_method, params))
        if api_method in self.fail_methods:
            self.calls.results.append(None)
            raise self.fail_methods[api_method]
        try:
            result = self._result_for(api_method, params)
        finally:
            if len(self.calls.results) < len(self.calls):
                self.calls.results.append(None)
        self.calls.results[-1] = result
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _download(self, url: str) -> tuple[int, bytes]:
        file_id = url.rsplit("/", 1)[-1]
        if file_id not in self.files:
            self.unexpected.append(f"download of unregistered file {file_id}")
            pytest.fail(f"Download of a file the test did not register: {file_id}")
        return 200, self.files[file_id]

    @staticmethod
    def _files_of(request_data: RequestData) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, part in request_data.multipart_data.items():
            filename, content = part[0], part[1]
            mimetype = part[2] if len(part) > 2 else "application/octet-stream"  # type: ignore[misc]
            raw = content if isinstance(content, bytes) else content.read()
            found[name] = RecordedFile(str(filename), bytes(raw), str(mimetype))
        # PTB sends `document=attach://<name>`; show the test the file itself under "document".
        for key in ("document", "photo"):
            value = request_data.parameters.get(key)
            if isinstance(value, str) and value.startswith("attach://"):
                found[key] = found.get(value.removeprefix("attach://"), value)
        return found

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id", OWNER_ID)
        message: dict[str, Any] = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
            "from": _bot_user(),
        }
        if "text" in params:
            message["text"] = params["text"]
        if "caption" in params:
            message["caption"] = params["caption"]
        markup = params.get("reply_markup")
        # Like Telegram, only inline keyboards come back on the Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _result_for(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return _bot_user()
        if api_method in TRUE_METHODS:
            return True
        if api_method == "getMyCommands":
            return []
        if api_method == "getUpdates":
            # Only reached if a test polls by mistake; behave like an empty long poll.
            raise TimedOut("offline")
        if api_method in MESSAGE_METHODS:
            message = self._message(params)
            if api_method == "sendDocument":
                document = params.get("document")
                name = document.filename if isinstance(document, RecordedFile) else "file"
                size = len(document.content) if isinstance(document, RecordedFile) else 0
                message["document"] = {
                    "file_id": f"sent-{message['message_id']}",
                    "file_unique_id": f"u-sent-{message['message_id']}",
                    "file_name": name,
                    "file_size": size,
                }
            return message
        if api_method == "getFile":
            file_id = str(params.get("file_id"))
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"documents/{file_id}",
            }
        self.unexpected.append(api_method)
        pytest.fail(f"The bot called an unexpected Bot API method: {api_method} {params}")


# --------------------------------------------------------------------------------------
# Settings, resources, application
# --------------------------------------------------------------------------------------


class StubEngine:
    """Stands in for the retrieval engine in flow and permission tests.

    Every question gets the same honest refusal, and the questions are recorded, so a test
    can check that a typed name or note was *not* taken as a question. Tests of answers
    (test_ask, test_e2e, test_admin) are marked `real_engine` and get the real one.
    """

    version = "stub"
    model = None

    def __init__(self) -> None:
        self.questions: list[str] = []

    def answer(self, question: str, **_: Any) -> Answer:
        self.questions.append(question)
        return Answer(
            question=question,
            text="",
            confident=False,
            reason="no_match",
            outcome="refused",
            resolved=question,
        )

    def search(self, query: str, **_: Any) -> list[Any]:
        return []

    def sources(self) -> list[Any]:
        return []

    def reload_if_changed(self) -> bool:
        return False


def _real_engine(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("real_engine") is not None


def private_copy_settings(tmp_path: Path, kb_settings: Settings) -> Settings:
    """Bot settings over a private copy of knowledge/ and of the built index.

    For tests that write into the knowledge base (uploads, status overrides): incremental
    builds then embed only the new document, and nothing leaks into the shared index.
    """
    import shutil

    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("uploads"))
    index_dir = tmp_path / "index"
    shutil.copytree(kb_settings.index_dir, index_dir)
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=knowledge,
        INDEX_DIR=index_dir,
        MODEL_DIR=kb_settings.model_dir,
        DATABASE_URL=f"sqlite:///{(tmp_path / 'bot.db').as_posix()}",
        telegram_bot_token=BOT_TOKEN,
        staff_user_ids=[STAFF_ID],
        admin_user_ids=[ADMIN_ID],
        staff_chat_id=STAFF_CHAT_ID,
    )


@pytest.fixture
def bot_settings(
    tmp_path: Path, model_cache_dir: Path, request: pytest.FixtureRequest
) -> Settings:
    """Settings for one bot test: tmp data dir and DB; the session index for `real_engine`.

    Tests that change the index (admin uploads) must copy it to their own INDEX_DIR first.
    """
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    index_dir = tmp_path / "index"
    if _real_engine(request):
        index_dir = request.getfixturevalue("kb_settings").index_dir
    return Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=REPO_ROOT / "knowledge",
        INDEX_DIR=index_dir,
        MODEL_DIR=model_cache_dir,
        DATABASE_URL=f"sqlite:///{(tmp_path / 'bot.db').as_posix()}",
        telegram_bot_token=SecretStr(BOT_TOKEN),
        staff_user_ids=[STAFF_ID],
        admin_user_ids=[ADMIN_ID],
        staff_chat_id=STAFF_CHAT_ID,
        # The indicator before every answer, so tests see it in order (ask.py delays it).
        typing_indicator_delay_seconds=0,
    )


@pytest.fixture
def db_engine(bot_settings: Settings, migrated_sqlite: Path) -> Iterator[sqlalchemy.Engine]:
    """The leads database of this test: a copy of the session's migrated SQLite file."""
    from sqlalchemy.engine import make_url

    from index.leads.db import create_db_engine

    database = make_url(bot_settings.database_url).database
    assert database is not None
    shutil.copyfile(migrated_sqlite, database)
    engine = create_db_engine(bot_settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def bot_engine(request: pytest.FixtureRequest) -> Engine | StubEngine:
    """The real engine (session fixture) for `real_engine` tests, else a `StubEngine`."""
    if _real_engine(request):
        engine: Engine = request.getfixturevalue("engine")
        return engine
    return StubEngine()


@pytest.fixture
def recording() -> Iterator[RecordingRequest]:
    """The offline request of the bot; fails the test on any unexpected Bot API method."""
    rec = RecordingRequest()
    yield rec
    assert not rec.unexpected, f"Unexpected Bot API calls: {rec.unexpected}"


@pytest.fixture
def sent(recording: RecordingRequest) -> SentCalls:
    """The Bot API calls the bot made during the test (start-up calls cleared)."""
    return recording.calls


@pytest_asyncio.fixture(loop_scope="function")
async def app(
    bot_settings: Settings,
    bot_engine: Engine,
    db_engine: sqlalchemy.Engine,
    recording: RecordingRequest,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The real Application, initialized and set up by the same code as post_init.

    Tests marked `persistent` get production's PicklePersistence at
    `bot_settings.persistence_path` (flushed by `await app.update_persistence()`).
    """
    from bot.app import build_application, setup_application

    application = build_application(
        bot_settings,
        engine=bot_engine,
        db_engine=db_engine,
        request=recording,
        persistence=request.node.get_closest_marker("persistent") is not None,
    )
    async with application:
        await setup_application(application)
        # Tests marked `job_queue` get it running, as run_polling does: conversation timeouts
        # and the repeating jobs are then scheduled and can be run by hand (`job.run(app)`).
        queue = application.job_queue
        running = request.node.get_closest_marker("job_queue") is not None
        if running and queue is not None:
            await queue.start()
        recording.calls.clear()
        try:
            yield application
        finally:
            if application.running:  # a test started it (app.start()) to feed the queue
                await application.stop()
            if running and queue is not None and queue.scheduler.running:
                await queue.stop(wait=False)


# --------------------------------------------------------------------------------------
# Update factories (real telegram objects bound to app.bot)
# --------------------------------------------------------------------------------------

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def _user(user_id: int, username: str | None = "owner") -> User:
    return User(
        id=user_id, is_bot=False, first_name=f"User{user_id}", username=username, language_code="vi"
    )


def _chat(chat_id: int, user: User) -> Chat:
    if chat_id == user.id:
        return Chat(
            id=chat_id, type=Chat.PRIVATE, first_name=user.first_name, username=user.username
        )
    return Chat(id=chat_id, type=Chat.SUPERGROUP, title="Nhóm cán bộ")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _bound(update: Update, application: Application[Any, Any, Any, Any, Any, Any]) -> Update:
    update.set_bot(application.bot)
    for obj in (
        update.message,
        update.edited_message,
        update.callback_query,
        update.callback_query.message if update.callback_query else None,
    ):
        if obj is not None:
            obj.set_bot(application.bot)
    return update


def _message(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    user_id: int,
    chat_id: int | None,
    username: str | None = "owner",
    **kwargs: Any,
) -> Message:
    user = _user(user_id, username)
    message = Message(
        message_id=next(_message_ids),
        date=_now(),
        chat=_chat(chat_id if chat_id is not None else user_id, user),
        from_user=user,
        **kwargs,
    )
    message.set_bot(application.bot)
    return message


MessageUpdateFactory = Callable[..., Update]


@pytest.fixture
def make_message_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a text message update from a user."""

    def factory(
        text: str, *, user_id: int = OWNER_ID, chat_id: int | None = None, username: str = "owner"
    ) -> Update:
        message = _message(app, user_id=user_id, chat_id=chat_id, username=username, text=text)
        return _bound(Update(update_id=next(_update_ids), message=message), app)

    return factory


@pytest.fixture
def make_command_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a command message ("/start arg") with its bot_command entity."""

    def factory(
        command: str,
        *,
        user_id: int = OWNER_ID,
        chat_id: int | None = None,
        username: str = "owner",
    ) -> Update:
        if not command.startswith("/"):
            command = "/" + command
        length = len(command.split(maxsplit=1)[0])
        message = _message(
            app,
            user_id=user_id,
            chat_id=chat_id,
            username=username,
            text=command,
            entities=[MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=length)],
        )
        return _bound(Update(update_id=next(_update_ids), message=message), app)

    return factory


@pytest.fixture
def make_callback_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a callback query (a button press) on a bot message in the user's chat."""

    def factory(
        data: str,
        *,
        user_id: int = OWNER_ID,
        message: Message | None = None,
        message_id: int | None = None,
        chat_id: int | None = None,
        username: str = "owner",
    ) -> Update:
        user = _user(user_id, username)
        if message is None:
            bot_user = User(id=BOT_ID, is_bot=True, first_name="Bot", username=BOT_USERNAME)
            message = Message(
                message_id=message_id if message_id is not None else next(_message_ids),
                date=_now(),
                chat=_chat(chat_id if chat_id is not None else user_id, user),
                from_user=bot_user,
                text="…",
            )
        query = CallbackQuery(
            id=str(next(_update_ids)),
            from_user=user,
            chat_instance="test-chat-instance",
            data=data,
            message=message,
        )
        return _bound(Update(update_id=next(_update_ids), callback_query=query), app)

    return factory


@pytest.fixture
def make_contact_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a message sharing a contact (the user's own unless contact_user_id differs)."""

    def factory(
        phone: str,
        *,
        user_id: int = OWNER_ID,
        first_name: str = "An",
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> Update:
        contact = Contact(
            phone_number=phone,
            first_name=first_name,
            user_id=user_id if contact_user_id is None else contact_user_id,
        )
        message = _message(app, user_id=user_id, chat_id=chat_id, contact=contact)
        return _bound(Update(update_id=next(_update_ids), message=message), app)

    return factory


@pytest.fixture
def make_document_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a message carrying a document; register its bytes in `recording.files`."""

    def factory(
        file_name: str,
        mime: str,
        file_id: str,
        *,
        user_id: int = ADMIN_ID,
        chat_id: int | None = None,
        caption: str | None = None,
        size: int | None = None,
    ) -> Update:
        document = Document(
            file_id=file_id,
            file_unique_id=f"u-{file_id}",
            file_name=file_name,
            mime_type=mime,
            file_size=size,
        )
        message = _message(
            app, user_id=user_id, chat_id=chat_id, document=document, caption=caption
        )
        return _bound(Update(update_id=next(_update_ids), message=message), app)

    return factory


@pytest.fixture
def make_media_update(app: Application[Any, Any, Any, Any, Any, Any]) -> MessageUpdateFactory:
    """Builds a sticker/photo/voice/video/location/contact message."""

    def factory(kind: str, *, user_id: int = OWNER_ID, chat_id: int | None = None) -> Update:
        payload: dict[str, Any]
        if kind == "sticker":
            payload = {
                "sticker": Sticker(
                    file_id="stk",
                    file_unique_id="u-stk",
                    width=512,
                    height=512,
                    is_animated=False,
                    is_video=False,
                    type=Sticker.REGULAR,
                )
            }
        elif kind == "photo":
            payload = {
                "photo": [PhotoSize(file_id="ph", file_unique_id="u-ph", width=90, height=90)]
            }
        elif kind == "voice":
            payload = {"voice": Voice(file_id="vc", file_unique_id="u-vc", duration=3)}
        elif kind == "video":
            payload = {
                "video": Video(file_id="vd", file_unique_id="u-vd", width=64, height=64, duration=2)
            }
        elif kind == "location":
            payload = {"location": Location(longitude=108.2, latitude=16.05)}
        elif kind == "contact":
            payload = {
                "contact": Contact(phone_number="+84905123456", first_name="An", user_id=user_id)
            }
        else:
            raise ValueError(f"unknown media kind {kind!r}")
        message = _message(app, user_id=user_id, chat_id=chat_id, **payload)
        return _bound(Update(update_id=next(_update_ids), message=message), app)

    return factory


@pytest.fixture
def make_edited_message_update(
    app: Application[Any, Any, Any, Any, Any, Any],
) -> MessageUpdateFactory:
    """Builds an edited_message update."""

    def factory(text: str, *, user_id: int = OWNER_ID, chat_id: int | None = None) -> Update:
        message = _message(app, user_id=user_id, chat_id=chat_id, text=text, edit_date=_now())
        return _bound(Update(update_id=next(_update_ids), edited_message=message), app)

    return factory

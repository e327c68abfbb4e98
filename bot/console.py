"""A terminal chat that runs the real bot, for trying the assistant without a Telegram token.

The console builds the same Application as Telegram (`build_application`) over
`bot.console_request.ConsoleBotApi`, so questions, registration (/dangky), the eligibility
check (/kiemtra), data deletion and every button behave exactly as on Telegram. Typing the
number shown beside a button presses it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot import texts
from bot.app import build_application, release_resources, setup_application
from bot.console_request import ConsoleBotApi

if TYPE_CHECKING:
    from bot.context import BotApplication
    from index.engine import Engine
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Words that end the chat, besides EOF (Ctrl-D) and Ctrl-C.
EXIT_WORDS = frozenset({"thoat", "thoát", "exit", "quit", "q"})
#: The console's Telegram identity: an owner (not staff, not admin) in a private chat.
CONSOLE_USER = User(id=100_000_001, is_bot=False, first_name="Console", language_code="vi")
#: A token the offline Bot API accepts; it never reaches Telegram.
CONSOLE_TOKEN = "100000000:console-offline"

Output = Callable[[str], None]


def ensure_index(settings: Settings, output: Output = print, *, model: Any = None) -> None:
    """Builds the index when it is missing or out of date, printing progress."""
    from index.build import build_index
    from index.published import index_status

    status = index_status(settings)
    if status == "current":
        return
    output(texts.CONSOLE_BUILDING_INDEX)

    def progress(done: int, total: int, name: str) -> None:
        output(texts.CONSOLE_INDEX_PROGRESS.format(done=done, total=total, name=name))

    # A mismatch means another embedding model built it; only a full rebuild can fix that.
    report = build_index(settings, full=status == "mismatch", model=model, progress=progress)
    output(texts.CONSOLE_INDEX_READY.format(chunks=report.chunks))


class ConsoleChat:
    """Turns typed lines into Telegram updates: a message, a command, or a button press."""

    def __init__(self, app: BotApplication, api: ConsoleBotApi) -> None:
        self._app = app
        self._api = api
        self._ids = itertools.count(1)
        self._chat = Chat(id=CONSOLE_USER.id, type=Chat.PRIVATE, first_name="Console")

    def update_for(self, text: str) -> Update:
        """The update for one typed line; a number presses the button shown with it."""
        buttons = self._api.buttons
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            button = buttons[int(text) - 1]
            message = Message.de_json(button.message, self._app.bot)
            query = CallbackQuery(
                id=str(next(self._ids)),
                from_user=CONSOLE_USER,
                chat_instance="console",
                data=button.data,
                message=message,
            )
            return self._bound(Update(update_id=next(self._ids), callback_query=query))
        entities = []
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            entities = [MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=length)]
        message = Message(
            message_id=1_000_000 + next(self._ids),
            date=dt.datetime.now(dt.UTC),
            chat=self._chat,
            from_user=CONSOLE_USER,
            text=text,
            entities=entities,
        )
        return self._bound(Update(update_id=next(self._ids), message=message))

    def _bound(self, update: Update) -> Update:
        update.set_bot(self._app.bot)
        for obj in (update.message, update.callback_query):
            if obj is not None:
                obj.set_bot(self._app.bot)
        if update.callback_query is not None and update.callback_query.message is not None:
            update.callback_query.message.set_bot(self._app.bot)
        return update


def run_console(
    settings: Settings,
    *,
    input_fn: Callable[[str], str] = input,
    output: Output = print,
    engine: Engine | None = None,
    model: Any = None,
    db_engine: Any = None,
) -> None:
    """Chats in the terminal until EOF, Ctrl-C or an exit word."""
    if engine is None:
        from index.engine import load_engine

        ensure_index(settings, output, model=model)
        output(texts.CONSOLE_LOADING)
        engine = load_engine(settings, model=model)
    api = ConsoleBotApi(output, chat_id=CONSOLE_USER.id)
    app = build_application(
        settings.model_copy(update={"telegram_bot_token": SecretStr(CONSOLE_TOKEN)}),
        engine=engine,
        db_engine=db_engine,
        request=api,
        persistence=False,
    )
    # The loop runs only while an update is handled: input() blocks in the main thread
    # between them, so Ctrl-C always lands there and never in a worker thread.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_start(app))
        output(texts.CONSOLE_WELCOME)
        chat = ConsoleChat(app, api)
        while True:
            try:
                line = input_fn(texts.CONSOLE_PROMPT)
            except (EOFError, KeyboardInterrupt):
                output("")
                break
            text = line.strip()
            if not text:
                continue
            if text.lower() in EXIT_WORDS:
                break
            try:
                loop.run_until_complete(app.process_update(chat.update_for(text)))
            except KeyboardInterrupt:
                output("")
                break
            output("")
        loop.run_until_complete(_stop(app))
    finally:
        loop.close()
    output(texts.CONSOLE_BYE)


async def _start(app: BotApplication) -> None:
    await app.initialize()
    await setup_application(app)
    # As run_polling does: conversation timeouts and the index reload are jobs.
    if app.job_queue is not None:
        await app.job_queue.start()


async def _stop(app: BotApplication) -> None:
    # Outstanding background work (the question log) is stored before the DB is released.
    pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if pending:
        await asyncio.wait(pending, timeout=5)
    if app.job_queue is not None and app.job_queue.scheduler.running:
        await app.job_queue.stop(wait=False)
    await release_resources(app)
    await app.shutdown()

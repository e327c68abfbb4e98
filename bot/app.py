"""Builds the Telegram Application: typed resources, handlers in order, jobs, error handler."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot import chat_policy, texts
from bot.aiohttp_request import AiohttpRequest
from bot.checkpointed_app import CheckpointedApplication
from bot.context import CONTEXT_TYPES, BotApplication, BotContext
from bot.handlers import (
    admin,
    announcements,
    ask,
    doc_status,
    eligibility,
    errors,
    fallback,
    leads,
    privacy,
    staff,
    start,
    uploads,
)
from bot.persistence import StatePersistence
from bot.polling import JournaledUpdateQueue, PollingRequest
from bot.rate_limit import MessageRateLimiter
from bot.update_journal import UpdateJournal
from bot.update_processor import ChatOrderedUpdateProcessor

if TYPE_CHECKING:
    from index.settings import Settings

logger = logging.getLogger(__name__)

OWNER_COMMANDS = [
    BotCommand("start", texts.COMMAND_START),
    BotCommand("kiemtra", texts.COMMAND_CHECK),
    BotCommand("dangky", texts.COMMAND_REGISTER),
    BotCommand("huy", texts.COMMAND_CANCEL),
    BotCommand("trogiup", texts.COMMAND_HELP),
    BotCommand("help", texts.COMMAND_HELP),
    BotCommand("xoadulieu", texts.COMMAND_DELETE_DATA),
]


def file_url_for(base_url: str) -> str:
    """Derives the Bot API file URL from the API URL (".../bot" -> ".../file/bot")."""
    base = base_url.rstrip("/")
    if base.endswith("/bot"):
        return base.removesuffix("/bot") + "/file/bot"
    return base + "/file/bot"


def bot_api_request(settings: Settings, *, pool_size: int) -> BaseRequest:
    """The request object of Bot API calls, by TELEGRAM_HTTP_CLIENT, with PTB's timeouts."""
    if settings.telegram_http_client == "httpx":
        return HTTPXRequest(connection_pool_size=pool_size)
    return AiohttpRequest(connection_pool_size=pool_size)


def build_application(
    settings: Settings,
    *,
    engine: Any | None = None,
    db_engine: Any | None = None,
    request: BaseRequest | None = None,
    persistence: bool = True,
) -> BotApplication:
    """Builds the Application; resources not injected are loaded by post_init."""
    if settings.telegram_bot_token is None or not settings.has_telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set; see .env.example.")
    processor = ChatOrderedUpdateProcessor(
        max_running=settings.concurrent_updates, cpu_threads=settings.answer_threads
    )
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .application_class(CheckpointedApplication)
        .concurrent_updates(processor)
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(
            settings.telegram_api_base_file_url or file_url_for(settings.telegram_api_base_url)
        )
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(
            MessageRateLimiter(
                bulk_per_second=settings.telegram_messages_per_second,
                reply_per_second=settings.telegram_reply_messages_per_second,
                group_per_minute=settings.telegram_group_messages_per_minute,
                max_retries=settings.telegram_max_retries,
            )
        )
        .post_init(setup_application)
        .post_shutdown(release_resources)
    )
    # PTB's default pool sizes: 256 connections for calls, one for the long poll.
    builder = builder.request(
        request if request is not None else bot_api_request(settings, pool_size=256)
    )
    journal: UpdateJournal | None = None
    if persistence:
        settings.persistence_path.parent.mkdir(parents=True, exist_ok=True)
        # Updates are journaled until a state snapshot covers them, so a crash drops none.
        journal = UpdateJournal(settings.update_journal_dir)
        builder = builder.persistence(
            StatePersistence(
                settings.persistence_path, journal, save_interval=settings.state_save_seconds
            )
        ).update_queue(
            JournaledUpdateQueue(journal, sync_each_put=settings.telegram_mode == "webhook")
        )
    polling_request = request if request is not None else bot_api_request(settings, pool_size=1)
    builder = builder.get_updates_request(PollingRequest(polling_request, journal))
    app: BotApplication = builder.build()
    if isinstance(app, CheckpointedApplication):
        processor.add_done_callback(app.update_done)

    # bot_data is not persisted, so what is stored here survives initialize().
    app.bot_data.settings = settings
    app.bot_data.engine = engine
    app.bot_data.db = db_engine

    # Order matters! bot.chat_policy comes first: personal data only in private chats, staff
    # tools only in private and staff chats, channel posts never answered. The text-taking conversations (note, upload, document status, then
    # registration) sit in bot.conversations.CONVERSATION_GROUP, before group 0, so a staff
    # member's note is never taken as their name; in group 0 the check and the commands claim
    # their updates before the catch-all question handler of ask, and fallback takes whatever
    # nobody claimed.
    chat_policy.register(app)
    staff.register(app)
    uploads.register(app)
    doc_status.register(app)
    admin.register(app)
    leads.register(app)
    eligibility.register(app)
    privacy.register(app)
    start.register(app)
    ask.register(app)
    fallback.register(app)
    announcements.register(app)
    app.add_error_handler(errors.error_handler)
    schedule_index_reload(app)
    return app


async def reload_index(context: BotContext) -> None:
    """Serves an index published by the CLI (`python -m scripts reindex`) without a restart."""
    engine = context.bot_data.engine
    if engine is None:
        return
    # reload_if_changed loads the new version completely before swapping and keeps the old
    # one on any failure, so a half-built or broken index is never served.
    if await asyncio.to_thread(engine.reload_if_changed):
        logger.info("Now serving index version %s", engine.version)


def schedule_index_reload(app: BotApplication) -> None:
    """Adds the repeating job that calls `Engine.reload_if_changed()` (INDEX_RELOAD_SECONDS)."""
    settings = app.bot_data.settings
    interval = settings.index_reload_seconds if settings is not None else 0
    if interval <= 0 or app.job_queue is None:
        return
    app.job_queue.run_repeating(
        reload_index,
        interval=dt.timedelta(seconds=interval),
        first=dt.timedelta(seconds=interval),
        name="index-reload",
    )




async def setup_application(app: BotApplication) -> None:
    """Loads the engine and DB engine when not injected, and publishes the command menu."""
    data = app.bot_data
    settings = data.settings
    assert settings is not None  # set by build_application
    if data.engine is None:
        import index

        logger.info("Loading the retrieval engine from %s", settings.index_dir)
        data.engine = await asyncio.to_thread(index.load_engine, settings)
    if data.db is None:
        from index.leads.db import create_db_engine, migrate

        await asyncio.to_thread(migrate, settings.database_url)
        data.db = create_db_engine(settings.database_url)
        data.owns_db = True
    await publish_commands(app, settings)


async def publish_commands(app: BotApplication, settings: Settings) -> None:
    """Sets the command menu: owner commands for all, plus staff/admin ones in their chats."""
    try:
        await app.bot.set_my_commands(OWNER_COMMANDS, scope=BotCommandScopeDefault())
        for user_id in dict.fromkeys([*settings.staff_user_ids, *settings.admin_user_ids]):
            extra = list(staff.COMMANDS)
            if settings.is_admin(user_id):
                extra += admin.COMMANDS
            # In a private chat the chat id is the user id, so the scope reaches that person.
            await app.bot.set_my_commands(
                OWNER_COMMANDS + [BotCommand(name, text) for name, text in extra],
                scope=BotCommandScopeChat(chat_id=user_id),
            )
    except TelegramError as exc:
        # A missing menu is cosmetic; the bot still answers.
        logger.warning("Could not set the bot commands: %s", exc)


async def release_resources(app: BotApplication) -> None:
    """Stores the queued question logs, then disposes the DB engine created by setup."""
    db_engine = app.bot_data.db
    if db_engine is not None and app.bot_data.owns_db:
        from index.leads.writer import close_writer

        await asyncio.to_thread(close_writer, db_engine)
        db_engine.dispose()

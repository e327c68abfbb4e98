"""The one global error handler: log first, apologise to the user, tell the staff chat."""

from __future__ import annotations

import html
import logging
import uuid

from telegram import Update
from telegram.error import NetworkError, TelegramError

from bot import texts
from bot.context import BotContext

logger = logging.getLogger(__name__)


async def error_handler(update: object, context: BotContext) -> None:
    """Logs the error with its trace, apologises in the chat and notifies the staff chat."""
    if update is None and isinstance(context.error, NetworkError):
        # Polling hiccups retry by themselves; telling the staff chat each time is just noise.
        logger.warning("Network error while polling: %s", context.error)
        return
    error_id = uuid.uuid4().hex[:8]
    # The update's id only: its repr holds what the user typed (names, phone numbers).
    logger.error(
        "Unhandled error %s while handling update %s",
        error_id,
        update.update_id if isinstance(update, Update) else type(update).__name__,
        exc_info=context.error,
    )
    if isinstance(update, Update):
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except TelegramError:
                # The query may be too old to answer; the chat message below still goes out.
                logger.debug("Could not answer the callback query of error %s", error_id)
        if update.effective_chat is not None:
            try:
                await context.bot.send_message(update.effective_chat.id, texts.ERROR_REPLY)
            except TelegramError:
                logger.warning("Could not tell the user about error %s", error_id)
    settings = context.bot_data.settings
    staff_chat_id = settings.staff_chat_id if settings is not None else None
    if staff_chat_id is not None:
        error_type = type(context.error).__name__ if context.error else "Unknown"
        try:
            await context.bot.send_message(
                staff_chat_id,
                texts.ERROR_STAFF_NOTICE.format(
                    error_id=error_id, error_type=html.escape(error_type)
                ),
            )
        except TelegramError:
            logger.warning("Could not notify the staff chat about error %s", error_id)

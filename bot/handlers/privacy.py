"""/xoadulieu: deletes everything stored about the user, after an explicit confirmation.

Callback data: "privacy:confirm" and "privacy:cancel".
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import texts
from bot.context import BotApplication, BotContext, get_db
from index.leads import erasure
from index.leads.db import session_scope

if TYPE_CHECKING:
    import sqlalchemy

logger = logging.getLogger(__name__)


async def ask_delete(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Explains what will be deleted and asks for confirmation."""
    if update.effective_message is None:
        return
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.PRIVACY_BTN_CONFIRM, callback_data="privacy:confirm")],
            [InlineKeyboardButton(texts.PRIVACY_BTN_CANCEL, callback_data="privacy:cancel")],
        ]
    )
    await update.effective_message.reply_text(texts.PRIVACY_EXPLAIN, reply_markup=markup)


def _delete_rows(db_engine: sqlalchemy.Engine, telegram_user_id: int) -> int:
    """Deletes the user's rows in a worker thread; returns how many were removed."""
    with session_scope(db_engine) as session:
        return erasure.delete_user_data(session=session, telegram_user_id=telegram_user_id)


async def confirm_delete(update: Update, context: BotContext) -> None:
    """Deletes the user's database rows and bot state (also in the state file), then reports."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    await query.answer()
    try:
        removed = await asyncio.to_thread(_delete_rows, get_db(context), user.id)
    except Exception:
        # The user must never be told the data is gone when it is not.
        logger.exception("Deleting the data of a user failed")
        await query.edit_message_text(texts.PRIVACY_FAILED)
        return
    # drop_* also removes the entries from the persistence file at its next flush; clear()
    # first, because this handler's context still holds the dicts.
    if context.user_data is not None:
        context.user_data.clear()
    context.application.drop_user_data(user.id)
    chat = update.effective_chat
    # Chat data of a private chat belongs to this user alone; a group's is shared.
    if chat is not None and chat.id == user.id:
        if context.chat_data is not None:
            context.chat_data.clear()
        context.application.drop_chat_data(chat.id)
    await query.edit_message_text(texts.PRIVACY_DONE.format(count=removed))


async def cancel_delete(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Keeps the data."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await query.edit_message_text(texts.PRIVACY_CANCELLED)


def register(app: BotApplication) -> None:
    """Registers /xoadulieu and its two buttons."""
    app.add_handler(CommandHandler("xoadulieu", ask_delete))
    app.add_handler(CallbackQueryHandler(confirm_delete, pattern=r"^privacy:confirm$"))
    app.add_handler(CallbackQueryHandler(cancel_delete, pattern=r"^privacy:cancel$"))

"""Polite replies to everything no other handler claimed: media, edits, unknown input."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import texts
from bot.context import BotApplication, BotContext


async def unsupported_media(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Explains that only text messages are understood."""
    message = update.effective_message
    if message is None:
        return
    if message.location is not None or message.venue is not None:
        await message.reply_text(texts.UNSUPPORTED_LOCATION)
    elif message.contact is not None:
        await message.reply_text(texts.UNSUPPORTED_CONTACT)
    elif message.document is not None:
        await message.reply_text(texts.UNSUPPORTED_DOCUMENT)
    else:
        await message.reply_text(texts.UNSUPPORTED_MEDIA)


async def edited_message(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Asks the user to send an edited question again as a new message."""
    if update.edited_message is not None:
        await update.edited_message.reply_text(texts.EDITED_MESSAGE)


async def unknown_command(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Points the user to /trogiup for an unknown command."""
    if update.message is not None:
        await update.message.reply_text(texts.UNKNOWN_COMMAND)


async def stale_button(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Answers a button press nobody handles (old menus, finished conversations)."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


def register(app: BotApplication) -> None:
    """Registers the catch-alls; they must come after every feature handler."""
    # Only private chats: in the staff group, chatter and other bots' commands are not ours.
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, edited_message))
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & private & filters.COMMAND, unknown_command)
    )
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & private
            & (
                filters.Sticker.ALL
                | filters.PHOTO
                | filters.VOICE
                | filters.AUDIO
                | filters.VIDEO
                | filters.VIDEO_NOTE
                | filters.ANIMATION
                | filters.LOCATION
                | filters.VENUE
                | filters.CONTACT
                | filters.Document.ALL
                | filters.POLL
                | filters.Dice.ALL
            ),
            unsupported_media,
        )
    )
    app.add_handler(CallbackQueryHandler(stale_button))

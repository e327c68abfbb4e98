"""/start, /help, /trogiup and the main menu buttons that belong to the Q&A."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import texts
from bot.context import BotApplication, BotContext


def main_menu() -> InlineKeyboardMarkup:
    """Returns the main menu keyboard."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.MENU_ASK, callback_data="menu:ask")],
            [InlineKeyboardButton(texts.MENU_CHECK, callback_data="menu:check")],
            [InlineKeyboardButton(texts.MENU_REGISTER, callback_data="menu:register")],
            [InlineKeyboardButton(texts.MENU_HELP, callback_data="menu:help")],
        ]
    )


async def start(update: Update, context: BotContext) -> None:
    """Greets the user and shows the main menu; `/start xoadulieu` asks about erasure.

    The other deep links (`dangky`, `kiemtra`) are entry points of their conversations.
    """
    if update.effective_message is None:
        return
    if context.args == ["xoadulieu"] and update.effective_chat is not None:
        from bot.handlers.privacy import ask_delete

        if update.effective_chat.type == "private":
            await ask_delete(update, context)
            return
    user = update.effective_user
    name = html.escape(user.first_name) if user and user.first_name else "bạn"
    await update.effective_message.reply_text(
        texts.WELCOME.format(name=name), reply_markup=main_menu()
    )


async def show_help(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Shows the commands, example questions and the privacy note."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.HELP)


async def menu_ask(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Invites the user to type a question."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.reply_text(texts.ASK_PROMPT)


async def menu_help(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Shows the help text from the menu button."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.reply_text(texts.HELP)


def register(app: BotApplication) -> None:
    """Registers /start, /help, /trogiup and the menu:ask / menu:help buttons."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["help", "trogiup"], show_help))
    app.add_handler(CallbackQueryHandler(menu_ask, pattern=r"^menu:ask$"))
    app.add_handler(CallbackQueryHandler(menu_help, pattern=r"^menu:help$"))

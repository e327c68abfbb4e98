"""Where each feature may run: personal data in private chats only, staff tools in staff chats.

One early handler group (`POLICY_GROUP`, before every conversation) decides per update:

- Channel posts are never answered (a channel is public; nothing of ours belongs there).
- Registration, erasure and the eligibility check (/dangky, /xoadulieu, /kiemtra and their
  buttons) outside a private chat get a short note and a button that opens the private chat
  with the flow already started (a `t.me/<bot>?start=<payload>` deep link, handled by
  `deep_link` below). The staff chat is no exception: an owner's phone number has no place
  in a group.
- Staff and admin commands and buttons work in a private chat and in the staff chat
  (`STAFF_CHAT_ID`); anywhere else they get one neutral refusal that reveals nothing, not
  even whether the sender is staff. Who may use them is still checked by `bot.access`.

Updates the policy lets through go on to the feature handlers unchanged.
"""

from __future__ import annotations

import logging
import re

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.context import BotApplication, BotContext, app_settings
from bot.conversations import CONVERSATION_GROUP

logger = logging.getLogger(__name__)

#: Before the conversations, so a group message never reaches a flow that asks for data.
POLICY_GROUP = CONVERSATION_GROUP - 1
#: Private-only command -> the deep-link payload that starts it in the private chat.
PRIVATE_COMMANDS = {"dangky": "dangky", "kiemtra": "kiemtra", "xoadulieu": "xoadulieu"}
#: Buttons of those flows, and the payload their deep link carries.
_PRIVATE_BUTTONS = (
    (re.compile(r"^(lead:|menu:register$)"), "dangky"),
    (re.compile(r"^(elig:|menu:check$)"), "kiemtra"),
    (re.compile(r"^privacy:"), "xoadulieu"),
)
PRIVATE_BUTTONS_RE = r"^(lead:|menu:register$|elig:|menu:check$|privacy:)"
STAFF_BUTTONS_RE = r"^(staff|admin):"


def deep_link_filter(payload: str) -> filters.BaseFilter:
    """Matches `/start <payload>`, what Telegram sends when a deep link is opened."""
    return filters.Regex(rf"^/start(@\w+)?\s+{re.escape(payload)}\s*$")


def deep_link(bot_username: str | None, payload: str) -> InlineKeyboardMarkup | None:
    """The button that opens the private chat with the bot and starts `payload` there."""
    if not bot_username:
        return None
    url = f"https://t.me/{bot_username}?start={payload}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(texts.PRIVATE_ONLY_BUTTON, url=url)]])


def _is_private(chat: Chat | None) -> bool:
    return chat is not None and chat.type == Chat.PRIVATE


def _staff_chat_allowed(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    if chat is None:
        return False
    settings = context.bot_data.settings
    return _is_private(chat) or (settings is not None and chat.id == settings.staff_chat_id)


def _payload_of(data: str) -> str:
    for pattern, payload in _PRIVATE_BUTTONS:
        if pattern.match(data):
            return payload
    return "dangky"


async def ignore_channel_post(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Leaves channel posts unanswered: whatever they say, a reply would be public."""
    chat = update.effective_chat
    logger.info("Ignored a channel post in chat %s", chat.id if chat else "?")
    raise ApplicationHandlerStop


async def go_private(update: Update, context: BotContext) -> None:
    """Answers a private-only command in a group with a button to the private chat."""
    message = update.effective_message
    if message is None:
        raise ApplicationHandlerStop
    command = (message.text or "").split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()
    payload = PRIVATE_COMMANDS.get(command, "dangky")
    await message.reply_text(
        texts.PRIVATE_ONLY, reply_markup=deep_link(context.bot.username, payload)
    )
    raise ApplicationHandlerStop


async def private_button(update: Update, context: BotContext) -> None:
    """Sends a group's press of a registration/check/erasure button to the private chat."""
    query = update.callback_query
    if query is None or query.data is None or _is_private(update.effective_chat):
        return  # a private chat: the flow's own handlers take it
    await query.answer(texts.PRIVATE_ONLY_SHORT)
    chat = update.effective_chat
    if chat is not None and chat.type != Chat.CHANNEL:
        markup = deep_link(context.bot.username, _payload_of(query.data))
        await context.bot.send_message(chat.id, texts.PRIVATE_ONLY, reply_markup=markup)
    raise ApplicationHandlerStop


async def refuse_staff_command(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Refuses a staff or admin command outside the private and staff chats."""
    user = update.effective_user
    chat = update.effective_chat
    logger.warning(
        "Refused a staff command from user %s in chat %s",
        user.id if user else None,
        chat.id if chat else None,
    )
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.WRONG_CHAT)
    raise ApplicationHandlerStop


async def staff_button(update: Update, context: BotContext) -> None:
    """Refuses a staff or admin button pressed outside the private and staff chats."""
    query = update.callback_query
    if query is None or _staff_chat_allowed(update, context):
        return
    await query.answer(texts.WRONG_CHAT, show_alert=True)
    raise ApplicationHandlerStop


def register(app: BotApplication) -> None:
    """Adds the policy handlers in `POLICY_GROUP`, before every feature."""
    from bot.handlers import admin, staff

    settings = app_settings(app)
    # The staff and admin menus (bot/handlers/staff.py, admin.py): one list of their commands.
    staff_commands = [name for name, _ in (*staff.COMMANDS, *admin.COMMANDS)]
    not_private = ~filters.ChatType.PRIVATE
    staff_chats: filters.BaseFilter = filters.ChatType.PRIVATE
    if settings.staff_chat_id is not None:
        staff_chats = staff_chats | filters.Chat(chat_id=settings.staff_chat_id)
    handlers = [
        MessageHandler(filters.UpdateType.CHANNEL_POSTS, ignore_channel_post),
        CommandHandler(list(PRIVATE_COMMANDS), go_private, filters=not_private),
        CommandHandler(staff_commands, refuse_staff_command, filters=~staff_chats),
        # A CallbackQueryHandler cannot filter by chat: these decide inside and let allowed
        # presses through (no ApplicationHandlerStop) to the feature handlers.
        CallbackQueryHandler(private_button, pattern=PRIVATE_BUTTONS_RE),
        CallbackQueryHandler(staff_button, pattern=STAFF_BUTTONS_RE),
    ]
    for handler in handlers:
        app.add_handler(handler, group=POLICY_GROUP)

"""Who may use the staff and admin tools: one decorator for commands and buttons alike."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from telegram import Update

from bot import texts
from bot.context import BotContext, get_settings

logger = logging.getLogger(__name__)

R = TypeVar("R")
HandlerCallback = Callable[[Update, BotContext], Coroutine[Any, Any, R]]


def attempted_command(update: Update) -> str:
    """Names what the user tried, for the refusal log line."""
    if update.callback_query is not None:
        return f"callback {update.callback_query.data}"
    message = update.effective_message
    if message is not None:
        if message.document is not None:
            return f"document {message.document.file_name}"
        if message.text:
            return message.text.split(maxsplit=1)[0]
    return "unknown update"


def restricted(
    kind: Literal["staff", "admin"] = "staff",
) -> Callable[[HandlerCallback[R]], HandlerCallback[R | None]]:
    """Lets only staff (or admins) through; everyone else gets a polite refusal, logged.

    Buttons are checked like commands: a forwarded staff message's buttons pressed by an owner
    are refused too.
    """

    def decorator(func: HandlerCallback[R]) -> HandlerCallback[R | None]:
        @functools.wraps(func)
        async def wrapper(update: Update, context: BotContext) -> R | None:
            settings = get_settings(context)
            user = update.effective_user
            user_id = user.id if user is not None else None
            allowed = settings.is_admin(user_id) if kind == "admin" else settings.is_staff(user_id)
            if allowed:
                return await func(update, context)
            logger.warning(
                "Refused %s command from user %s: %s", kind, user_id, attempted_command(update)
            )
            refusal = texts.ADMIN_REFUSAL if kind == "admin" else texts.STAFF_REFUSAL
            if update.callback_query is not None:
                await update.callback_query.answer(refusal, show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(refusal)
            # None keeps a conversation where it was (or never starts it).
            return None

        return wrapper

    return decorator

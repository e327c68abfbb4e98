"""Plumbing shared by every multi-step flow: the early handler group, step wrapping, timeouts.

The text-taking conversations (staff note, admin upload, registration) live in
`CONVERSATION_GROUP`, before group 0 where the commands and the catch-all question handler
are. A step wraps its callback with `conversation_step`, so the update it took never reaches
group 0; a "leave" fallback returns END *without* stopping, so the command that ended the
conversation (/kiemtra, /start, /xoadulieu) still runs in group 0. That replaces re-dispatching
updates by hand.

Every conversation ends after `Settings.conversation_timeout_minutes` of silence: the user is
told, and what the flow kept in user_data (a draft with a name and phone number) is removed,
also from the persistence file (data minimisation, Nghị định 13/2023/NĐ-CP).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, ConversationHandler, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.context import BotContext

logger = logging.getLogger(__name__)

#: Group of the text-taking conversations; group 0 (commands, questions) comes after it.
CONVERSATION_GROUP = -1

R = TypeVar("R")
Step = Callable[[Update, BotContext], Coroutine[Any, Any, R]]
Handlers = Sequence[BaseHandler[Update, BotContext, Any]]


def conversation_step(func: Step[R]) -> Step[NoReturn]:
    """Wraps a conversation callback so later handler groups never see its update.

    The returned state travels in ApplicationHandlerStop, which ConversationHandler
    unwraps; without it the question handler in group 0 would also answer a typed name.
    """

    @functools.wraps(func)
    async def wrapper(update: Update, context: BotContext) -> NoReturn:
        raise ApplicationHandlerStop(await func(update, context))

    return wrapper


async def forget_on_timeout(
    update: Update, context: BotContext, *, keys: Iterable[str], text: str | None
) -> None:
    """Removes a timed-out flow's keys from user_data (and the state file) and says so."""
    data = context.user_data
    if data is not None:
        for key in keys:
            data.pop(key, None)
    user = update.effective_user
    if user is not None:
        # The timeout runs as a job, which PTB does not tie to this user: mark the user so
        # the next persistence flush writes the dict without the draft.
        context.application.mark_data_for_update_persistence(user_ids=user.id)
    chat = update.effective_chat
    if text and chat is not None:
        try:
            await context.bot.send_message(chat.id, text)
        except TelegramError:
            logger.warning("Could not tell chat %s that its conversation timed out", chat.id)


def build_conversation(
    *,
    name: str,
    entry_points: Handlers,
    states: dict[object, Handlers],
    fallbacks: Handlers,
    persistent: bool,
    timeout_minutes: float,
    on_timeout: Step[None],
) -> ConversationHandler[BotContext]:
    """Builds a ConversationHandler the way every flow here wants it.

    Re-entry is allowed (the command restarts the flow), state is kept per chat and user,
    and after `timeout_minutes` without an answer `on_timeout` runs with the last update.
    """
    all_states: dict[object, Handlers] = dict(states)
    all_states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, on_timeout)]
    with warnings.catch_warnings():
        # The flows mix commands, text and buttons of several messages and are tracked per
        # chat and user on purpose, so PTB's per_message advice does not apply.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=list(entry_points),
            states={state: list(handlers) for state, handlers in all_states.items()},
            fallbacks=list(fallbacks),
            allow_reentry=True,
            name=name,
            persistent=persistent,
            conversation_timeout=timeout_minutes * 60 if timeout_minutes > 0 else None,
        )

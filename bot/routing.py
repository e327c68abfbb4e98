"""Starting a flow (/dangky, /kiemtra) from a free-text request such as "tôi muốn đăng ký".

The free-text handler learns from the engine that a message asks for an action. The flows
are ConversationHandlers, which only enter their first state from one of their own entry
points, so each flow gets one more entry point: a text handler whose `RoutedFilter` matches
exactly the messages the free-text handler routed to it. `start_flow` marks the message,
hands it to that one conversation (public `check_update` / `handle_update`), and unmarks it.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import ConversationHandler, filters

from bot.context import BotApplication, BotContext


class RoutedFilter(filters.MessageFilter):
    """Matches a message that the free-text handler routed to this filter's flow."""

    def __init__(self) -> None:
        super().__init__(name="RoutedFilter")
        self.pending: set[tuple[int, int]] = set()

    def filter(self, message: Message) -> bool:
        return (message.chat_id, message.message_id) in self.pending


def add_route(
    app: BotApplication,
    intents: tuple[str, ...],
    conversation: ConversationHandler[Any],
    routed: RoutedFilter,
) -> None:
    """Records which conversation starts for which intents."""
    for intent in intents:
        app.bot_data.routes[intent] = (conversation, routed)


async def start_flow(update: Update, context: BotContext, intent: str) -> bool:
    """Starts the conversation of an intent on this message; False when there is none."""
    routes = context.bot_data.routes
    message = update.effective_message
    if intent not in routes or message is None:
        return False
    conversation, routed = routes[intent]
    key = (message.chat_id, message.message_id)
    routed.pending.add(key)
    try:
        check = conversation.check_update(update)
        if check is None or check is False:
            return False
        await conversation.handle_update(update, context.application, check, context)
        return True
    finally:
        routed.pending.discard(key)

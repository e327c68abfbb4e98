"""Telegram's flood limits, applied to messages only; cosmetic calls never fail a handler.

`AIORateLimiter` counts every request that names a chat against the bot-wide limit of
30 messages a second, including the typing indicator that precedes every answer; that halves
how many answers a second the bot may send. Chat actions are not messages (Telegram's limits
are about notifications), so they skip the limiter.

Every request passes through here, so this is also the one place that keeps cosmetic calls
from costing the user anything: a typing indicator or a callback-query acknowledgement that
Telegram refuses (429 RetryAfter, a timeout, a network error, a query too old to answer) is
logged and reported as done, and the handler goes on to send the answer itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import TelegramError
from telegram.ext import AIORateLimiter

logger = logging.getLogger(__name__)

#: Bot API methods that send nothing a user is notified of.
UNLIMITED_METHODS = frozenset({"sendChatAction"})
#: Calls whose failure must not stop a handler: the answer that follows is what matters.
COSMETIC_METHODS = frozenset({"sendChatAction", "answerCallbackQuery"})

Result = bool | dict[str, Any] | list[dict[str, Any]]


class MessageRateLimiter(AIORateLimiter):
    """AIORateLimiter that lets the typing indicator through and never fails on cosmetics."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Sends cosmetic calls at once and everything else through AIORateLimiter."""
        if endpoint not in COSMETIC_METHODS:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        try:
            if endpoint in UNLIMITED_METHODS:
                return await callback(*args, **kwargs)
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        except TelegramError as exc:
            # The parameters are not logged: a callback answer may quote what the user typed.
            logger.info("Ignored a failed %s: %s", endpoint, type(exc).__name__)
            return True

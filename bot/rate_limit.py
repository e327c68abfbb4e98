"""Telegram's flood limits, applied to messages only.

`AIORateLimiter` counts every request that names a chat against the bot-wide limit of
30 messages a second, including the typing indicator that precedes every answer; that halves
how many answers a second the bot may send. Chat actions are not messages (Telegram's limits
are about notifications), so they skip the limiter. A refused chat action costs nothing: it
is cosmetic, and the answer that follows still goes through the limiter.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

#: Bot API methods that send nothing a user is notified of.
UNLIMITED_METHODS = frozenset({"sendChatAction"})


class MessageRateLimiter(AIORateLimiter):
    """AIORateLimiter that lets cosmetic calls (the typing indicator) through unthrottled."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Sends cosmetic calls at once and everything else through AIORateLimiter."""
        if endpoint in UNLIMITED_METHODS:
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

"""Telegram's flood limits, by kind of send; a 429 is waited out; cosmetic calls never fail.

What Telegram documents (Bot FAQ, "My bot is hitting limits, how do I avoid this?"): in one
chat, avoid more than a message a second (short bursts are allowed, then 429s); bulk
notifications to many users: "not more than 30 messages per second or so"; a group: not
more than 20 messages a minute. So the bot paces each kind of send as documented:

- A reply, i.e. anything sent while an update is being handled (`replying`, set by
  bot.update_processor), has no fixed bot-wide cap by default
  (`TELEGRAM_REPLY_MESSAGES_PER_SECOND=0`): the 30/s is documented for bulk notifications,
  and replies are paced by the users themselves, each waiting for a reply before typing
  again. Capped at 30/s the load test gave 200 registrations a confirmation p95 of 6.7 s
  and 50 users asking a p95 of 2.4–4.5 s (README, "Measured numbers"); uncapped, see there.
- A bulk send, one not answering an update (the job queue: staff announcements), goes
  through a `TELEGRAM_MESSAGES_PER_SECOND` (30) gate.
- Every group chat also through its own `TELEGRAM_GROUP_MESSAGES_PER_MINUTE` (20) gate.
- A 429 (RetryAfter) costs the user nothing: the request waits Telegram's `retry_after` and
  is retried, up to `TELEGRAM_MAX_RETRIES` times, ahead of fresh sends; the gate it passed
  pauses as long and learns a lower cap (bot.send_gate), so a limit we do not know of is
  found instead of stormed.

Gates are fair (bot.send_gate): whoever waits, the chat served least recently goes first,
so with a cap set a question asked during 200 registrations does not queue behind them.

The typing indicator is not a message (the limits are about notifications) and skips the
gates. This is also the one place that keeps cosmetic calls from costing the user anything:
a typing indicator or a callback-query acknowledgement that Telegram refuses (429, a
timeout, a network error, a query too old to answer) is logged and reported as done, and
the handler goes on to send the answer itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.send_gate import SendGate

logger = logging.getLogger(__name__)

#: Bot API methods that send nothing a user is notified of.
UNLIMITED_METHODS = frozenset({"sendChatAction"})
#: Calls whose failure must not stop a handler: the answer that follows is what matters.
COSMETIC_METHODS = frozenset({"sendChatAction", "answerCallbackQuery"})
#: Group gates kept for idle groups before the idle ones are dropped.
MAX_GROUP_GATES = 512
#: Added to Telegram's retry_after, as PTB does: its seconds are whole and rounded.
RETRY_MARGIN_SECONDS = 0.1

#: `rate_limit_args` of a send whose caller retries a 429 itself (PTB drops a 0 as unset).
NO_RETRIES = -1
#: True while an update is being handled: what is sent then is a reply, not a bulk send.
replying: contextvars.ContextVar[bool] = contextvars.ContextVar("replying", default=False)

Result = bool | dict[str, Any] | list[dict[str, Any]]


def _retry_seconds(exc: RetryAfter) -> float:
    delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


class MessageRateLimiter(BaseRateLimiter[int]):
    """Paces replies, bulk sends and groups separately; retries 429s; ignores cosmetic failures.

    Args:
        bulk_per_second: Bot-wide cap on sends that answer no update (Telegram's ~30/s).
        reply_per_second: Bot-wide cap on replies; 0 = none (a cap is learned from 429s).
        group_per_minute: Cap per group chat (Telegram's 20/min).
        max_retries: Retries of a request Telegram answered with 429.
    """

    def __init__(
        self,
        *,
        bulk_per_second: float,
        reply_per_second: float,
        group_per_minute: float,
        max_retries: int,
    ) -> None:
        self.bulk = SendGate(bulk_per_second)
        self.replies = SendGate(reply_per_second)
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.groups: dict[int | str, SendGate] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group_gate(self, chat_id: int | str) -> SendGate:
        gate = self.groups.get(chat_id)
        if gate is None:
            if len(self.groups) >= MAX_GROUP_GATES:
                for key in [k for k, g in self.groups.items() if not g.waiting]:
                    del self.groups[key]
            gate = self.groups[chat_id] = SendGate(self.group_per_minute, 60.0)
        return gate

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Sends one request through the gates that apply to it, retrying after 429s."""
        if endpoint in COSMETIC_METHODS:
            try:
                return await callback(*args, **kwargs)
            except TelegramError as exc:
                # Not retried (a late indicator is useless) and the parameters are not
                # logged: a callback answer may quote what the user typed.
                logger.info("Ignored a failed %s: %s", endpoint, type(exc).__name__)
                return True
        chat_id = data.get("chat_id")
        if chat_id is None:
            # getMe, getUpdates, setMyCommands…: not messages, not limited as such.
            return await callback(*args, **kwargs)
        try:
            key: int | str = int(chat_id)
        except (TypeError, ValueError):
            key = str(chat_id)  # "@channel"
        gates = [self.replies if replying.get() else self.bulk]
        if isinstance(key, str) or key < 0:
            gates.insert(0, self._group_gate(key))
        max_retries = self.max_retries if rate_limit_args is None else max(0, rate_limit_args)
        attempt = 0
        while True:
            for gate in gates:
                await gate.acquire(key, retry=attempt > 0)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = _retry_seconds(exc) + RETRY_MARGIN_SECONDS
                # The narrowest gate takes the blame: a group's, else the bot-wide one.
                gates[0].flooded(seconds)
                if attempt >= max_retries:
                    logger.warning("%s refused with 429 after %s retries", endpoint, max_retries)
                    raise
                attempt += 1
                logger.info("%s got 429; retrying after %.1f s", endpoint, seconds)
                await asyncio.sleep(seconds)

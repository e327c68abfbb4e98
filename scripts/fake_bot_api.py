"""A loopback fake of the Telegram Bot API, for end-to-end tests and the load test.

`FakeBotApi` holds the state (updates to deliver, every call the bot made);
`scripts.fake_bot_server.serve()` runs it behind a `ThreadingHTTPServer` bound to 127.0.0.1
only. It speaks the Bot API methods the bot uses, with Telegram's confirmation rule for
`getUpdates`: an update is confirmed as soon as the bot asks for a higher offset, and is never
delivered again after that, even to a restarted bot. Like Telegram, it can refuse messages sent too fast with 429 "retry after N"
(`flood_rate`: messages a second, bot-wide, above which it does; `flood_after`: messages
after which it does for one second, however slowly they came). Everything is bounded:
the number of updates and recorded calls is capped, and long polls return within a second.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Methods whose result is simply `true`.
TRUE_METHODS = frozenset(
    {
        "deleteWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "answerCallbackQuery",
        "sendChatAction",
        "deleteMessage",
        "close",
        "logOut",
    }
)
#: Methods that return the sent or edited Message.
MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
#: Caps that keep a runaway bot (or test) from eating the machine.
MAX_UPDATES = 200_000
MAX_CALLS = 500_000
#: Longest a getUpdates long poll is held, whatever timeout the bot asks for.
MAX_POLL_SECONDS = 1.0

Fault = Callable[[str, dict[str, Any]], "tuple[int, dict[str, Any]] | None"]


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call the bot made: method, parameters, result and when it arrived."""

    method: str
    params: dict[str, Any]
    result: Any
    at: float

    @property
    def chat_id(self) -> int | None:
        """The chat the call addresses, if any."""
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def text(self) -> str:
        """The text of a sent or edited message ('' otherwise)."""
        return str(self.params.get("text", ""))

    def callback_data(self) -> list[str]:
        """The callback data of the inline keyboard this call carries, in order."""
        markup = self.params.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        return [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if "callback_data" in button
        ]


@dataclass(slots=True)
class FakeBotApi:
    """State of the fake Bot API. Thread-safe: the HTTP server and drivers share it."""

    token: str
    bot_user: dict[str, Any]
    #: Called before every method but getUpdates; returning (status, payload) replaces the
    #: normal answer (and the call is not recorded).
    fault: Fault | None = None
    #: Messages a second (sent or edited, bot-wide) above which the bot gets 429 "retry
    #: after N", as Telegram answers a flood; None: never. The burst is one second's worth.
    flood_rate: float | None = None
    #: After this many messages (sent or edited, bot-wide), the next one and every one in
    #: the second after it get 429 "retry after 1", once; None: never. Unlike `flood_rate`
    #: it does not depend on the pace, so a test on a slow machine still meets a flood.
    flood_after: int | None = None
    #: How many messages were refused with 429 (they are not recorded: no user saw them).
    flooded: int = 0
    calls: list[ApiCall] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    pushed_at: dict[int, float] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    by_chat: dict[int, list[ApiCall]] = field(default_factory=dict)
    confirmed_offset: int = 0
    polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    polled: threading.Event = field(default_factory=threading.Event)
    # One condition per audience, all on `lock`, so a reply wakes only who waits for it:
    # 200 drivers woken by every call would steal the CPU the bot is being measured on.
    _updates_cond: threading.Condition = field(init=False)
    _calls_cond: threading.Condition = field(init=False)
    _chat_conds: dict[int, threading.Condition] = field(default_factory=dict)
    _flood_tokens: float = 0.0
    _flood_stamp: float = 0.0
    _forced_count: int = 0
    _forced_until: float = 0.0
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(5000))

    def __post_init__(self) -> None:
        self._updates_cond = threading.Condition(self.lock)
        self._calls_cond = threading.Condition(self.lock)

    def _chat_cond(self, chat_id: int) -> threading.Condition:
        cond = self._chat_conds.get(chat_id)
        if cond is None:
            cond = self._chat_conds[chat_id] = threading.Condition(self.lock)
        return cond

    # --- what the "users" do -----------------------------------------------------------------

    def push(self, **update: Any) -> int:
        """Queues an update (message=..., callback_query=...) and returns its update_id."""
        with self.lock:
            if len(self.updates) >= MAX_UPDATES:
                raise RuntimeError(f"more than {MAX_UPDATES} updates pushed")
            update_id = next(self._update_ids)
            self.updates.append({"update_id": update_id, **update})
            self.pushed_at[update_id] = time.monotonic()
            self._updates_cond.notify_all()
            return update_id

    def pending(self) -> int:
        """How many pushed updates Telegram would still deliver (not confirmed yet)."""
        with self.lock:
            return sum(1 for u in self.updates if u["update_id"] >= self.confirmed_offset)

    # --- waiting for the bot -----------------------------------------------------------------

    def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        *,
        chat_id: int | None = None,
        start: int = 0,
        timeout: float,
    ) -> tuple[ApiCall | None, int]:
        """Waits for the first call at index >= start (of one chat's calls) matching predicate.

        Args:
            predicate: What the call must look like.
            chat_id: Only calls addressed to this chat (indexes count that chat's calls);
                every call when None.
            start: Where to resume scanning, as returned by the previous wait.
            timeout: Seconds to wait at most.

        Returns:
            The call (None on timeout) and the index to continue scanning from.
        """
        deadline = time.monotonic() + timeout
        index = start
        with self.lock:
            cond = self._calls_cond if chat_id is None else self._chat_cond(chat_id)
            while True:
                calls = self.calls if chat_id is None else self.by_chat.get(chat_id, [])
                while index < len(calls):
                    call = calls[index]
                    index += 1
                    if predicate(call):
                        return call, index
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, index
                cond.wait(remaining)

    def calls_to(self, chat_id: int) -> list[ApiCall]:
        """Every call addressed to one chat, in order."""
        with self.lock:
            return list(self.by_chat.get(chat_id, []))

    # --- the Bot API side ----------------------------------------------------------------------

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        wait = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + wait
        with self.lock:
            self.polls += 1
            # Telegram: asking for offset N confirms every update below N, for good.
            self.confirmed_offset = max(self.confirmed_offset, offset)
            while True:
                ready = [u for u in self.updates if u["update_id"] >= self.confirmed_offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready[:limit]
                self._updates_cond.wait(remaining)

    def _flood_wait(self) -> int | None:
        """Takes a token of the flood bucket; returns Telegram's retry_after if there is none."""
        forced = self._forced_flood()
        if forced is not None or self.flood_rate is None:
            return forced
        with self.lock:
            now = time.monotonic()
            if not self._flood_stamp:
                self._flood_tokens, self._flood_stamp = self.flood_rate, now
            elapsed = now - self._flood_stamp
            refilled = self._flood_tokens + elapsed * self.flood_rate
            self._flood_tokens = min(self.flood_rate, refilled)
            self._flood_stamp = now
            if self._flood_tokens >= 1:
                self._flood_tokens -= 1
                return None
            self.flooded += 1
            # Telegram's retry_after is whole seconds, at least 1.
            return max(1, math.ceil((1 - self._flood_tokens) / self.flood_rate))

    def _forced_flood(self) -> int | None:
        """`flood_after`'s one flood: its retry_after for a refused message, else None."""
        if self.flood_after is None:
            return None
        with self.lock:
            now = time.monotonic()
            if not self._forced_until:
                if self._forced_count < self.flood_after:
                    self._forced_count += 1
                    return None
                self._forced_until = now + 1.0  # the flood starts with this message
            if now >= self._forced_until:
                return None
            self.flooded += 1
            return max(1, math.ceil(self._forced_until - now))

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        chat: dict[str, Any] = (
            {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Nhóm cán bộ"}
        )
        result: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": params.get("text") or "…",
        }
        markup = params.get("reply_markup")
        # Like Telegram, only inline keyboards come back on the Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            result["reply_markup"] = markup
        return result

    def handle(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        """Answers one Bot API call: (HTTP status, JSON payload)."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method == "getUpdates":
            self.polled.set()
            return 200, {"ok": True, "result": self._get_updates(params)}
        if self.fault is not None:
            replaced = self.fault(method, params)
            if replaced is not None:
                # Not recorded: Telegram did not carry it out, so no user saw it.
                return replaced
        if method in MESSAGE_METHODS:
            wait = self._flood_wait()
            if wait is not None:
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                }
        if method == "getMe":
            result: Any = self.bot_user
        elif method in TRUE_METHODS:
            result = True
        elif method == "getMyCommands":
            result = []
        elif method in MESSAGE_METHODS:
            result = self._message(params)
        else:
            with self.lock:
                self.unexpected.append(method)
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        self._record(method, params, result)
        return 200, {"ok": True, "result": result}

    def _record(self, method: str, params: dict[str, Any], result: Any) -> None:
        call = ApiCall(method, params, result, time.monotonic())
        with self.lock:
            if len(self.calls) >= MAX_CALLS:
                raise RuntimeError(f"more than {MAX_CALLS} Bot API calls recorded")
            self.calls.append(call)
            self._calls_cond.notify_all()
            if call.chat_id is not None:
                self.by_chat.setdefault(call.chat_id, []).append(call)
                self._chat_cond(call.chat_id).notify_all()


@dataclass(slots=True)
class FakeUser:
    """A Telegram user in a private chat with the bot, pushing updates into a FakeBotApi."""

    api: FakeBotApi
    user_id: int
    first_name: str = "An"
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def user(self) -> dict[str, Any]:
        """The `from` object of this user's updates."""
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": f"user{self.user_id}",
            "language_code": "vi",
        }

    @property
    def chat(self) -> dict[str, Any]:
        """The private chat of this user with the bot."""
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}

    def send(self, text: str) -> int:
        """Sends a text message (a command when it starts with '/'); returns its update_id."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self.api.push(message=message)

    def press(self, data: str, message_id: int) -> int:
        """Presses an inline button of the bot's message `message_id`; returns the update_id."""
        return self.api.push(
            callback_query={
                "id": f"{self.user_id}-{next(self._query_ids)}",
                "from": self.user,
                "chat_instance": f"ci-{self.user_id}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self.chat,
                    "from": self.api.bot_user,
                    "text": "…",
                },
            }
        )

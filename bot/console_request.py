"""The Bot API of the console chat: answers the bot's calls offline and prints its messages.

The console runs the real Application (every flow, button and check the Telegram bot has)
over this request object instead of the network. A message the bot sends is printed as
plain text; its inline buttons are numbered, and the console presses one when the user
types its number (`ConsoleBotApi.buttons`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot import texts
from bot.answer_views import to_plain

#: The console's bot account (getMe); a made-up id, never a real Telegram bot.
BOT_USER: dict[str, Any] = {
    "id": 1,
    "is_bot": True,
    "first_name": "Trợ lý Khuyến công",
    "username": "khuyencong_console_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
#: Bot API methods whose result is simply `true` (the tests' recording request uses it too).
TRUE_METHODS = frozenset(
    {
        "answerCallbackQuery",
        "sendChatAction",
        "setMyCommands",
        "deleteMyCommands",
        "deleteWebhook",
        "setWebhook",
        "deleteMessage",
        "setChatMenuButton",
        "close",
        "logOut",
    }
)


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button the user can press by typing its number."""

    label: str
    data: str
    message: dict[str, Any]


class OfflineRequest(BaseRequest):
    """A BaseRequest with no connection: `respond(url, request_data)` answers every call.

    The console's Bot API, and the tests' recording one (tests/bot/conftest.py), build on it.
    """

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        del method, read_timeout, write_timeout, connect_timeout, pool_timeout  # no connection
        return self.respond(url, request_data)

    def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """The HTTP status and body the Bot API would send back."""
        raise NotImplementedError


class ConsoleBotApi(OfflineRequest):
    """Prints what the bot sends to the console's chat and returns plausible JSON."""

    def __init__(self, output: Callable[[str], None], *, chat_id: int) -> None:
        self._output = output
        self._chat_id = chat_id
        self._message_ids = itertools.count(1)
        #: The buttons of the newest message, in the order they are numbered.
        self.buttons: list[Button] = []

    def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        ok, result = self._result_for(api_method, params)
        if not ok:
            body = {"ok": False, "error_code": 400, "description": str(result)}
            return 400, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _result_for(self, api_method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if api_method == "getMe":
            return True, BOT_USER
        if api_method == "getMyCommands":
            return True, []
        if api_method == "answerCallbackQuery" and params.get("text"):
            self._output(str(params["text"]))
        if api_method in TRUE_METHODS:
            return True, True
        if api_method in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}:
            return True, self._show(api_method, params)
        if api_method in {"sendDocument", "sendPhoto"}:
            if int(params.get("chat_id", 0)) == self._chat_id:
                self._output(texts.CONSOLE_FILE_NOT_SHOWN)
            return True, self._message(params)
        # Downloads (uploads of documents) and anything else the console has no way to do.
        return False, f"{api_method} is not available in the console"

    def _show(self, api_method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        if message["chat"]["id"] != self._chat_id:
            # Notices to a staff chat (a new lead, an error report) are not the user's to see.
            return message
        if api_method != "editMessageReplyMarkup" and "text" in params:
            self._output(to_plain(str(params["text"])))
        keyboard = message.get("reply_markup", {}).get("inline_keyboard")
        if keyboard:
            self.buttons = [
                Button(str(button["text"]), str(button.get("callback_data", "")), message)
                for row in keyboard
                for button in row
                if button.get("callback_data")
            ]
            self._output(
                "\n".join(
                    texts.CONSOLE_BUTTON.format(number=number, label=button.label)
                    for number, button in enumerate(self.buttons, 1)
                )
            )
        elif api_method == "sendMessage" or (
            self.buttons and self.buttons[0].message["message_id"] == message["message_id"]
        ):
            # Only the newest message's buttons are numbered, so a number typed as an answer
            # (a phone, a head count) never presses a button of an older message.
            self.buttons = []
        return message

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "from": BOT_USER,
            # Like Telegram, the Message holds the text without its markup.
            "text": to_plain(str(params.get("text", ""))),
        }
        # Like Telegram, only inline keyboards come back on the Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

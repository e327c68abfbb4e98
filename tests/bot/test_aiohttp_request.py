"""The aiohttp Bot API client against a loopback aiohttp server: what it sends, how it fails."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.aiohttp_request import AiohttpRequest
from bot.app import build_application
from bot.polling import PollingRequest

#: Shaped like a real token, so a leak into a message would show.
TOKEN = "123456:SECRET-token-in-the-url-path-abcdefgh"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Trợ lý", "username": "kc_bot"}


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    host: str
    user_agent: str
    content_type: str
    peer_port: int
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)


class FakeTelegram:
    """A loopback Bot API: records requests; `stall` holds `sendMessage` until released."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.stall = False
        self.stalled = asyncio.Event()
        self.release = asyncio.Event()
        self.server = TestServer(self._app(), host="127.0.0.1")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    @property
    def url(self) -> str:
        """The server's origin, "http://127.0.0.1:<port>"."""
        return str(self.server.make_url("")).rstrip("/")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen = Seen(
            method=request.method,
            path=request.path,
            host=request.headers.get("Host", ""),
            user_agent=request.headers.get("User-Agent", ""),
            content_type=request.content_type,
            peer_port=peer[1] if peer else 0,
        )
        self.seen.append(seen)
        if request.path.startswith("/file/"):
            return web.Response(body=b"file bytes")
        if request.content_type == "application/json":
            seen.json = await request.json()
        elif request.content_type == "multipart/form-data":
            for name, value in (await request.post()).items():
                seen.form[name] = (
                    (value.filename, value.content_type, value.file.read())
                    if isinstance(value, web.FileField)
                    else value
                )
        method = request.path.rsplit("/", 1)[-1]
        if method == "sendMessage" and self.stall:
            self.stalled.set()
            await self.release.wait()
        result: Any = BOT_USER if method == "getMe" else True
        if method in ("sendMessage", "sendDocument"):
            result = {
                "message_id": len(self.seen),
                "date": 0,
                "chat": {"id": 42, "type": "private"},
            }
        return web.json_response({"ok": True, "result": result})


@pytest_asyncio.fixture(loop_scope="function")
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.server.start_server()
    try:
        yield fake
    finally:
        fake.release.set()
        await fake.server.close()


@pytest_asyncio.fixture(loop_scope="function")
async def request_() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(connection_pool_size=1)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_calls_go_out_as_json_over_one_kept_alive_connection(
    telegram: FakeTelegram,
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="ask:fb:up")]])
    async with Bot(TOKEN, base_url=f"{telegram.url}/bot", request=AiohttpRequest()) as bot:
        await bot.send_message(42, "Xin chào & <b>chào</b>", reply_markup=markup)
        await bot.send_message(42, "Lần hai")

    sent = [seen for seen in telegram.seen if seen.path.endswith("/sendMessage")]
    assert [seen.json["text"] for seen in sent] == ["Xin chào & <b>chào</b>", "Lần hai"]
    assert sent[0].json["chat_id"] == 42
    assert sent[0].json["reply_markup"] == {
        "inline_keyboard": [[{"text": "👍", "callback_data": "ask:fb:up"}]]
    }
    assert {seen.content_type for seen in telegram.seen} == {"application/json"}
    assert all(seen.user_agent.startswith("python-telegram-bot") for seen in telegram.seen)
    # getMe and both messages, one after the other, over one connection.
    assert len({seen.peer_port for seen in telegram.seen}) == 1


async def test_a_file_upload_is_multipart_with_its_utf8_name(telegram: FakeTelegram) -> None:
    document = InputFile(b"ho_ten,sdt\nAn,0900\n", filename="Danh sách hồ sơ.csv")
    async with Bot(TOKEN, base_url=f"{telegram.url}/bot", request=AiohttpRequest()) as bot:
        message = await bot.send_document(42, document, caption="Hồ sơ mới")

    assert message.message_id == 2
    (upload,) = [seen for seen in telegram.seen if seen.path.endswith("/sendDocument")]
    assert upload.content_type == "multipart/form-data"
    assert upload.form["chat_id"] == "42"
    assert upload.form["caption"] == "Hồ sơ mới"
    assert upload.form["document"] == ("Danh sách hồ sơ.csv", "text/csv", b"ho_ten,sdt\nAn,0900\n")


async def test_a_download_is_a_get(telegram: FakeTelegram, request_: AiohttpRequest) -> None:
    content = await request_.retrieve(f"{telegram.url}/file/bot{TOKEN}/documents/a.pdf")

    assert content == b"file bytes"
    assert telegram.seen[-1].method == "GET"


async def test_a_reply_that_never_comes_times_out(
    telegram: FakeTelegram, request_: AiohttpRequest
) -> None:
    telegram.stall = True

    with pytest.raises(TimedOut):
        await request_.post(f"{telegram.url}/bot{TOKEN}/sendMessage", read_timeout=0.2)


async def test_a_full_pool_times_out_without_sending(
    telegram: FakeTelegram, request_: AiohttpRequest
) -> None:
    telegram.stall = True
    url = f"{telegram.url}/bot{TOKEN}/sendMessage"
    first = asyncio.create_task(request_.post(url, read_timeout=None))
    await telegram.stalled.wait()

    with pytest.raises(TimedOut, match="not\\* sent") as raised:
        # connect_timeout too: aiohttp counts the wait for a pooled connection in its connect
        # budget (pool + connect, see client_timeout), else the test waits the default 5 s.
        await request_.post(url, pool_timeout=0.1, connect_timeout=0.1)

    assert TOKEN not in str(raised.value)
    assert len(telegram.seen) == 1  # the second call never reached the server
    telegram.release.set()
    assert (await first)["message_id"] == 1


async def test_a_refused_connection_is_a_network_error_without_the_token(
    request_: AiohttpRequest,
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/bot{TOKEN}/getMe"

    with pytest.raises(NetworkError) as raised:
        await request_.post(url)

    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert "SECRET" not in str(raised.value)


async def test_shutdown_closes_the_session_and_initialize_opens_a_new_one(
    telegram: FakeTelegram,
) -> None:
    request = AiohttpRequest()
    await request.initialize()
    first = request.session
    assert first is not None

    await request.shutdown()

    assert first.closed
    assert request.session is None
    # PTB wraps what do_request raises besides its own errors, as for HTTPXRequest.
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{telegram.url}/bot{TOKEN}/getMe")
    await request.shutdown()  # a second shutdown is harmless
    await request.initialize()
    assert await request.post(f"{telegram.url}/bot{TOKEN}/getMe") == BOT_USER
    await request.shutdown()


async def test_a_proxy_from_the_environment_carries_the_calls(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", telegram.url)
    request = AiohttpRequest()
    await request.initialize()
    try:
        # .invalid never resolves: only the proxy (the loopback server) can answer.
        result = await request.post(f"http://api.telegram.invalid/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()

    assert result == BOT_USER
    assert telegram.seen[-1].host == "api.telegram.invalid"


def test_the_bot_calls_and_polls_through_aiohttp_unless_httpx_is_chosen(bot_settings) -> None:
    app = build_application(bot_settings, engine=object(), db_engine=object(), persistence=False)
    # Bot keeps the getUpdates request first in its private pair; PTB has no accessor for it.
    polling = app.bot._request[0]

    assert isinstance(app.bot.request, AiohttpRequest)
    assert isinstance(polling, PollingRequest)
    assert isinstance(polling.inner, AiohttpRequest)

    settings = bot_settings.model_copy(update={"telegram_http_client": "httpx"})
    app = build_application(settings, engine=object(), db_engine=object(), persistence=False)

    assert isinstance(app.bot.request, HTTPXRequest)
    assert isinstance(app.bot._request[0].inner, HTTPXRequest)

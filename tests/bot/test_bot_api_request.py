"""The keep-alive Bot API client: what it sends, what it reads, what it reuses, how it fails."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import bot_api_request
from bot.bot_api_request import KeepAliveRequest
from index.settings import Settings
from scripts.fake_bot_api import serve

from .conftest import BOT_TOKEN
from .live_bot import fake_api

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK_BODY = b'{"ok": true, "result": true}'


class _Recorder(BaseRequest):
    """A fallback that records what reached it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        self.calls.append((url, method))
        return 200, OK_BODY


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    lines = head.split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


@asynccontextmanager
async def scripted_server(script: Script) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server running `script` on each connection; yields its URL and a counter."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await script(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot{BOT_TOKEN}", connections
    finally:
        server.close()


def _params(**values: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


@asynccontextmanager
async def client(**kwargs: Any) -> AsyncIterator[KeepAliveRequest]:
    request = KeepAliveRequest(_Recorder(), **kwargs)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def _wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_bot_sends_json_over_one_kept_alive_connection() -> None:
    api = fake_api()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="ask:fb:up")]])
    with serve(api) as base_url:
        request = KeepAliveRequest(HTTPXRequest())
        async with Bot(BOT_TOKEN, base_url=base_url, request=request) as bot:
            first = await bot.send_message(42, "Xin chào & <b>chào</b>", reply_markup=markup)
            second = await bot.send_message(42, "Lần hai")
            idle = [c for conns in request._idle.values() for c in conns]
    assert first.text == "Xin chào & <b>chào</b>"
    assert second.message_id != first.message_id
    sent = [call for call in api.calls if call.method == "sendMessage"]
    assert [call.text for call in sent] == ["Xin chào & <b>chào</b>", "Lần hai"]
    assert sent[0].callback_data() == ["ask:fb:up"]
    # getMe and both messages went over the same connection.
    assert len(idle) == 1


async def test_the_request_is_one_json_post_with_a_host_header() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY))
        await writer.drain()

    async with scripted_server(script) as (url, _), client() as request:
        status, body = await request.do_request(
            f"{url}/sendMessage", "POST", _params(chat_id=7, text="Hỏi", entities=[{"a": 1}])
        )
    assert (status, body) == (200, OK_BODY)
    line, headers, sent = seen[0]
    assert line == f"POST /bot{BOT_TOKEN}/sendMessage HTTP/1.1"
    assert headers["host"].startswith("127.0.0.1:")
    assert headers["content-type"] == "application/json"
    assert json.loads(sent) == {"chat_id": 7, "text": "Hỏi", "entities": [{"a": 1}]}


async def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    replies = [
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"ok"\r\n10;ext=1\r\n: true, "result"\r\n7\r\n: true}\r\n0\r\nX-T: 1\r\n\r\n',
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK_BODY,
    ]

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while replies:
            await _read_request(reader)
            reply = replies.pop(0)
            writer.write(reply)
            await writer.drain()
            if b"close" in reply:
                return

    async with scripted_server(script) as (url, connections), client() as request:
        first = await request.do_request(f"{url}/getMe", "POST", None)
        second = await request.do_request(f"{url}/getMe", "POST", None)
        kept = any(request._idle.values())
    assert json.loads(first[1]) == {"ok": True, "result": True}
    assert second == (200, OK_BODY)
    # The chunked response kept the connection; "Connection: close" ended it.
    assert len(connections) == 1
    assert not kept


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY))
        await writer.drain()
        # Then the server closes the kept-alive connection, as a server's idle timeout does.

    async with scripted_server(script) as (url, connections), client() as request:
        await request.do_request(f"{url}/getMe", "POST", None)
        idle = next(iter(request._idle.values()))[0]
        await _wait_until(idle.reader.at_eof)
        assert await request.do_request(f"{url}/getMe", "POST", None) == (200, OK_BODY)
    assert len(connections) == 2


async def test_a_silent_server_times_out_without_the_token_and_is_not_reused() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async with scripted_server(script) as (url, _), client() as request:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(f"{url}/sendMessage", "POST", None, read_timeout=0.05)
        assert not any(request._idle.values())
    assert BOT_TOKEN not in str(caught.value)


async def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    async with scripted_server(_read_request) as (url, _):
        pass  # closed: nothing listens on that port any more
    async with client() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"{url}/sendMessage", "POST", None)
    assert BOT_TOKEN not in str(caught.value)


async def test_a_garbled_response_is_a_network_error() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 2xx What\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    async with scripted_server(script) as (url, _), client() as request:
        with pytest.raises(NetworkError):
            await request.do_request(f"{url}/sendMessage", "POST", None)


async def test_a_full_pool_times_out_instead_of_sending() -> None:
    release = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await release.wait()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY))
        await writer.drain()

    async with (
        scripted_server(script) as (url, connections),
        client(connection_pool_size=1) as request,
    ):
        first = asyncio.create_task(request.do_request(f"{url}/sendMessage", "POST", None))
        await _wait_until(lambda: bool(connections))
        with pytest.raises(TimedOut, match="not sent"):
            await request.do_request(f"{url}/sendMessage", "POST", None, pool_timeout=0.05)
        release.set()
        assert await first == (200, OK_BODY)
    assert len(connections) == 1


async def test_a_cancelled_request_closes_its_connection() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async with scripted_server(script) as (url, connections), client() as request:
        task = asyncio.create_task(request.do_request(f"{url}/sendMessage", "POST", None))
        await _wait_until(lambda: bool(connections))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not any(request._idle.values())


async def test_uploads_and_downloads_go_through_the_fallback() -> None:
    async with client() as request:
        fallback = request.fallback
        assert isinstance(fallback, _Recorder)
        upload = RequestData(
            [RequestParameter.from_input("document", InputFile(b"data", filename="a.txt"))]
        )
        await request.do_request("http://127.0.0.1:9/bot1:x/sendDocument", "POST", upload)
        await request.do_request("http://127.0.0.1:9/file/bot1:x/doc.pdf", "GET", None)
    assert [method for _, method in fallback.calls] == ["POST", "GET"]


@pytest.mark.parametrize(
    ("choice", "proxy", "expected"),
    [
        ("auto", None, KeepAliveRequest),
        ("auto", "http://127.0.0.1:3128", HTTPXRequest),
        ("httpx", None, HTTPXRequest),
    ],
)
def test_the_client_is_chosen_by_setting_and_proxy(
    monkeypatch: pytest.MonkeyPatch, choice: str, proxy: str | None, expected: type
) -> None:
    for name in (
        "HTTPS_PROXY",
        "ALL_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "all_proxy",
        "http_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    settings = Settings(telegram_http_client=choice)
    assert isinstance(bot_api_request(settings, pool_size=4), expected)


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made by the openssl tool)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - a fixed command line
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_is_verified_against_the_trusted_certificates(
    tls_files: tuple[Path, Path],
) -> None:
    cert, key = tls_files
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot{BOT_TOKEN}/getMe"
    try:
        trusting = KeepAliveRequest(
            _Recorder(), ssl_context=lambda: ssl.create_default_context(cafile=str(cert))
        )
        await trusting.initialize()
        assert await trusting.do_request(url, "POST", None) == (200, OK_BODY)
        await trusting.shutdown()
        # The default trust store does not know this certificate: refused, not sent.
        async with client() as default:
            with pytest.raises(NetworkError) as caught:
                await default.do_request(url, "POST", None)
        assert BOT_TOKEN not in str(caught.value)
    finally:
        server.close()

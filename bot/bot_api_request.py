"""A lean keep-alive HTTP/1.1 client for Bot API calls: JSON bodies over asyncio streams.

Under load most of the event loop's time went to sending Bot API requests through httpx and
httpcore (profiled: 55 % of the event-loop thread's CPU in the 50-user load test). Much of it
is bookkeeping a bot does not need: httpcore's pool walks every connection on each request
and response (a `poll()` system call per idle connection, and a quadratic count of the idle
ones), httpx builds its request and response models, and PTB form-encodes every parameter.
This client keeps a stack of idle connections (the most recent one is reused), writes each
request in one send with a JSON body (which the Bot API accepts), and reads the response
with the stream's own buffer. Uploads with files and file downloads, which are rare, go
through `fallback` (PTB's `HTTPXRequest`), as does everything when a proxy is configured
(see `bot.app`).

An idle connection the server has closed is seen by the event loop (end of stream) and never
reused; one idle longer than `KEEPALIVE_SECONDS` is closed. A failure is raised as PTB's
`TimedOut` or `NetworkError` and never quotes the URL, which holds the bot token.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: Idle connections older than this are closed rather than reused: httpx's default, which
#: the bot used before this client.
KEEPALIVE_SECONDS = 5.0
#: Longest response head (status line and headers) accepted.
MAX_HEAD_BYTES = 64 * 1024


class _Target(NamedTuple):
    """Where a URL points: the connection key and the request line's target."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str


@lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    # Bot API URLs are few (one per method), so each is parsed once.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError("Unsupported Bot API URL scheme")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    default = port == (443 if secure else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
    host_header = host if default else f"{host}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(parts.scheme, parts.hostname, port, host_header, path)


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def reusable(self, now: float) -> bool:
        """Open, with nothing unread, and not idle too long."""
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since <= KEEPALIVE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()


class _Response(NamedTuple):
    status: int
    body: bytes
    keep_alive: bool


def _timeout(value: Any, default: float | None) -> float | None:
    # PTB passes DEFAULT_NONE (a DefaultValue, like every default it fills in) when unset.
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _ssl_context() -> ssl.SSLContext:
    # httpx's own: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set, so this client
    # trusts exactly what HTTPXRequest did.
    return httpx.create_ssl_context()


class KeepAliveRequest(BaseRequest):
    """Sends Bot API calls over a pool of kept-alive HTTP/1.1 connections.

    Args:
        fallback: Serves what this client does not: uploads with files, downloads (GET).
        connection_pool_size: Most requests in flight (and connections open) at once.
        read_timeout, write_timeout, connect_timeout, pool_timeout: Default timeouts in
            seconds (None: none), as `HTTPXRequest` takes them.
    """

    def __init__(
        self,
        fallback: BaseRequest,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        ssl_context: Callable[[], ssl.SSLContext] = _ssl_context,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be positive")
        self.fallback = fallback
        self.pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._make_ssl = ssl_context
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._closed = True

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-poll timeout to it for getUpdates)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the client (connections are opened as requests need them)."""
        await self.fallback.initialize()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.pool_size)
        self._closed = False

    async def shutdown(self) -> None:
        """Closes the idle connections; those in flight close when their request ends."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
        await self.fallback.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one request and returns the status code and the body."""
        if method != "POST" or (request_data is not None and request_data.contains_files):
            return await self.fallback.do_request(
                url,
                method,
                request_data=request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        if self._closed or self._slots is None:
            raise RuntimeError("This KeepAliveRequest is not initialized!")
        target = _target(url)
        body = json.dumps(request_data.parameters if request_data else {}).encode()
        head = (
            f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
            f"User-Agent: {self.USER_AGENT}\r\nAccept: */*\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        slots = self._slots
        if slots.locked():
            try:
                async with asyncio.timeout(_timeout(pool_timeout, self._pool_timeout)):
                    await slots.acquire()
            except TimeoutError as exc:
                raise TimedOut(
                    "Pool timeout: all connections are in use; the request was not sent"
                ) from exc
        else:
            await slots.acquire()  # free: returns at once (no timer to arm)
        try:
            return await self._send(
                target,
                head + body,
                read=_timeout(read_timeout, self._read_timeout),
                write=_timeout(write_timeout, self._write_timeout),
                connect=_timeout(connect_timeout, self._connect_timeout),
            )
        finally:
            slots.release()

    async def _send(
        self,
        target: _Target,
        data: bytes,
        *,
        read: float | None,
        write: float | None,
        connect: float | None,
    ) -> tuple[int, bytes]:
        connection = await self._connection(target, connect)
        reuse = False
        try:
            writer = connection.writer
            writer.write(data)
            if writer.transport.get_write_buffer_size():
                # Only a request larger than the socket buffer waits here.
                try:
                    async with asyncio.timeout(write):
                        await writer.drain()
                except TimeoutError as exc:
                    raise TimedOut("Timed out sending the request") from exc
            try:
                async with asyncio.timeout(read):
                    response = await _read_response(connection.reader)
            except TimeoutError as exc:
                raise TimedOut("Timed out waiting for the response") from exc
            reuse = response.keep_alive
            return response.status, response.body
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            # Never the URL in the message: it holds the token.
            raise NetworkError(f"Bot API connection failed: {type(exc).__name__}") from exc
        finally:
            # A request cut short (timeout, error, cancellation) leaves the stream mid-way.
            if reuse and not self._closed:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(target[:3], []).append(connection)
            else:
                connection.close()

    async def _connection(self, target: _Target, timeout: float | None) -> _Connection:
        idle = self._idle.get(target[:3])
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        if target.scheme == "https" and self._ssl is None:
            self._ssl = self._make_ssl()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    target.host,
                    target.port,
                    ssl=self._ssl if target.scheme == "https" else None,
                    limit=MAX_HEAD_BYTES,
                )
        except TimeoutError as exc:
            raise TimedOut("Timed out connecting to the Bot API") from exc
        except OSError as exc:
            raise NetworkError(f"Could not connect to the Bot API: {type(exc).__name__}") from exc
        return _Connection(reader, writer)


async def _read_response(reader: asyncio.StreamReader) -> _Response:
    """Reads one HTTP/1.1 response: Content-Length, chunked, or until the end of the stream."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        status = int(rest[:3])
        if not 100 <= status < 200:
            break
        # An interim response (100 Continue): the real one follows.
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = version == "HTTP/1.1" and "close" not in connection
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304):
        body = b""
    else:
        body = await reader.read()
        keep_alive = False
    return _Response(status, body, keep_alive)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)

"""Bot API calls over aiohttp: PTB's `BaseRequest` on one `aiohttp.ClientSession`.

Under load most of the event loop's time went to sending Bot API requests through httpx and
httpcore (README "Under load and faults"). aiohttp does the same work with its C HTTP parser
and a connection pool that hands out the most recent idle connection without polling every
other one. This is the shape of PTB's own `HTTPXRequest` (and of ptbcontrib's
`AiohttpRequest`) with four choices of ours:

* Calls without files go out as one JSON body (the Bot API accepts `application/json`);
  calls with files as multipart form data, the way PTB sends them through httpx.
* PTB's four timeouts map onto aiohttp's: `read` is `sock_read` (the wait for each piece of
  the response), `connect` is `sock_connect`, and `pool` plus `connect` is aiohttp's
  `connect` (waiting for a free connection and opening one, so a pool wait may use what
  the connect did not). aiohttp has no write timeout, so `total`, the sum of the four,
  bounds a request whose upload stalls.
* A proxy comes from HTTP_PROXY / HTTPS_PROXY / NO_PROXY through aiohttp's own look-up
  (`get_env_proxy_for_url`, what `trust_env=True` runs), once per origin. `trust_env=True`
  would run it, and a read of ~/.netrc, in worker threads on every request: 0.51-0.53
  against 0.25-0.26 ms of client CPU per sendMessage (httpx: 1.1-1.4 ms), 400 calls, 8 at
  a time, to a loopback server in another process. httpx, too, reads the variables once,
  when its client is built.
* A failure is raised as PTB's `TimedOut` or `NetworkError` with the exception's class name
  only: aiohttp's own messages quote the URL, which holds the bot token.
"""

from __future__ import annotations

import logging
import os
import ssl
from functools import lru_cache
from typing import Any

import aiohttp
import certifi
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

logger = logging.getLogger(__name__)


def _seconds(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*parts: float | None) -> float | None:
    """The sum of timeouts, or None (no limit) when any part has none."""
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None)


@lru_cache(maxsize=64)
def client_timeout(
    *, pool: float | None, connect: float | None, write: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's four (cached: the same few combinations recur)."""
    return aiohttp.ClientTimeout(
        total=_sum(pool, connect, write, read),
        connect=_sum(pool, connect),
        sock_connect=connect,
        sock_read=read,
    )


def _error_message(exc: BaseException) -> str:
    """Names the failure without str(exc), which can quote the URL and so the token."""
    message = f"aiohttp.{type(exc).__name__}"
    if isinstance(exc, OSError) and exc.errno:
        message += f": {os.strerror(exc.errno)}"
    return message


def multipart_form(request_data: RequestData) -> aiohttp.FormData:
    """The parameters and files of a call that uploads, as multipart form data.

    `quote_fields=False` sends file names as UTF-8, as httpx and aiogram (the aiohttp-based
    Telegram library) do; aiohttp's default percent-encodes a Vietnamese name.
    """
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, content_type=mimetype, filename=filename)
    return form


Proxy = tuple[URL | None, aiohttp.BasicAuth | None]


def env_proxy(origin: str) -> Proxy:
    """The proxy (and its credentials) the environment sets for "scheme://host[:port]"."""
    try:
        return get_env_proxy_for_url(URL(origin))
    except LookupError:  # none set, or NO_PROXY names the host
        return None, None


def _origin(url: str) -> str:
    end = url.find("/", url.find("//") + 2)
    return url if end < 0 else url[:end]


class AiohttpRequest(BaseRequest):
    """Sends Bot API calls through one aiohttp session with a pool of kept-alive connections.

    Args:
        connection_pool_size: Connections open at once (the connector's limit).
        read_timeout, write_timeout, connect_timeout, pool_timeout: Default timeouts in
            seconds (None: none), as `HTTPXRequest` takes them and with its defaults.
        media_write_timeout: The write timeout of calls that upload files.
        trust_env: Take a proxy from HTTP_PROXY / HTTPS_PROXY / NO_PROXY, as httpx does.
            Read on the first request to each origin after `initialize`.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        trust_env: bool = True,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be positive")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-poll timeout to it for getUpdates)."""
        return self._read_timeout

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The open session, or None before `initialize` and after `shutdown`."""
        return self._session

    async def initialize(self) -> None:
        """Opens the session (connections are opened as requests need them)."""
        if self._session is not None and not self._session.closed:
            return
        # The CA bundle httpx verifies against, so switching clients changes no trust.
        context = ssl.create_default_context(cafile=certifi.where())
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=context),
            headers={"User-Agent": self.USER_AGENT},
        )
        self._proxies = {}

    async def shutdown(self) -> None:
        """Closes the session and its connections."""
        session, self._session = self._session, None
        if session is None or session.closed:
            logger.debug("This AiohttpRequest is already shut down")
            return
        await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one request and returns the status code and the body."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        timeout = client_timeout(
            pool=_seconds(pool_timeout, self._pool_timeout),
            connect=_seconds(connect_timeout, self._connect_timeout),
            write=_seconds(
                write_timeout, self._media_write_timeout if files else self._write_timeout
            ),
            read=_seconds(read_timeout, self._read_timeout),
        )
        options: dict[str, Any] = {}
        if self._trust_env:
            origin = _origin(url)
            proxy = self._proxies.get(origin)
            if proxy is None:
                proxy = self._proxies[origin] = env_proxy(origin)
            options["proxy"], options["proxy_auth"] = proxy
        if request_data is not None:
            if files:
                options["data"] = multipart_form(request_data)
            else:
                options["json"] = request_data.parameters
        try:
            async with session.request(method, url, timeout=timeout, **options) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut(
                "Pool or connect timeout: no connection became free or could be opened in "
                "time. The request was *not* sent to Telegram."
            ) from exc
        except TimeoutError as exc:  # sock_read, or total while sending or reading
            raise TimedOut(f"Timed out: {_error_message(exc)}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(_error_message(exc)) from exc

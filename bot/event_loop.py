"""The bot's event loop: uvloop when it is installed (EVENT_LOOP=auto), else asyncio's own.

Under load the event loop's time goes mostly to httpx sending Bot API requests; uvloop's
transports and scheduling are implemented in C (libuv), which leaves more of the single
interpreter to answering. PTB, httpx and anyio run on it unchanged; PTB creates its loop
from the policy installed here.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Literal

logger = logging.getLogger(__name__)

EventLoopChoice = Literal["auto", "asyncio", "uvloop"]


def install_event_loop(choice: EventLoopChoice) -> str:
    """Installs the event loop policy chosen by EVENT_LOOP and returns the loop's name.

    Raises:
        SystemExit: If EVENT_LOOP=uvloop and uvloop is not installed.
    """
    if choice == "asyncio":
        return "asyncio"
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        if choice == "uvloop":
            raise SystemExit(
                "EVENT_LOOP=uvloop, but uvloop is not installed: run `make install` (or "
                "`pip install uvloop`), or set EVENT_LOOP=auto."
            ) from None
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"

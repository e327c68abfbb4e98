"""The way in for updates: journaled before Telegram forgets them, unparsable ones skipped.

`JournaledUpdateQueue` is the Application's update queue: every update entering it is
appended to the `UpdateJournal`, and a re-delivery of one already journaled is dropped.
`PollingRequest` wraps the request object of `getUpdates`: before each call (which
confirms the previous batch to Telegram) it makes the journal durable, and in each answer
it replaces an update the library cannot parse by an empty one with the same id. PTB would
otherwise fail on the whole batch and fetch it again forever, logging the raw payload (and
its personal data) each time; the empty update moves the offset past it and matches no
handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.update_journal import UpdateJournal

logger = logging.getLogger(__name__)


class JournaledUpdateQueue(asyncio.Queue[object]):
    """The update queue, appending each new update to the journal first.

    Args:
        journal: The update journal.
        sync_each_put: Make each update durable before accepting it. Needed for webhooks,
            where accepting the update is what makes Telegram forget it; polling syncs once
            per batch in `PollingRequest` instead.
    """

    def __init__(self, journal: UpdateJournal, *, sync_each_put: bool = False) -> None:
        super().__init__()
        self.journal = journal
        self.sync_each_put = sync_each_put

    async def put(self, item: object) -> None:
        """Journals an update and queues it; drops an update that was journaled before."""
        if isinstance(item, Update):
            if not self.journal.record(item):
                logger.info("Dropping update %s: already received", item.update_id)
                return
            if self.sync_each_put:
                await self.journal.sync()
        await super().put(item)


def sanitize_updates(result: list[Any]) -> tuple[list[Any], int]:
    """Replaces updates that cannot be parsed by empty updates with the same id.

    Returns:
        The updates to hand to PTB and how many were replaced or dropped.
    """
    clean: list[Any] = []
    changed = 0
    for raw in result:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            # Without an id there is nothing to confirm or answer; Telegram never sends this.
            logger.warning("Skipping an update without an update_id")
            changed += 1
            continue
        try:
            Update.de_json(raw, None)
        except Exception as exc:  # the library's parsers raise any type on odd data
            # Only the type: the message could quote the user's text.
            logger.warning(
                "Skipping update %s: the library cannot parse it (%s)",
                update_id,
                type(exc).__name__,
            )
            clean.append({"update_id": update_id})
            changed += 1
            continue
        clean.append(raw)
    return clean, changed


class PollingRequest(BaseRequest):
    """The `getUpdates` request: durable journal first, unparsable updates skipped.

    Args:
        inner: The request object that talks to the Bot API.
        journal: The update journal to sync before each poll (None: no journal).
    """

    def __init__(self, inner: BaseRequest, journal: UpdateJournal | None) -> None:
        self.inner = inner
        self.journal = journal

    @property
    def read_timeout(self) -> float | None:
        """The inner request's read timeout (PTB adds the long-poll timeout to it)."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Initializes the inner request."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Shuts the inner request down."""
        await self.inner.shutdown()

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
        """Polls Telegram; syncs the journal before and sanitizes the updates after."""
        polling = url.endswith("/getUpdates")
        if polling and self.journal is not None:
            # This call confirms the previous batch: it must be on disk before Telegram forgets.
            await self.journal.sync()
        code, payload = await self.inner.do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if not polling or code != 200:
            return code, payload
        try:
            body = json.loads(payload)
        except ValueError:
            return code, payload
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list):
            return code, payload
        clean, changed = sanitize_updates(result)
        if self.journal is not None:
            self.journal.fetched(clean)
        if not changed:
            return code, payload
        body["result"] = clean
        return code, json.dumps(body).encode()

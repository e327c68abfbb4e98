"""Concurrent update processing that keeps every chat's (and every user's) updates in order.

PTB processes one update at a time by default, so one slow reply (a busy staff group under
Telegram's 20-messages-a-minute limit, a locked database) stalls every user. This processor
(the `BaseUpdateProcessor` pattern of PTB #3509) runs updates of different chats at once,
but an update waits for the earlier updates of its chat and of its user: ConversationHandler
and `user_data` assume one update at a time per conversation, and a double tap or two fast
messages must be handled in the order they were sent.

CPU-heavy work (retrieval and answer building) runs in a thread pool sized to the machine,
so a burst of questions queues for the cores instead of oversubscribing them; I/O-bound work
(the database) keeps the default executor, so a slow database never takes those threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.rate_limit import replying

if TYPE_CHECKING:
    from telegram.ext import Application

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Updates that may wait for their chat's turn, on top of those running. PTB's own semaphore
#: counts waiting and running updates alike, so it is set high; `max_running` bounds the work.
MAX_WAITING_UPDATES = 100_000


def update_keys(update: object) -> tuple[int, ...]:
    """Returns the ids whose updates must run one at a time: the chat and the user, sorted.

    Sorting gives every update the same lock order, so two updates never wait for each other.
    """
    if not isinstance(update, Update):
        return ()
    ids = set()
    if update.effective_chat is not None:
        ids.add(update.effective_chat.id)
    if update.effective_user is not None:
        ids.add(update.effective_user.id)
    return tuple(sorted(ids))


@dataclass(slots=True)
class _KeyLock:
    lock: asyncio.Lock
    users: int = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently, in order within each chat and each user.

    Args:
        max_running: How many updates may run at once across all chats.
        cpu_threads: Threads of the pool that `run_cpu_bound` uses (one per core is right
            for retrieval, which is CPU-bound and partly holds the GIL).
    """

    def __init__(self, *, max_running: int, cpu_threads: int) -> None:
        super().__init__(MAX_WAITING_UPDATES)
        if max_running < 1 or cpu_threads < 1:
            raise ValueError("max_running and cpu_threads must be positive")
        self.max_running = max_running
        self.cpu_threads = cpu_threads
        # Created in initialize(): asyncio primitives belong to the loop that first uses them.
        self._running: asyncio.BoundedSemaphore | None = None
        self._locks: dict[int, _KeyLock] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._done_callbacks: list[Callable[[object], None]] = []

    def add_done_callback(self, callback: Callable[[object], None]) -> None:
        """Calls `callback(update)` each time an update has been processed (or failed)."""
        self._done_callbacks.append(callback)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for the earlier updates of the same chat and user, then runs this one."""
        keys = update_keys(update)
        entries = [self._acquire_entry(key) for key in keys]
        try:
            for entry in entries:
                await entry.lock.acquire()
            try:
                if self._running is None:
                    raise RuntimeError("the update processor is not initialized")
                async with self._running:
                    # What the handler sends now is a reply (bot.rate_limit paces it so).
                    token = replying.set(True)
                    try:
                        await coroutine
                    finally:
                        replying.reset(token)
            finally:
                for entry in reversed(entries):
                    entry.lock.release()
        finally:
            for key in keys:
                self._release_entry(key)
            for callback in self._done_callbacks:
                try:
                    callback(update)
                except Exception:  # a broken observer must not stop update processing
                    logger.exception("An update-done callback failed")

    def _acquire_entry(self, key: int) -> _KeyLock:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock(asyncio.Lock())
        entry.users += 1
        return entry

    def _release_entry(self, key: int) -> None:
        entry = self._locks[key]
        entry.users -= 1
        if entry.users == 0:
            # Forget idle chats, so the table holds only chats with updates in flight.
            del self._locks[key]

    @property
    def busy_keys(self) -> frozenset[int]:
        """Chat and user ids with an update waiting or running."""
        return frozenset(self._locks)

    async def run_cpu(self, function: Callable[..., T], *args: Any) -> T:
        """Runs `function(*args)` in the CPU pool and returns its result."""
        if self._pool is None:
            raise RuntimeError("the update processor is not initialized")
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    async def initialize(self) -> None:
        """Starts the CPU pool."""
        self._running = asyncio.BoundedSemaphore(self.max_running)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.cpu_threads, thread_name_prefix="answer")

    async def shutdown(self) -> None:
        """Stops the CPU pool after the work already given to it."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True)


async def run_cpu_bound(
    application: Application[Any, Any, Any, Any, Any, Any],
    function: Callable[..., T],
    *args: Any,
) -> T:
    """Runs CPU-heavy work (e.g. `Engine.answer`) in the application's bounded CPU pool.

    Falls back to `asyncio.to_thread` for an application built without this processor.
    """
    processor = application.update_processor
    if isinstance(processor, ChatOrderedUpdateProcessor):
        return await processor.run_cpu(function, *args)
    return await asyncio.to_thread(function, *args)

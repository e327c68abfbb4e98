"""A fair, self-adjusting token bucket for outgoing Bot API requests (bot.rate_limit uses it).

A plain limiter (aiolimiter, behind PTB's AIORateLimiter) serves its waiters first come,
first served: with 200 users registering at once, a question asked meanwhile queues behind
~200 registration steps, 200 / 30 per second = 6.7 s. This gate serves the waiting chat
that was served least recently first (a chat never served, such as someone asking their
first question, goes straight to the front), and a request retried after a 429 before any
fresh one. No chat starves: while a chat waits its "last served" time stands still and
every chat served moves its own forward.

A 429 (Telegram's "retry after N") pauses the gate for N seconds and makes it learn a cap of
half the rate it was sending at (multiplicative decrease), which then grows back by
`RECOVERY_PER_SECOND` each second without a 429 (additive-ish increase), so a bot-wide flood
settles instead of storming, and an unexpected limit is found without being configured.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

#: After a 429 the learned cap grows by this factor a second: doubling in about 7 s, so a
#: short flood costs seconds, while a limit hit again soon halves it again.
RECOVERY_PER_SECOND = 1.1
#: A learned cap above this multiple of where it started is dropped (a cap-less gate is
#: uncapped again): about 15 s after the last 429.
RECOVERED_FACTOR = 4.0
#: How many chats' "last served" times are kept; older ones are forgotten (they then count
#: as never served, which only helps a chat idle long enough to fall out).
MAX_REMEMBERED_CHATS = 4096


@dataclass(order=True, slots=True)
class _Waiter:
    retry: int  # 0 for a retry after a 429: it goes first
    served: float  # when its chat was last served (-inf: never)
    seq: int
    future: asyncio.Future[None] = field(compare=False)
    key: Hashable = field(compare=False)


class SendGate:
    """Admits sends at up to `rate` per `period` seconds (0: no fixed cap), fairly across chats.

    Args:
        rate: Sends allowed per period; also the burst. 0 = no fixed cap (a cap is still
            learned from 429s).
        period: The period in seconds (1 for per-second limits, 60 for a group's per-minute).
        clock: Where "now" comes from (seconds, monotonic); tests pass one they can hold
            still, so that which send waits does not depend on how busy the machine is.
    """

    def __init__(
        self, rate: float, period: float = 1.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 0 or period <= 0:
            raise ValueError("rate must be >= 0 and period > 0")
        self.configured = rate / period if rate else None
        self.burst = max(1.0, rate)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._waiters: list[_Waiter] = []
        self._served: dict[Hashable, float] = {}
        self._seq = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._recent: deque[float] = deque()
        self._paused_until = 0.0
        self._learned_floor: float | None = None
        self._learned_at = 0.0
        #: How many 429s this gate was told about (for logs and tests).
        self.floods = 0

    # --- the cap ---------------------------------------------------------------------------

    def cap(self, now: float | None = None) -> float | None:
        """Sends a second allowed now: the configured cap, or lower after a 429; None: any."""
        now = self._clock() if now is None else now
        learned: float | None = None
        if self._learned_floor is not None:
            learned = self._learned_floor * RECOVERY_PER_SECOND ** max(0.0, now - self._learned_at)
            limit = self.configured if self.configured is not None else math.inf
            if learned >= min(limit, self._learned_floor * RECOVERED_FACTOR):
                self._learned_floor = None
                learned = None
        if learned is None:
            return self.configured
        return learned if self.configured is None else min(learned, self.configured)

    def flooded(self, retry_after: float) -> None:
        """Telegram answered 429: pause for `retry_after` and halve the rate being sent at."""
        now = self._clock()
        self.floods += 1
        if now < self._paused_until:
            # The same flood, reported by every request that was in flight: halve once.
            self._paused_until = max(self._paused_until, now + retry_after)
            return
        self._paused_until = now + retry_after
        self._prune(now)
        cap = self.cap(now)
        # At least the request that was refused was being sent.
        sending = max(1.0, float(len(self._recent)))
        if cap is not None:
            sending = min(cap, sending)
        self._learned_floor = max(1.0 / 60, sending / 2)
        self._learned_at = self._paused_until
        # One send right when the pause ends (the retry, which waits first in line).
        self._tokens = 1.0
        self._stamp = self._paused_until

    # --- admitting -------------------------------------------------------------------------

    async def acquire(self, key: Hashable, *, retry: bool = False) -> None:
        """Waits until a send to chat `key` may go out."""
        now = self._clock()
        if not self._waiters and now >= self._paused_until and self._take(now):
            self._grant(key, now)
            return
        loop = asyncio.get_running_loop()
        waiter = _Waiter(
            0 if retry else 1,
            self._served.get(key, -math.inf),
            next(self._seq),
            loop.create_future(),
            key,
        )
        heapq.heappush(self._waiters, waiter)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="send-gate")
        await waiter.future

    def _take(self, now: float) -> bool:
        """Takes a token if one is there (always, without a cap)."""
        cap = self.cap(now)
        if cap is None:
            return True
        burst = self.burst if self._learned_floor is None else max(1.0, cap)
        if now > self._stamp:
            self._tokens = min(burst, self._tokens + (now - self._stamp) * cap)
            self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def _grant(self, key: Hashable, now: float) -> None:
        self._served.pop(key, None)
        self._served[key] = now
        if len(self._served) > MAX_REMEMBERED_CHATS:
            del self._served[next(iter(self._served))]
        self._recent.append(now)
        self._prune(now)

    def _prune(self, now: float) -> None:
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()

    async def _run(self) -> None:
        while self._waiters:
            waiter = self._waiters[0]
            if waiter.future.done():  # cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            now = self._clock()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            if self._take(now):
                heapq.heappop(self._waiters)
                self._grant(waiter.key, now)
                waiter.future.set_result(None)
                continue
            cap = self.cap(now) or 1.0
            await asyncio.sleep(max(0.001, (1 - self._tokens) / cap))

    @property
    def waiting(self) -> int:
        """Sends waiting for their turn."""
        return sum(1 for waiter in self._waiters if not waiter.future.done())

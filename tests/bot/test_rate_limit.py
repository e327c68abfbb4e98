"""Flood limits: fair gates, replies vs bulk sends, 429s retried and learned from."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.rate_limit import NO_RETRIES, MessageRateLimiter, replying
from bot.send_gate import SendGate

#: Guards against a hang; not a speed assertion.
HANG_GUARD_S = 30.0


class HeldClock:
    """Real monotonic time that can be held still while a queue of sends forms.

    Without it, a busy machine (CI runs four test workers on two cores) can let a token
    refill between spending the burst and the first send, which then goes out at once
    instead of queueing, and the order checked below is not the one the gate chose.
    """

    def __init__(self) -> None:
        self.held: float | None = None

    def __call__(self) -> float:
        return time.monotonic() if self.held is None else self.held

    def hold(self) -> None:
        self.held = time.monotonic()

    def release(self) -> None:
        self.held = None


def _spend_burst(gate: SendGate) -> None:
    """Takes every token left, so the next sends must wait for their turn."""
    while gate._take(gate._clock()):
        pass


async def test_a_chat_never_served_goes_before_chats_served_recently() -> None:
    clock = HeldClock()
    gate = SendGate(50, clock=clock)  # 50/s, so the test takes a fraction of a second
    # Twenty registering chats were each just served, and the burst is spent.
    for key in range(1, 21):
        await gate.acquire(key)
    clock.hold()  # no token comes back until every send below is queued
    _spend_burst(gate)
    order: list[int] = []

    async def send(key: int) -> None:
        await gate.acquire(key)
        order.append(key)

    waiting = [asyncio.create_task(send(key)) for key in range(1, 21)]
    await asyncio.sleep(0)
    newcomer = asyncio.create_task(send(999))  # asks a question meanwhile, last in line
    await asyncio.sleep(0)
    assert gate.waiting == 21
    clock.release()
    await asyncio.wait_for(asyncio.gather(*waiting, newcomer), HANG_GUARD_S)
    assert order[0] == 999
    # The others keep the order they were last served in (here: arrival), none skipped.
    assert order[1:] == list(range(1, 21))


async def test_a_retry_after_429_goes_before_fresh_sends() -> None:
    clock = HeldClock()
    gate = SendGate(50, clock=clock)
    for key in (1, 2, 3):
        await gate.acquire(key)
    clock.hold()
    _spend_burst(gate)
    order: list[str] = []

    async def send(name: str, key: int, retry: bool) -> None:
        await gate.acquire(key, retry=retry)
        order.append(name)

    fresh = [asyncio.create_task(send(f"fresh{k}", 100 + k, False)) for k in range(3)]
    await asyncio.sleep(0)
    retried = asyncio.create_task(send("retry", 1, True))
    await asyncio.sleep(0)
    assert gate.waiting == 4
    clock.release()
    await asyncio.wait_for(asyncio.gather(*fresh, retried), HANG_GUARD_S)
    assert order[0] == "retry"


def test_a_429_halves_the_rate_being_sent_at_and_an_uncapped_gate_learns_a_cap() -> None:
    clock = HeldClock()
    clock.hold()  # the learned cap grows back with time: measure it at one instant
    gate = SendGate(0, clock=clock)
    assert gate.cap() is None
    now = clock()
    for _ in range(40):
        gate._grant(7, now)
    gate.flooded(1.0)
    learned = gate.cap()
    assert learned is not None and learned == pytest.approx(20, rel=0.01)
    gate.flooded(1.0)  # the same flood reported by another request in flight
    assert gate.cap() == pytest.approx(learned, rel=0.01)
    assert gate.floods == 2


def test_a_configured_cap_is_never_exceeded_by_what_is_learned() -> None:
    gate = SendGate(30)
    assert gate.cap() == 30
    gate._learned_floor, gate._learned_at = 25.0, time.monotonic() - 60
    assert gate.cap() == 30


class _Flaky:
    """A Bot API call answering 429 `failures` times, then succeeding."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise RetryAfter(0)
        return {"message_id": 1}


def _limiter(**overrides: Any) -> MessageRateLimiter:
    values: dict[str, Any] = {
        "bulk_per_second": 30,
        "reply_per_second": 0,
        "group_per_minute": 20,
        "max_retries": 3,
    }
    values.update(overrides)
    return MessageRateLimiter(**values)


async def _send(limiter: MessageRateLimiter, call: Any, chat_id: int, **kwargs: Any) -> Any:
    return await limiter.process_request(
        call, (), {}, "sendMessage", {"chat_id": chat_id}, kwargs.get("rate_limit_args")
    )


async def test_a_reply_refused_with_429_is_retried_and_delivered() -> None:
    limiter = _limiter()
    call = _Flaky(failures=2)
    token = replying.set(True)
    try:
        result = await asyncio.wait_for(_send(limiter, call, 42), HANG_GUARD_S)
    finally:
        replying.reset(token)
    assert result == {"message_id": 1} and call.calls == 3
    assert limiter.replies.floods == 2 and limiter.bulk.floods == 0


async def test_429s_beyond_the_retries_raise_and_zero_retries_raise_at_once() -> None:
    limiter = _limiter(max_retries=1)
    with pytest.raises(RetryAfter):
        await asyncio.wait_for(_send(limiter, _Flaky(failures=5), 42), HANG_GUARD_S)
    once = _Flaky(failures=1)
    with pytest.raises(RetryAfter):
        await _send(limiter, once, 42, rate_limit_args=NO_RETRIES)
    assert once.calls == 1


async def test_bulk_sends_and_groups_pass_their_own_gates() -> None:
    limiter = _limiter()
    await _send(limiter, _Flaky(failures=1), -100500)  # a job's message into a group
    assert limiter.groups[-100500].floods == 1  # the group's gate took the blame
    assert limiter.bulk._recent and not limiter.replies._recent
    token = replying.set(True)
    try:
        await _send(limiter, _Flaky(failures=0), 42)
    finally:
        replying.reset(token)
    assert limiter.replies._recent

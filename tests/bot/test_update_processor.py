"""Concurrent updates with per-chat order: the processor alone, then the real Application."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select
from telegram import Chat, Message, Update, User
from telegram.ext import Application

from bot import texts
from bot.update_processor import ChatOrderedUpdateProcessor, run_cpu_bound, update_keys
from index.leads.db import session_scope
from index.leads.models import Lead

from .conftest import OWNER_ID, SentCalls

#: Guards against a hang if ordering breaks; not a speed assertion.
HANG_GUARD_S = 30.0


def _update(update_id: int, chat_id: int, user_id: int) -> Update:
    user = User(id=user_id, is_bot=False, first_name="U")
    chat = Chat(id=chat_id, type=Chat.PRIVATE if chat_id == user_id else Chat.SUPERGROUP)
    message = Message(message_id=update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id=update_id, message=message)


async def _processor(**kwargs: Any) -> ChatOrderedUpdateProcessor:
    processor = ChatOrderedUpdateProcessor(
        max_running=kwargs.get("max_running", 16), cpu_threads=kwargs.get("cpu_threads", 2)
    )
    await processor.initialize()
    return processor


def test_keys_are_the_chat_and_the_user_sorted() -> None:
    assert update_keys(_update(1, -100, 7)) == (-100, 7)
    assert update_keys(_update(2, 7, 7)) == (7,)
    assert update_keys(object()) == ()


async def test_one_chat_runs_in_arrival_order() -> None:
    processor = await _processor()
    seen: list[int] = []

    async def work(number: int, pause: int) -> None:
        # Yield a different number of times, so an unordered run would interleave.
        for _ in range(pause):
            await asyncio.sleep(0)
        seen.append(number)

    tasks = [
        asyncio.create_task(processor.process_update(_update(n, 5, 5), work(n, 10 - n)))
        for n in range(10)
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), HANG_GUARD_S)
    await processor.shutdown()
    assert seen == list(range(10))


async def test_different_chats_run_concurrently() -> None:
    processor = await _processor()
    b_started = asyncio.Event()
    order: list[str] = []

    async def chat_a() -> None:
        # Finishes only once chat B has started: sequential processing would deadlock here.
        await b_started.wait()
        order.append("a")

    async def chat_b() -> None:
        b_started.set()
        order.append("b")

    first = asyncio.create_task(processor.process_update(_update(1, 10, 10), chat_a()))
    second = asyncio.create_task(processor.process_update(_update(2, 20, 20), chat_b()))
    await asyncio.wait_for(asyncio.gather(first, second), HANG_GUARD_S)
    await processor.shutdown()
    assert order == ["b", "a"]


async def test_a_user_stays_in_order_across_chats() -> None:
    processor = await _processor()
    release = asyncio.Event()
    seen: list[str] = []

    async def in_group() -> None:
        await release.wait()
        seen.append("group")

    async def in_private() -> None:
        seen.append("private")

    # The same user writes in a group, then privately: user_data is shared, so wait.
    group = asyncio.create_task(processor.process_update(_update(1, -100, 7), in_group()))
    private = asyncio.create_task(processor.process_update(_update(2, 7, 7), in_private()))
    await asyncio.sleep(0.01)
    assert seen == []
    release.set()
    await asyncio.wait_for(asyncio.gather(group, private), HANG_GUARD_S)
    await processor.shutdown()
    assert seen == ["group", "private"]


async def test_done_callback_sees_every_update_even_failing_ones() -> None:
    processor = await _processor()
    done: list[int] = []
    processor.add_done_callback(lambda update: done.append(update.update_id))  # type: ignore[attr-defined]

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> None:
        return None

    with pytest.raises(RuntimeError):
        await processor.process_update(_update(1, 5, 5), boom())
    await processor.process_update(_update(2, 5, 5), fine())
    await processor.shutdown()
    assert done == [1, 2]
    assert processor.busy_keys == frozenset()


async def test_cpu_pool_runs_at_most_its_size_at_once() -> None:
    processor = await _processor(cpu_threads=2)
    lock = threading.Lock()
    running = 0
    peak = 0
    gate = threading.Event()

    def work() -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(HANG_GUARD_S)
        with lock:
            running -= 1
        return 1

    def pool_is_full() -> bool:
        """Two jobs run and every other one waits in the pool's queue."""
        assert processor._pool is not None
        with lock:
            return running >= 2 and running + processor._pool._work_queue.qsize() == 6

    app = Application.builder().token("1:x").concurrent_updates(processor).build()
    jobs = [asyncio.create_task(run_cpu_bound(app, work)) for _ in range(6)]
    # Wait for the pool to fill instead of sleeping a fixed 0.1 s: on a busy machine the
    # second thread could start after the sleep, and the peak seen would be 1.
    deadline = time.monotonic() + HANG_GUARD_S
    while not pool_is_full() and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
    gate.set()
    results = await asyncio.wait_for(asyncio.gather(*jobs), HANG_GUARD_S)
    await processor.shutdown()
    assert results == [1] * 6
    assert peak == 2


# --- through the real Application and ConversationHandler -----------------------------------


async def _run_queued(
    app: Application[Any, Any, Any, Any, Any, Any], updates: list[Update]
) -> None:
    """Feeds updates through the update queue, back to back, as the Updater would.

    The app keeps running between calls, as in production (the `app` fixture stops it):
    stopping it would drop the job queue's conversation timeouts under ConversationHandler.
    """
    if not app.running:
        await app.start()
    for update in updates:
        await app.update_queue.put(update)
    await asyncio.wait_for(app.update_queue.join(), HANG_GUARD_S)


async def test_two_fast_messages_from_one_user_stay_in_order(
    app: Application[Any, Any, Any, Any, Any, Any],
    sent: SentCalls,
    make_command_update: Callable[..., Update],
    make_message_update: Callable[..., Update],
) -> None:
    # Name and phone typed before the bot answered the first: handled in order, each in
    # the state the previous one left.
    await _run_queued(
        app,
        [
            make_command_update("/dangky"),
            make_message_update("Nguyễn Văn An"),
            make_message_update("0912 345 678"),
        ],
    )
    replies = sent.texts()
    assert texts.LEAD_ASK_NAME in replies[0]
    assert texts.LEAD_ASK_PHONE in replies[1]
    assert any("+84912345678" in text for text in replies[2:])
    assert texts.LEAD_ASK_ESTABLISHMENT in replies[-1]
    assert not any(texts.LEAD_BAD_PHONE in text for text in replies)


async def test_double_tap_on_confirm_saves_one_lead(
    app: Application[Any, Any, Any, Any, Any, Any],
    sent: SentCalls,
    db_engine: Any,
    make_command_update: Callable[..., Update],
    make_message_update: Callable[..., Update],
    make_callback_update: Callable[..., Update],
) -> None:
    answers = ["Nguyễn Văn An", "0912 345 678", "Cơ sở mộc An", "Hộ kinh doanh"]
    await _run_queued(
        app, [make_command_update("/dangky"), *(make_message_update(t) for t in answers)]
    )
    # Province, district, support and consent by text/buttons, then the summary.
    await _run_queued(
        app,
        [
            make_message_update("Quảng Nam"),
            make_message_update("Điện Bàn"),
            make_message_update("Máy móc thiết bị"),
        ],
    )
    await _run_queued(app, [make_callback_update("lead:consent:yes")])
    summary_id = sent.message_ids()[-1]
    assert "lead:confirm" in sent.callback_data()
    # Two presses of "Xác nhận" arrive together.
    await _run_queued(
        app,
        [
            make_callback_update("lead:confirm", message_id=summary_id),
            make_callback_update("lead:confirm", message_id=summary_id),
        ],
    )
    with session_scope(db_engine) as session:
        leads = session.exec(select(Lead).where(Lead.telegram_user_id == OWNER_ID)).all()
    assert len(leads) == 1
    saved = [t for t in sent.texts() if t.startswith(texts.LEAD_SAVED_NEW.split("{")[0])]
    assert len(saved) == 1
    assert texts.LEAD_ALREADY_SAVED in sent.answered_callbacks()

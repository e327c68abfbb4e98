"""The real polling bot in a thread, against the loopback fake Bot API of scripts.fake_bot_api.

`live_bot(settings, engine=...)` starts `Application.run_polling` (without signal handlers)
in a thread, waits until it polls, and stops it on exit, failing the test if the bot died,
did not stop, or called a Bot API method the fake does not know.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import build_application
from index.settings import Settings
from scripts.fake_bot_api import FakeBotApi
from scripts.fake_bot_server import serve

from .conftest import BOT_ID, BOT_TOKEN, BOT_USERNAME, STAFF_CHAT_ID

BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý", "username": BOT_USERNAME}


def fake_api() -> FakeBotApi:
    """A fake Bot API for the test bot's token."""
    return FakeBotApi(token=BOT_TOKEN, bot_user=BOT_USER)


def live_settings(
    kb_settings: Settings, tmp_path: Path, base_url: str, **overrides: Any
) -> Settings:
    """Settings of a live bot: the session index, a tmp data dir and DB, staff chat set."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "knowledge_dir": kb_settings.knowledge_dir,
        "INDEX_DIR": kb_settings.index_dir,
        "MODEL_DIR": kb_settings.model_dir,
        "DATABASE_URL": f"sqlite:///{(tmp_path / 'live.db').as_posix()}",
        "telegram_bot_token": SecretStr(BOT_TOKEN),
        "telegram_api_base_url": base_url,
        "staff_user_ids": [1001],
        "admin_user_ids": [1002],
        "staff_chat_id": STAFF_CHAT_ID,
        # The outbox drain runs often, so a test sees the staff announcement promptly.
        "staff_announce_seconds": 0.5,
        "typing_indicator_delay_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running(settings: Settings, api: FakeBotApi, *, engine: Any) -> Iterator[Any]:
    """Runs the bot built from `settings` until the block ends; yields the Application."""
    app = build_application(settings, engine=engine)
    loop_ready = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    setup = app.post_init
    assert setup is not None

    async def post_init(application: Any) -> None:
        loops.append(asyncio.get_running_loop())
        await setup(application)
        loop_ready.set()

    app.post_init = post_init
    errors: list[BaseException] = []

    def run() -> None:
        try:
            app.run_polling(poll_interval=0.0, timeout=1, stop_signals=None, close_loop=True)
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
            loop_ready.set()

    polls = api.polls
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert loop_ready.wait(60), "the bot did not start"
        assert not errors, errors
        for _ in range(200):
            if api.polls > polls:
                break
            thread.join(0.05)
        assert api.polls > polls, "the bot never polled for updates"
        yield app
    finally:
        if loops:
            loops[0].call_soon_threadsafe(app.stop_running)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the bot did not stop"
        assert not errors, errors
        assert not api.unexpected, f"unexpected Bot API methods: {api.unexpected}"


@contextmanager
def live_bot(
    kb_settings: Settings, tmp_path: Path, *, engine: Any, **overrides: Any
) -> Iterator[tuple[FakeBotApi, Settings, Any]]:
    """Serves a fake Bot API and runs the bot against it; yields (api, settings, app)."""
    api = fake_api()
    with serve(api) as base_url:
        settings = live_settings(kb_settings, tmp_path, base_url, **overrides)
        with running(settings, api, engine=engine) as app:
            yield api, settings, app

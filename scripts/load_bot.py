"""The bot under load: `python -m bot` in a subprocess, polling a loopback fake Bot API.

`bot_under_test` gives a run a fresh data directory, the fake API (`scripts.fake_bot_api`)
served on 127.0.0.1 and a bot configured for it, with a staff chat; `crash_midway` kills the
bot with updates fetched but not handled, and restarts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.fake_bot_api import FakeBotApi
from scripts.fake_bot_server import serve

BOT_ID = 123456
BOT_TOKEN = f"{BOT_ID}:LOADTEST-not-a-real-token"
STAFF_CHAT_ID = -100500
STAFF_USER_ID = 1001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý", "username": "khuyencong_bot"}
#: How long the bot may take to load the model and index and poll for the first time.
START_TIMEOUT = 180.0


@dataclass(slots=True)
class BotProcess:
    """`python -m bot` in a subprocess, configured by environment, logging to a file."""

    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: Any = field(default=None)

    def start(self, api: FakeBotApi, *, timeout: float = START_TIMEOUT) -> None:
        """Starts the bot and waits until it polls the fake Bot API."""
        polls = api.polls
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot"],
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while api.polls <= polls:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the bot did not poll within {timeout:.0f} s: {self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kills the bot with SIGKILL (`kill -9`): no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self._close_log()

    def stop(self, *, timeout: float = 60.0) -> int | None:
        """Stops the bot like Ctrl-C (SIGINT) and returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def cpu_seconds(self) -> float | None:
        """CPU time the bot has used so far (Linux /proc); None where it cannot be read.

        Unlike answers/s on a shared machine, CPU per answer barely depends on other load.
        """
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # utime and stime, fields 14 and 15 of stat(5), in clock ticks.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, lines: int = 20) -> str:
        """The last lines of the bot's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def bot_env(
    *,
    base_url: str,
    data_dir: Path,
    index_dir: Path,
    model_dir: Path,
    knowledge_dir: Path,
    database_url: str | None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a bot under test: the fake API, a staff chat, a private data dir."""
    env = {
        key: value
        for key, value in os.environ.items()
        # A developer's own bot settings must not leak into the run under test.
        if not key.startswith(("TELEGRAM_", "STAFF_", "ADMIN_", "DATABASE_", "WEBHOOK_"))
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_BASE_URL": base_url,
            "TELEGRAM_MODE": "polling",
            "STAFF_USER_IDS": str(STAFF_USER_ID),
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "DATA_DIR": str(data_dir),
            "INDEX_DIR": str(index_dir),
            "MODEL_DIR": str(model_dir),
            "KNOWLEDGE_DIR": str(knowledge_dir),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if extra:
        env.update(extra)
    return env


@contextmanager
def bot_under_test(
    settings: Any,
    *,
    database_url: str | None = None,
    workdir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    flood_rate: float | None = None,
) -> Iterator[tuple[FakeBotApi, BotProcess, str]]:
    """Runs the fake Bot API and a bot process over a fresh data dir; yields both and the DB URL.

    Args:
        settings: The configured Settings; its index, model and knowledge are reused.
        database_url: The leads database; a fresh SQLite file when None.
        workdir: Where the data dir and log go; a temporary directory when None.
        extra_env: More environment for the bot (e.g. TELEGRAM_MESSAGES_PER_SECOND).
        flood_rate: Messages a second above which the fake answers 429; None: never.
    """
    api = FakeBotApi(token=BOT_TOKEN, bot_user=BOT_USER, flood_rate=flood_rate)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        root = workdir or Path(tmp)
        data_dir = root / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{(data_dir / 'loadtest.db').as_posix()}"
        with serve(api) as base_url:
            env = bot_env(
                base_url=base_url,
                data_dir=data_dir.resolve(),
                index_dir=Path(settings.index_dir).resolve(),
                model_dir=Path(settings.model_dir).resolve(),
                knowledge_dir=Path(settings.knowledge_dir).resolve(),
                database_url=url,
                extra=extra_env,
            )
            bot = BotProcess(env=env, cwd=root, log_path=root / "bot.log")
            bot.start(api)
            try:
                yield api, bot, url
            finally:
                bot.stop()


def crash_midway(api: FakeBotApi, bot: BotProcess, *, timeout: float = 60.0) -> None:
    """Kills the bot with updates fetched but not handled, then starts it again.

    The fake Bot API stalls every sendMessage, so handlers hang halfway; once every pushed
    update has been fetched (confirmed to "Telegram"), the bot is killed with SIGKILL.
    The stalled messages are then refused, as Telegram would never have delivered them.
    """
    gate = threading.Event()
    stalled = threading.Event()

    def stall(method: str, _params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if method != "sendMessage":
            return None
        stalled.set()
        gate.wait(timeout)
        return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}

    api.fault = stall
    deadline = time.monotonic() + timeout
    while (not stalled.is_set() or api.pending()) and time.monotonic() < deadline:
        time.sleep(0.05)
    bot.kill()
    api.fault = None
    gate.set()
    bot.start(api)

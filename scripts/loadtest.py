"""Load test: the real bot process (`python -m bot`) against a loopback fake Bot API.

`python -m scripts loadtest [--scenario ask|register|crash|all] [--users 50] [--questions 5]
[--registrations 200] [--timeout 600] [--database-url URL] [--messages-per-second 30]
[--reply-messages-per-second 0] [--flood-rate N] [--json]` (or `make bench-load`).

Scenarios:
    ask       N users each ask Q questions, one after the other: answers/s, p50/p95 latency.
    register  N users register at once with a staff chat configured; when half have pressed
              "confirm", someone asks a question: confirmation p50/p95, that question's
              latency, leads saved vs confirmed, duplicates, leads announced to staff and the
              staff messages that took (digests make them fewer).
    crash     the registrations again, with `kill -9` of the bot when half have pressed
              "confirm", then a restart: how many users were never answered, and whether any
              lead was lost or duplicated.

Everything runs on 127.0.0.1 in a temporary data directory (the configured index and model
are reused read-only); counts and waits are bounded. Speed figures depend on the machine:
the report includes the load average so a busy machine is visible. `--flood-rate N` makes
the fake Telegram refuse messages above N a second with 429 "retry after", as Telegram
does; `flooded` counts the refusals, and the other figures show whether any reply was lost.
"""

from __future__ import annotations

import argparse
import json
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
from scripts.load_leads import announced_leads, lead_counts, lead_report, wait_for_announcements
from scripts.load_scenarios import run_ask, run_register

BOT_ID = 123456
BOT_TOKEN = f"{BOT_ID}:LOADTEST-not-a-real-token"
STAFF_CHAT_ID = -100500
STAFF_USER_ID = 1001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý", "username": "khuyencong_bot"}
#: Caps on what one run may ask for, so a typo cannot start a runaway test.
MAX_USERS = 1000
MAX_QUESTIONS = 50
MAX_REGISTRATIONS = 1000
MAX_TIMEOUT = 3600.0
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


def _register_report(api: FakeBotApi, result: Any, url: str, **extra: Any) -> dict[str, Any]:
    stored = lead_counts(url, [r.user_id for r in result.registrations])
    announced = announced_leads(api, STAFF_CHAT_ID)
    # Digests make this much smaller than the leads announced in a burst.
    staff_messages = sum(1 for c in api.calls_to(STAFF_CHAT_ID) if c.method == "sendMessage")
    return {
        **result.to_dict(),
        **lead_report(result, stored, announced),
        "staff_messages": staff_messages,
        "flooded": api.flooded,
        **extra,
    }


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


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Runs the chosen scenarios and returns the report."""
    from index.settings import Settings

    settings = Settings()
    from bot.console import ensure_index

    def progress(line: str) -> None:
        sys.stderr.write(line + "\n")

    # The bot would build a missing index itself, but that is not what is being measured.
    ensure_index(settings, progress)
    scenarios = ["ask", "register", "crash"] if args.scenario == "all" else [args.scenario]
    extra_env: dict[str, str] = {}
    if args.messages_per_second is not None:
        # Telegram's ~30/s for bulk sends (staff announcements); replies have their own.
        extra_env["TELEGRAM_MESSAGES_PER_SECOND"] = str(args.messages_per_second)
    if args.reply_messages_per_second is not None:
        extra_env["TELEGRAM_REPLY_MESSAGES_PER_SECOND"] = str(args.reply_messages_per_second)
    report: dict[str, Any] = {"load_average": [round(v, 2) for v in os.getloadavg()]}
    for item in args.bot_env:
        key, _, value = item.partition("=")
        extra_env[key.strip()] = value
    if args.flood_rate is not None:
        report["flood_rate"] = args.flood_rate
    if extra_env:
        report["bot_env"] = extra_env
    if "ask" in scenarios:
        with bot_under_test(
            settings,
            database_url=args.database_url,
            extra_env=extra_env,
            flood_rate=args.flood_rate,
        ) as (api, bot, _url):
            cpu_before = bot.cpu_seconds()
            asked = run_ask(api, users=args.users, questions=args.questions, timeout=args.timeout)
            cpu_after = bot.cpu_seconds()
            cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
            with api.lock:
                typing = sum(1 for c in api.calls if c.method == "sendChatAction")
            report["ask"] = {
                **asked.to_dict(),
                "flooded": api.flooded,
                "typing_indicators": typing,
                "bot_cpu_s": None if cpu is None else round(cpu, 2),
                "bot_cpu_ms_per_answer": (
                    round(1000 * cpu / asked.answered, 2) if cpu and asked.answered else None
                ),
            }
    if "register" in scenarios:
        with bot_under_test(
            settings,
            database_url=args.database_url,
            extra_env=extra_env,
            flood_rate=args.flood_rate,
        ) as (api, _bot, url):
            registered = run_register(api, registrations=args.registrations, timeout=args.timeout)
            wait_for_announcements(api, url, registered, STAFF_CHAT_ID, args.announce_wait)
            report["register"] = _register_report(api, registered, url)
    if "crash" in scenarios:
        with bot_under_test(
            settings,
            database_url=args.database_url,
            extra_env=extra_env,
            flood_rate=args.flood_rate,
        ) as (api, bot, url):

            def crash() -> None:
                crash_midway(api, bot)

            crashed = run_register(
                api, registrations=args.registrations, timeout=args.timeout, midway=crash
            )
            report["crash"] = _register_report(api, crashed, url, restarts=bot.starts - 1)
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    return report


def print_report(report: dict[str, Any]) -> None:
    """Prints the report as tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"Load average before/after: {report['load_average']} / {report['load_average_after']}"
    )
    for name in ("ask", "register", "crash"):
        if name not in report:
            continue
        table = Table(title=f"Scenario: {name}")
        table.add_column("Metric")
        table.add_column("Value", justify="right")
        for key, value in report[name].items():
            table.add_row(key, json.dumps(value, ensure_ascii=False))
        console.print(table)


def _bounded(kind: type, low: float, high: float) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the load test."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.loadtest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenario", choices=("ask", "register", "crash", "all"), default="all")
    parser.add_argument("--users", type=_bounded(int, 1, MAX_USERS), default=50)
    parser.add_argument("--questions", type=_bounded(int, 1, MAX_QUESTIONS), default=5)
    parser.add_argument("--registrations", type=_bounded(int, 1, MAX_REGISTRATIONS), default=200)
    parser.add_argument(
        "--timeout",
        type=_bounded(float, 1, MAX_TIMEOUT),
        default=600.0,
        help="seconds a user waits for each reply",
    )
    parser.add_argument(
        "--announce-wait",
        type=_bounded(float, 0, MAX_TIMEOUT),
        default=30.0,
        help="seconds to wait for staff announcements after the last confirmation",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--messages-per-second",
        type=_bounded(float, 1, 1000),
        default=None,
        help="the bot's TELEGRAM_MESSAGES_PER_SECOND, the cap on bulk sends (default: its "
        "setting, Telegram's 30)",
    )
    parser.add_argument(
        "--reply-messages-per-second",
        type=_bounded(float, 0, 1000),
        default=None,
        help="the bot's TELEGRAM_REPLY_MESSAGES_PER_SECOND, the cap on replies (0: none; "
        "default: its setting)",
    )
    parser.add_argument(
        "--flood-rate",
        type=_bounded(float, 1, 1000),
        default=None,
        help="the fake Telegram answers 429 'retry after' above this many messages a second",
    )
    parser.add_argument(
        "--bot-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more settings for the bot under test (repeatable), e.g. ANSWER_THREADS=4",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the load test; returns the exit code (1 when a lead was lost or duplicated)."""
    args = build_parser().parse_args(argv)
    report = run(args)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        print_report(report)
    broken = any(
        report[name].get("leads_lost") or report[name].get("leads_duplicated")
        for name in ("register", "crash")
        if name in report
    )
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())

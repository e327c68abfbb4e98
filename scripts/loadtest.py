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
import sys
from typing import Any

from scripts.fake_bot_api import FakeBotApi
from scripts.load_bot import STAFF_CHAT_ID, bot_under_test, crash_midway
from scripts.load_leads import announced_leads, lead_counts, lead_report, wait_for_announcements
from scripts.load_scenarios import run_ask, run_register

#: Caps on what one run may ask for, so a typo cannot start a runaway test.
MAX_USERS = 1000
MAX_QUESTIONS = 50
MAX_REGISTRATIONS = 1000
MAX_TIMEOUT = 3600.0


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

"""`doctor` checks the conversation state file; `loadtest` is a real command with options."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.persistence import StatePersistence
from bot.update_journal import UpdateJournal
from scripts.cli import app
from tests.scripts.test_cli import cli_env, run

__all__ = ["cli_env"]


def _state_line(output: str) -> str:
    return next(line for line in output.splitlines() if "trạng thái hội thoại" in line)


def test_doctor_reads_a_good_state_file(cli_env: dict[str, Path]) -> None:
    import asyncio

    data = cli_env["data"]
    data.mkdir(parents=True, exist_ok=True)
    persistence = StatePersistence(
        data / "bot_state.pickle", UpdateJournal(data / "bot_state.updates"), save_interval=1
    )

    async def save() -> None:
        await persistence.get_user_data()
        persistence.begin(persistence.journal.checkpoint())
        await persistence.update_user_data(7, {"lead_draft": {}})
        await persistence.end()

    asyncio.run(save())
    line = _state_line(run("doctor", "--skip-model").output)
    assert line.startswith("✅") and "1 người dùng" in line


def test_doctor_warns_about_a_damaged_state_file(cli_env: dict[str, Path]) -> None:
    data = cli_env["data"]
    data.mkdir(parents=True, exist_ok=True)
    (data / "bot_state.pickle").write_bytes(b"\x80\x05truncated")
    line = _state_line(run("doctor", "--skip-model").output)
    assert line.startswith("⚠") and "bị hỏng" in line and "damaged" in line  # optional: moved aside
    # doctor only reads: the bot itself moves the file aside when it starts.
    assert (data / "bot_state.pickle").exists()


def test_loadtest_options_show_in_help() -> None:
    result = CliRunner().invoke(app, ["loadtest", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in (
        "--scenario",
        "--users",
        "--registrations",
        "--database-url",
        "--reply-messages",  # rich may cut the rest of a long name at 80 columns
        "--flood-rate",
        "--bot-env",
        "--json",
    ):
        assert option in result.output


def test_loadtest_hands_its_bot_settings_and_flood_rate_to_the_run(monkeypatch) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    monkeypatch.setattr("scripts.loadtest.main", fake_main)
    result = CliRunner().invoke(
        app,
        [
            "loadtest",
            "--scenario=ask",
            "--reply-messages-per-second=30",
            "--flood-rate=40",
            "--bot-env=ANSWER_THREADS=4",
            "--bot-env=STATE_SAVE_SECONDS=5",
        ],
    )
    assert result.exit_code == 0, result.output
    (argv,) = seen
    assert "--reply-messages-per-second=30.0" in argv and "--flood-rate=40.0" in argv
    assert "--bot-env=ANSWER_THREADS=4" in argv and "--bot-env=STATE_SAVE_SECONDS=5" in argv
    # And the parser behind it accepts what the command passes on.
    from scripts.loadtest import build_parser

    parsed = build_parser().parse_args(argv)
    assert parsed.bot_env == ["ANSWER_THREADS=4", "STATE_SAVE_SECONDS=5"]
    assert parsed.flood_rate == 40.0 and parsed.reply_messages_per_second == 30.0

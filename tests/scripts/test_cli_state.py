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
    for option in ("--scenario", "--users", "--registrations", "--database-url", "--json"):
        assert option in result.output

"""The console chat answers scripted questions and ends cleanly on EOF, Ctrl-C or 'thoat'."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import texts
from bot.answer_views import to_plain
from bot.console import run_console
from index.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DECREE_QUESTION = "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?"


def scripted(lines: list[str], end: BaseException) -> Callable[[str], str]:
    """Returns an input() stand-in that replays lines, then raises `end`."""
    replay: Iterator[str] = iter(lines)
    prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(replay)
        except StopIteration:
            raise end from None

    return fake_input


def test_console_answers_with_sources_and_ends_on_eof(kb_settings: Settings, engine) -> None:
    out: list[str] = []

    run_console(
        kb_settings,
        input_fn=scripted(["", "   ", DECREE_QUESTION, "còn ở Quảng Nam thì sao?"], EOFError()),
        output=out.append,
        engine=engine,
    )

    text = "\n".join(out)
    assert out[0] == texts.CONSOLE_WELCOME
    assert "45/2012" in text
    # Sources are rendered by bot.answer_views, exactly as in Telegram (without markup).
    assert to_plain(texts.SOURCES_HEADER) in text
    source_lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert source_lines
    assert "<b>" not in text
    rewritten = "Nghị định nào quy định đối tượng được hỗ trợ khuyến công, ở Quảng Nam?"
    assert texts.CONSOLE_FOLLOWUP.format(question=rewritten) in out
    assert out[-1] == texts.CONSOLE_BYE


def test_console_abstains_and_survives_ctrl_c(kb_settings: Settings, engine) -> None:
    out: list[str] = []

    run_console(
        kb_settings,
        input_fn=scripted(["Giá vé máy bay đi Paris là bao nhiêu?"], KeyboardInterrupt()),
        output=out.append,
        engine=engine,
    )

    text = "\n".join(out)
    assert to_plain(texts.SOURCES_HEADER) not in text
    assert to_plain(texts.NOT_CONFIDENT) in text
    assert out[-1] == texts.CONSOLE_BYE


def test_console_exit_word_stops_before_later_questions(kb_settings: Settings, engine) -> None:
    out: list[str] = []

    run_console(
        kb_settings,
        input_fn=scripted(["thoát", DECREE_QUESTION], EOFError()),
        output=out.append,
        engine=engine,
    )

    assert out == [texts.CONSOLE_WELCOME, texts.CONSOLE_BYE]


def test_console_reports_a_failing_answer_and_continues(kb_settings: Settings) -> None:
    class BrokenEngine:
        def answer(self, question: str):
            raise RuntimeError("index file vanished")

    out: list[str] = []

    run_console(
        kb_settings,
        input_fn=scripted(["câu một", "câu hai"], EOFError()),
        output=out.append,
        engine=BrokenEngine(),  # type: ignore[arg-type]
    )

    errors = [line for line in out if line == texts.CONSOLE_ERROR.format(error="RuntimeError")]
    assert len(errors) == 2
    assert "index file vanished" not in "\n".join(out)


@pytest.mark.slow
def test_console_builds_a_missing_index_first(
    make_settings: Callable[..., Settings], embedding_model, tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(REPO_ROOT / "knowledge" / "guides" / "van-ban-phap-ly.md", knowledge)
    settings = make_settings(knowledge_dir=knowledge)
    out: list[str] = []

    run_console(
        settings,
        input_fn=scripted([DECREE_QUESTION], EOFError()),
        output=out.append,
        model=embedding_model,
    )

    assert out[0] == texts.CONSOLE_BUILDING_INDEX
    assert any(line.startswith("Đã sẵn sàng") for line in out)
    assert texts.CONSOLE_WELCOME in out
    # The answer comes from the freshly built one-document index.
    assert "Các văn bản pháp lý về khuyến công" in "\n".join(out)

"""The console chat answers scripted questions and ends cleanly on EOF, Ctrl-C or 'thoat'."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlmodel import Session

from bot import texts
from bot.answer_views import to_plain
from bot.console import CONSOLE_USER, run_console
from index.leads.db import create_db_engine
from index.leads.lead_queries import list_leads_for_user
from index.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DECREE_QUESTION = "Văn bản gốc quy định về khuyến công là nghị định nào?"


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


@pytest.fixture
def console_db(tmp_path: Path, migrated_sqlite: Path) -> Iterator[sqlalchemy.Engine]:
    """A migrated leads database of the console's own (a copy of the session template)."""
    path = tmp_path / "console-leads.db"
    shutil.copy(migrated_sqlite, path)
    db = create_db_engine(f"sqlite:///{path.as_posix()}")
    yield db
    db.dispose()


ConsoleRun = Callable[..., list[str]]


@pytest.fixture
def chat(kb_settings: Settings, engine, console_db: sqlalchemy.Engine) -> ConsoleRun:
    """Runs the console over typed lines (then EOF, or `end`); returns what it printed."""

    def run(lines: list[str], *, end: BaseException | None = None, answers=None) -> list[str]:
        out: list[str] = []
        run_console(
            kb_settings,
            input_fn=scripted(lines, end or EOFError()),
            output=out.append,
            engine=answers or engine,
            db_engine=console_db,
        )
        return out

    return run


def test_console_answers_with_sources_and_ends_on_eof(chat: ConsoleRun) -> None:
    out = chat(["", "   ", DECREE_QUESTION, "còn ở Quảng Nam thì sao?"])

    text = "\n".join(out)
    assert out[0] == texts.CONSOLE_WELCOME
    assert "45/2012" in text
    # Sources are rendered by bot.answer_views, exactly as in Telegram (without markup).
    assert to_plain(texts.SOURCES_HEADER) in text
    source_lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert source_lines
    assert "<b>" not in text
    rewritten = "Văn bản gốc quy định về khuyến công là nghị định nào, ở Quảng Nam?"
    assert to_plain(texts.FOLLOWUP_UNDERSTOOD.format(question=rewritten)) in text
    # The answer's buttons are numbered, as the console presses them by number.
    assert texts.CONSOLE_BUTTON.format(number=1, label="").rstrip() in text
    assert out[-1] == texts.CONSOLE_BYE


def test_console_abstains_and_survives_ctrl_c(chat: ConsoleRun) -> None:
    out = chat(["Giá vé máy bay đi Paris là bao nhiêu?"], end=KeyboardInterrupt())

    text = "\n".join(out)
    assert to_plain(texts.SOURCES_HEADER) not in text
    assert "Tôi có thể giúp bạn về" in text  # the refusal names what is covered
    assert out[-1] == texts.CONSOLE_BYE


def test_console_exit_word_stops_before_later_questions(chat: ConsoleRun) -> None:
    assert chat(["thoát", DECREE_QUESTION]) == [texts.CONSOLE_WELCOME, texts.CONSOLE_BYE]


def test_console_reports_a_failing_answer_and_continues(chat: ConsoleRun) -> None:
    class BrokenEngine:
        def answer(self, question: str, **kwargs: object):
            raise RuntimeError("index file vanished")

    out = chat(["câu một", "câu hai"], answers=BrokenEngine())

    # The bot's own error reply, as on Telegram, once per failed question; no trace shown.
    assert out.count(to_plain(texts.ERROR_REPLY)) == 2
    assert "index file vanished" not in "\n".join(out)
    assert "Traceback" not in "\n".join(out)


def test_console_registers_a_lead_through_the_real_flow(
    chat: ConsoleRun, console_db: sqlalchemy.Engine
) -> None:
    """/dangky runs Telegram's registration; buttons are pressed by typing their number."""
    typed = [
        "/dangky",
        "Nguyễn Văn An",
        "0912 345 678",
        "Cơ sở dệt Tân Hòa",
        "4",  # Hộ kinh doanh
        "Quảng Nam",
        "Duy Xuyên",
        "Muốn được hỗ trợ máy dệt",
    ]
    text = "\n".join(chat(typed))
    assert to_plain(texts.LEAD_ASK_NAME) in text
    assert to_plain(texts.LEAD_ASK_CONSENT) in text
    # Nothing is stored before consent and confirmation.
    with Session(console_db) as session:
        assert list_leads_for_user(session=session, telegram_user_id=CONSOLE_USER.id) == []

    # Again, then "1" gives consent and "1" confirms the summary.
    out = chat([*typed, "1", "1"])

    with Session(console_db) as session:
        leads = list_leads_for_user(session=session, telegram_user_id=CONSOLE_USER.id)
    assert [lead.phone for lead in leads] == ["+84912345678"]
    saved = to_plain(texts.LEAD_SAVED_NEW.format(lead_id=leads[0].id, phone="+84912345678"))
    assert saved in "\n".join(out)


def test_console_starts_the_eligibility_check_and_presses_buttons(chat: ConsoleRun) -> None:
    text = "\n".join(chat(["kiểm tra giúp tôi có đủ điều kiện không", "1", "99"]))

    assert to_plain(texts.ELIG_STEP_TYPE) in text
    # "1" pressed the first type button, so the check moved on to step 2.
    assert to_plain(texts.ELIG_STEP_AREA) in text
    # A number with no button behind it is an ordinary message, not a press.
    assert text.count(to_plain(texts.ELIG_STEP_AREA)) == 1


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

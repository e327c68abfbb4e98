"""The CLI and Telegram read provinces, statuses and date ranges the same way.

One database, the same words typed into `/leads` / `/export` and into
`python -m scripts leads list` / `leads export`: both must select the same leads.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot import texts
from index.dates import VN_TZ
from index.leads import crud
from index.leads.db import session_scope
from index.leads.models import Lead, LeadCreate, LeadStatus
from scripts.cli import app as cli_app
from tests.bot.conftest import STAFF_ID

#: (name, province, status, created in Vietnam time)
LEADS = (
    ("Hoa", "Quảng Nam", LeadStatus.new, datetime(2026, 11, 25, 3, 0, tzinfo=VN_TZ)),
    ("Bình", "Đà Nẵng", LeadStatus.contacted, datetime(2026, 11, 24, 23, 30, tzinfo=VN_TZ)),
    ("Cúc", "Quảng Ngãi", LeadStatus.new, datetime(2026, 11, 26, 0, 10, tzinfo=VN_TZ)),
    ("Dũng", "Bà Rịa - Vũng Tàu", LeadStatus.not_eligible, datetime(2026, 11, 25, 23, 59, tzinfo=VN_TZ)),
    ("Em", "Đồng Tháp", LeadStatus.closed, datetime(2026, 11, 20, 12, 0, tzinfo=VN_TZ)),
)  # fmt: skip


@pytest.fixture
def ids(db_engine: Any) -> dict[str, int]:
    """Stores LEADS and returns their ids by name."""
    found: dict[str, int] = {}
    with session_scope(db_engine) as session:
        for number, (name, province, status, created) in enumerate(LEADS, start=1):
            lead, _ = crud.upsert_lead(
                session=session,
                lead_in=LeadCreate(
                    full_name=name,
                    phone=f"+849120000{number:02d}",
                    establishment_name=f"Cơ sở {name}",
                    province=province,
                    support_items=["Đào tạo nghề"],
                    consent_at=datetime.now(UTC),
                ),
            )
            assert lead.id is not None
            crud.change_status(session=session, lead_id=lead.id, status=status, actor="test")
            stored = session.get(Lead, lead.id)
            assert stored is not None
            stored.created_at = created.astimezone(UTC)
            session.add(stored)
            session.commit()
            found[name] = lead.id
    return found


@pytest.fixture
def cli(bot_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Runs the admin CLI on the bot's database, from an empty directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(bot_settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", bot_settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Any:
        result = CliRunner().invoke(cli_app, list(args))
        assert "Traceback" not in result.output
        return result

    return run


_ROW = re.compile(r"^│\s*(\d+)\s*│\s*(\S+)\s*│", re.MULTILINE)


def cli_listed(result: Any) -> dict[int, str]:
    """Lead id -> shown date of each row of `leads list`."""
    return {int(lead_id): day for lead_id, day in _ROW.findall(result.output)}


async def telegram_listed(app: Any, sent: Any, make_command_update: Any, args: str) -> set[int]:
    sent.clear()
    await app.process_update(make_command_update(f"/leads {args}", user_id=STAFF_ID))
    return {int(data.rsplit(":", 1)[1]) for data in sent.callback_data() if "staff:lead:" in data}


def csv_ids(raw: bytes) -> set[int]:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    return {int(row[0]) for row in rows[1:]}


@pytest.mark.parametrize(
    ("option", "typed", "expected"),
    [
        ("--province", "quang nam", {"Hoa", "Bình"}),  # Quảng Nam is part of Đà Nẵng since 2025
        ("--province", "Đà Nẵng", {"Hoa", "Bình"}),
        ("--province", "vung tau", {"Dũng"}),
        ("--province", "TP HCM", {"Dũng"}),
        ("--province", "quang ngai", {"Cúc"}),
        ("--province", "dong thap", {"Em"}),
        ("--province", "ca mau", set()),
        ("--status", "moi", {"Hoa", "Cúc"}),
        ("--status", "Mới", {"Hoa", "Cúc"}),
        ("--status", "da lien he", {"Bình"}),
        ("--status", "not_eligible", {"Dũng"}),
        ("--status", "khong du dieu kien", {"Dũng"}),
        ("--status", "đã đóng", {"Em"}),
    ],
)
async def test_province_and_status_words_select_the_same_leads(
    app, sent, make_command_update, ids, cli, option: str, typed: str, expected: set[str]
) -> None:
    want = {ids[name] for name in expected}
    assert await telegram_listed(app, sent, make_command_update, typed) == want
    result = cli("leads", "list", option, typed)
    assert result.exit_code == 0, result.output
    assert set(cli_listed(result)) == want


async def test_an_ambiguous_province_offers_the_same_candidates(
    app, sent, make_command_update, ids, cli
) -> None:
    await telegram_listed(app, sent, make_command_update, "quang")
    assert sent.texts() == [texts.STAFF_PROVINCE_AMBIGUOUS.format(province="quang")]
    telegram_choices = [label for label, _ in sent.buttons()]

    result = cli("leads", "list", "--province", "quang")

    assert result.exit_code == 1
    assert telegram_choices == [
        "Đà Nẵng (Quảng Nam cũ)",
        "Quảng Ngãi",
        "Quảng Ninh",
        "Quảng Trị",
    ]
    assert "; ".join(telegram_choices) in " ".join(result.output.split())
    # A button narrows it down to what typing the full name gives.
    (da_nang,) = [data for label, data in sent.buttons() if label.startswith("Đà Nẵng")]
    sent.clear()
    await app.process_update(_callback(app, da_nang))
    shown = {int(d.rsplit(":", 1)[1]) for d in sent.callback_data() if "staff:lead:" in d}
    assert shown == {ids["Hoa"], ids["Bình"]}


def _callback(app: Any, data: str) -> Any:
    from telegram import CallbackQuery, Chat, Message, Update, User

    user = User(id=STAFF_ID, is_bot=False, first_name="Staff")
    message = Message(
        message_id=1, date=datetime.now(UTC), chat=Chat(id=STAFF_ID, type=Chat.PRIVATE)
    )
    query = CallbackQuery(id="1", from_user=user, chat_instance="c", data=data, message=message)
    update = Update(update_id=10_000, callback_query=query)
    for obj in (update, query, message):
        obj.set_bot(app.bot)
    return update


async def test_date_ranges_are_vietnam_days_in_both(
    app, sent, make_command_update, ids, cli, tmp_path: Path
) -> None:
    # 25/11 03:00 in Vietnam is 24/11 20:00 UTC: it belongs to 25/11, and so does 23:59.
    want = {ids["Hoa"], ids["Dũng"]}

    sent.clear()
    await app.process_update(
        make_command_update("/export từ 25/11/2026 đến 25/11/2026", user_id=STAFF_ID)
    )
    telegram_csv = sent.of("sendDocument")[0].params["document"].content
    assert csv_ids(telegram_csv) == want

    target = tmp_path / "leads.csv"
    result = cli(
        "leads", "export", "--since", "2026-11-25", "--until", "25/11/2026", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    assert csv_ids(target.read_bytes()) == want

    listed = cli("leads", "list", "--since", "2026-11-25", "--until", "2026-11-25")
    assert cli_listed(listed) == {ids["Hoa"]: "25/11/2026", ids["Dũng"]: "25/11/2026"}
    # Without filters the dates shown are Vietnam days too (24/11 23:30 stays 24/11).
    everything = cli_listed(cli("leads", "list"))
    assert everything[ids["Bình"]] == "24/11/2026" and everything[ids["Cúc"]] == "26/11/2026"


class _ScriptedEngine:
    """Refuses questions about gold prices, answers everything else; records what it got."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def answer(self, question: str, *, previous: str | None = None, **_: Any) -> Any:
        from index.followup import rewrite_followup
        from index.schema import Answer

        # As `Engine.answer`: the adapter passes its context, the engine resolves against it.
        question = rewrite_followup(question, previous)
        self.questions.append(question)
        refused = "vàng" in question
        return Answer(
            question=question,
            text="" if refused else "Tối đa 50% chi phí.",
            confident=not refused,
            reason="no_match" if refused else None,
            outcome="refused" if refused else "answered",
            resolved=question,
        )


TURNS = (
    "Mức hỗ trợ máy móc thiết bị tối đa bao nhiêu?",
    "Giá vàng hôm nay?",
    "còn ở Quảng Nam thì sao?",
)


async def test_a_refused_question_is_no_follow_up_context(app, make_message_update) -> None:
    telegram = _ScriptedEngine()
    app.bot_data.engine = telegram  # type: ignore[assignment]
    for turn in TURNS:
        await app.process_update(make_message_update(turn))

    # The follow-up is resolved against the last question that was answered, not the refusal.
    assert "máy móc" in telegram.questions[-1] and "Quảng Nam" in telegram.questions[-1]


def test_the_console_runs_the_same_handlers(bot_settings) -> None:
    """The console drives the Telegram Application, so it resolves follow-ups the same way."""
    from bot.console import run_console

    console = _ScriptedEngine()
    lines = iter(TURNS)

    def typed(_prompt: str) -> str:
        line = next(lines, None)
        if line is None:
            raise EOFError
        return line

    run_console(
        bot_settings,
        input_fn=typed,
        output=lambda _text: None,
        engine=console,  # type: ignore[arg-type]
    )

    assert len(console.questions) == len(TURNS)
    assert "máy móc" in console.questions[-1] and "Quảng Nam" in console.questions[-1]

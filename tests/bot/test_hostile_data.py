"""Hostile data shown to staff, and forged or garbled buttons: always rendered, never an error."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from bot import texts
from bot.lead_views import MESSAGE_CHARS, announcement, lead_card_text
from index.leads import lead_queries
from index.leads.db import session_scope
from index.leads.models import Lead, LeadEvent, LeadStatus
from tests.bot.conftest import OWNER_ID, STAFF_CHAT_ID, STAFF_ID

#: What Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
TELEGRAM_ENTITIES = {"lt", "gt", "amp", "quot"}
MARKUP = '<b>x</b><script>alert(1)</script>&amp; </i><a href="javascript:1">y</a> &nbsp; <'


class TelegramHtml(HTMLParser):
    """Checks text the way Telegram's HTML parse mode would accept it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in TELEGRAM_ENTITIES:
            self.errors.append(f"entity &{name};")


def assert_renders(text: str) -> None:
    """Only Telegram's tags, balanced, known entities, and short enough for one message."""
    parser = TelegramHtml()
    parser.feed(text)
    parser.close()
    assert parser.errors == [] and parser.stack == [], parser.errors
    visible = html.unescape(re.sub(r"<[^>]+>", "", text))
    assert len(visible) <= MESSAGE_CHARS


@pytest.fixture
def hostile_lead(db_engine: Any) -> int:
    """A lead with markup in every field, longer than the bot would ever store (SQLite keeps it)."""
    long = (MARKUP * 60)[:5000]
    with session_scope(db_engine) as session:
        lead = Lead(
            telegram_user_id=OWNER_ID,
            telegram_username=MARKUP,
            full_name=MARKUP * 5,
            phone="+84912345678<b>",
            establishment_name=long,
            establishment_type=MARKUP,
            sector=MARKUP,
            province=MARKUP,
            district=MARKUP,
            support_items=[MARKUP, long],
            eligibility_answers={"verdict": MARKUP, "reasons": [MARKUP, long]},
            question=long,
            consent_at=datetime(2026, 3, 1, tzinfo=UTC),
            assigned_to=MARKUP,
            need_key="x",
            province_key="x",
        )
        session.add(lead)
        session.commit()
        assert lead.id is not None
        for _ in range(8):
            session.add(
                LeadEvent(lead_id=lead.id, kind="note", note=long, actor=MARKUP * 3)
            )
        session.add(
            LeadEvent(
                lead_id=lead.id,
                kind="status",
                old_status=LeadStatus.new,
                new_status=LeadStatus.contacted,
                actor=MARKUP,
            )
        )
        session.commit()
        return lead.id


def test_card_and_announcement_of_a_hostile_lead_are_valid_telegram_html(
    db_engine, hostile_lead
) -> None:
    with session_scope(db_engine) as session:
        lead = lead_queries.get_lead(session=session, lead_id=hostile_lead)
        assert lead is not None
        card = lead_card_text(lead, lead_queries.list_events(session=session, lead_id=hostile_lead))
        notice = announcement(lead, updated=False).text
    for text in (card, notice):
        assert_renders(text)
        assert "<script>" not in text and "<a href" not in text
    assert "&lt;script&gt;" in card and f"#{hostile_lead}" in card


async def test_staff_opens_a_hostile_lead_from_list_card_and_notes(
    app, sent, hostile_lead, make_command_update, make_callback_update
) -> None:
    await app.process_update(make_command_update("/leads", user_id=STAFF_ID))
    await app.process_update(
        make_callback_update(f"staff:lead:{hostile_lead}", user_id=STAFF_ID)
    )
    await app.process_update(
        make_callback_update(f"staff:st:{hostile_lead}:qualified", user_id=STAFF_ID)
    )
    assert texts.ERROR_REPLY not in sent.text()
    for text in sent.texts():
        assert_renders(text)
    assert any(f"Hồ sơ #{hostile_lead}" in text for text in sent.texts())
    for button_text, _ in sent.buttons():
        assert len(button_text) <= 64


FORGED_STAFF = [
    "staff:lead:" + "9" * 60,
    "staff:lead:0",
    "staff:lead:-1",
    "staff:lead:abc",
    "staff:lead:",
    "staff:lead:١٢",  # Arabic-Indic digits: \\d matches them
    "staff:st:" + "9" * 40 + ":contacted",
    "staff:st:1:bogus",
    "staff:note:" + "9" * 40,
    "staff:page:" + "9" * 40 + ":-:-",
    "staff:xyz",
    "staff:",
]


@pytest.mark.parametrize("data", FORGED_STAFF)
async def test_forged_staff_buttons_say_not_found(
    app, sent, db_engine, make_callback_update, data
) -> None:
    await app.process_update(make_callback_update(data, user_id=STAFF_ID, chat_id=STAFF_CHAT_ID))
    assert texts.ERROR_REPLY not in sent.text()
    assert sent.answered_callbacks() == [texts.STAFF_NOT_FOUND]
    assert "không tìm thấy" in texts.STAFF_NOT_FOUND.lower()


@pytest.mark.parametrize(
    "data",
    ["garbage", "", "x" * 64, "lead:type:" + "9" * 50, "ask:more:" + "9" * 50, "menu:", "🙂"],
)
async def test_garbage_buttons_from_owners_never_error(
    app, sent, make_callback_update, data
) -> None:
    await app.process_update(make_callback_update(data))
    assert texts.ERROR_REPLY not in sent.text()
    assert len(sent.answered_callbacks()) == 1


async def test_owners_pressing_forged_staff_buttons_are_refused(
    app, sent, make_callback_update
) -> None:
    await app.process_update(make_callback_update("staff:lead:" + "9" * 60))
    assert sent.answered_callbacks() == [texts.STAFF_REFUSAL]

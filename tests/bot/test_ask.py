"""Free questions through the real Application and the real engine over knowledge/."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import select

from bot import texts
from bot.answer_views import render_answer
from bot.handlers.ask import ANSWERS_KEY, split_message
from index.leads.db import session_scope
from index.leads.models import Feedback, QuestionLog
from index.leads.writer import writer_for
from index.schema import Answer, Citation, Passage

pytestmark = pytest.mark.real_engine

DECREE_QUESTION = "Văn bản gốc quy định về khuyến công là nghị định nào?"
OFF_TOPIC_QUESTION = "Giá vé máy bay từ Hà Nội đi Paris tháng sau là bao nhiêu?"
NEAR_DOMAIN_QUESTION = "Hộ kinh doanh vay vốn ngân hàng để mua máy thì lãi suất bao nhiêu?"


def _rows(db_engine: Any, model: type) -> list[Any]:
    # Question logs are written in the background, after the reply.
    assert writer_for(db_engine).flush()
    with session_scope(db_engine) as session:
        return list(session.exec(select(model)).all())


def _assert_valid_html(text: str) -> None:
    """Checks the tags Telegram accepts are balanced and no raw '<' or '&' slipped through."""
    tags = re.findall(r"<(/?)(\w+)[^>]*>", text)
    stack: list[str] = []
    for closing, name in tags:
        assert name in {"b", "i", "a", "code", "blockquote"}, name
        if closing:
            assert stack and stack.pop() == name
        else:
            stack.append(name)
    assert not stack
    without_tags = re.sub(r"</?\w+[^>]*>", "", text)
    assert "<" not in without_tags and ">" not in without_tags
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27|#\d+);)", without_tags)


async def test_answer_has_text_sources_and_buttons(
    app, sent, make_message_update, db_engine
) -> None:
    await app.process_update(make_message_update(DECREE_QUESTION))

    assert sent.methods()[0] == "sendChatAction"
    (reply,) = sent.texts()
    assert "45/2012" in reply
    assert "<b>Nguồn:</b>" in reply
    _assert_valid_html(reply)
    assert sent.callback_data() == ["ask:more:0", "ask:fb:up", "ask:fb:down", "lead:start"]
    logged = _rows(db_engine, QuestionLog)
    assert [(row.question, row.confident, row.telegram_user_id) for row in logged] == [
        (DECREE_QUESTION, True, 111)
    ]
    assert logged[0].chunk_ids


def test_source_lines_link_titles_when_urls_are_known() -> None:
    answer = Answer(
        question="q",
        text="Nội dung & <chi tiết>",
        confident=True,
        citations=[
            Citation(
                title="Nghị định <45>",
                number="45/2012/NĐ-CP",
                issued="2012-05-21",
                url="https://example.gov.vn/nd?id=1&x=2",
                doc_type="decree",
                article="Điều 5 khoản 1",
            ),
            Citation(title="Hướng dẫn <chung>", number=None, issued=None, url=None),
        ],
    )
    text = render_answer(answer, as_html=True)

    assert "Nội dung &amp; &lt;chi tiết&gt;" in text
    assert (
        '• <a href="https://example.gov.vn/nd?id=1&amp;x=2">'
        "Điều 5 khoản 1 — Nghị định 45/2012/NĐ-CP (21/05/2012)</a>"
    ) in text
    assert "• Hướng dẫn &lt;chung&gt;" in text
    _assert_valid_html(text)


async def test_html_and_markdown_characters_in_questions_are_safe(
    app, sent, make_message_update
) -> None:
    question = "Còn <b>hộ kinh doanh</b> & *doanh_nghiệp* `[x]` thì sao?"
    await app.process_update(make_message_update("Đối tượng nào được hỗ trợ khuyến công?"))
    sent.clear()

    await app.process_update(make_message_update(question))

    (reply,) = sent.texts()
    _assert_valid_html(reply)
    assert "<b>hộ kinh doanh</b>" not in reply
    assert html.escape("<b>hộ kinh doanh</b>") in reply  # echoed in the follow-up note


async def test_ten_thousand_character_message_is_answered(
    app, sent, make_message_update, bot_settings
) -> None:
    text = (DECREE_QUESTION + " ") * (10_000 // len(DECREE_QUESTION) + 1)
    assert len(text) >= 10_000

    await app.process_update(make_message_update(text))

    replies = sent.texts()
    assert replies, "the bot must answer"
    assert all(len(part) <= 4096 for part in replies)
    assert f"{bot_settings.max_question_chars} ký tự đầu" in replies[0]
    assert "45/2012" in "\n".join(replies)


@pytest.mark.parametrize("question", [OFF_TOPIC_QUESTION, NEAR_DOMAIN_QUESTION])
async def test_refusal_names_what_is_covered_and_offers_registration(
    app, sent, make_message_update, db_engine, question
) -> None:
    await app.process_update(make_message_update(question))

    (reply,) = sent.texts()
    assert reply == texts.REFUSED_OUT_OF_SCOPE
    assert "Tôi có thể giúp bạn về" in reply and "/dangky" in reply
    assert "Nguồn:" not in reply
    assert sent.callback_data() == ["lead:start"]
    assert [row.confident for row in _rows(db_engine, QuestionLog)] == [False]


async def test_more_sources_pages_through_stored_passages(
    app, sent, make_message_update, make_callback_update
) -> None:
    await app.process_update(make_message_update(DECREE_QUESTION))
    answer_id = sent.message_ids()[-1]
    passages = app.user_data[111][ANSWERS_KEY][answer_id]["passages"]
    assert len(passages) > 3
    sent.clear()

    app.bot_data.engine = _NoSearch()  # type: ignore[assignment]
    await app.process_update(make_callback_update("ask:more:0", message_id=answer_id))

    assert sent.methods() == ["answerCallbackQuery", "sendMessage"]
    page = sent.texts()[0]
    _assert_valid_html(page)
    assert f"(1–3/{len(passages)})" in page
    assert page.count("<blockquote>") == 3
    assert sent.callback_data() == ["ask:more:3"]

    next_page_id = sent.message_ids()[-1]
    sent.clear()
    await app.process_update(make_callback_update("ask:more:3", message_id=next_page_id))
    page = sent.texts()[0]
    assert f"(4–{min(6, len(passages))}/{len(passages)})" in page


async def test_more_sources_on_an_unknown_message_says_expired(
    app, sent, make_callback_update
) -> None:
    await app.process_update(make_callback_update("ask:more:0", message_id=999_999))

    assert sent.methods() == ["answerCallbackQuery"]
    assert sent.answered_callbacks() == [texts.MORE_SOURCES_EXPIRED]


async def test_feedback_is_stored_once(
    app, sent, make_message_update, make_callback_update, db_engine
) -> None:
    await app.process_update(make_message_update(DECREE_QUESTION))
    answer_id = sent.message_ids()[-1]
    sent.clear()

    await app.process_update(make_callback_update("ask:fb:up", message_id=answer_id))
    await app.process_update(make_callback_update("ask:fb:up", message_id=answer_id))
    await app.process_update(make_callback_update("ask:fb:down", message_id=answer_id))

    assert sent.answered_callbacks() == [
        texts.FEEDBACK_THANKS,
        texts.FEEDBACK_ALREADY,
        texts.FEEDBACK_ALREADY,
    ]
    rows = _rows(db_engine, Feedback)
    assert [(row.rating, row.question, row.telegram_user_id) for row in rows] == [
        (1, DECREE_QUESTION, 111)
    ]
    assert rows[0].chunk_ids


async def test_follow_up_is_rewritten_with_the_previous_question(
    app, sent, make_message_update, db_engine
) -> None:
    await app.process_update(make_message_update("Mức hỗ trợ khuyến công ở Đà Nẵng là bao nhiêu?"))
    sent.clear()

    await app.process_update(make_message_update("còn ở Quảng Nam thì sao?"))

    reply = sent.texts()[0]
    rewritten = "Mức hỗ trợ khuyến công ở Quảng Nam là bao nhiêu?"
    assert texts.FOLLOWUP_UNDERSTOOD.format(question=rewritten) in reply
    assert app.user_data[111]["last_question"] == rewritten
    assert [row.question for row in _rows(db_engine, QuestionLog)][-1] == rewritten


async def test_long_reply_is_split_at_paragraphs(app, sent, make_message_update) -> None:
    paragraph = "Đoạn văn & nội dung <dài>. " * 40
    answer = Answer(
        question="q",
        text="\n\n".join(f"{i}. {paragraph}" for i in range(12)),
        confident=True,
        citations=[
            Citation(title="Nghị định về khuyến công", number="45/2012/NĐ-CP", doc_type="decree")
        ],
    )
    app.bot_data.engine = _FixedEngine(answer)  # type: ignore[assignment]

    await app.process_update(make_message_update("Câu hỏi bất kỳ về khuyến công"))

    parts = sent.texts()
    assert len(parts) >= 3
    for part in parts:
        assert len(part) <= 4096
        _assert_valid_html(part)
    assert parts[-1].rstrip().endswith("• Nghị định 45/2012/NĐ-CP")
    # Only the last part carries the buttons.
    markups = [call.params.get("reply_markup") for call in sent.of("sendMessage")]
    assert all(markup is None for markup in markups[:-1]) and markups[-1] is not None


async def test_log_failure_does_not_block_the_reply(
    app, sent, make_message_update, db_engine, caplog
) -> None:
    db_engine.dispose()
    with db_engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE question_logs")

    await app.process_update(make_message_update(DECREE_QUESTION))

    assert "45/2012" in sent.texts()[0]
    writer_for(db_engine).flush()
    assert "Could not store a question" in caplog.text


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (50, "a" * 120),
        (40, "xin chào " * 30),
        (30, "&amp;" * 20),
        (25, ("<b>đậm</b> thường\n\n" * 10)),
    ],
)
def test_split_message_never_cuts_tags_or_entities(limit: int, text: str) -> None:
    parts = split_message(text, limit=limit)

    assert all(0 < len(part) <= limit for part in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    for part in parts:
        assert not re.search(r"&[#\w]*$", part)
        assert part.count("<b>") == part.count("</b>")


def test_split_message_keeps_short_text_whole() -> None:
    assert split_message("ngắn\n\ngọn") == ["ngắn\n\ngọn"]


class _FixedEngine:
    """An engine stand-in that returns one prepared answer (for formatting-only tests)."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer

    def answer(self, question: str, **kwargs: Any) -> Answer:
        return self._answer


class _NoSearch:
    """An engine stand-in that fails if called: paging must use the stored passages."""

    def answer(self, question: str, **kwargs: Any) -> Answer:
        raise AssertionError("paging must not search again")

    def search(self, query: str, **kwargs: Any) -> list[Passage]:
        raise AssertionError("paging must not search again")

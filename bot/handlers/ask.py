"""Free questions: answer from the knowledge base with sources, paging, feedback, follow-ups."""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, MessageLimit
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import texts
from bot.answer_views import passage_record, render_answer, render_passage_record
from bot.context import (
    BotApplication,
    BotContext,
    app_settings,
    get_db,
    get_engine,
    get_settings,
)
from bot.routing import start_flow
from bot.update_processor import run_cpu_bound
from index.followup import next_context
from index.leads.writer import writer_for
from index.schema import Answer

logger = logging.getLogger(__name__)

#: user_data key holding recent answers by the message id that carries their buttons.
ANSWERS_KEY = "answers"
#: user_data key of the conversation context (`index.followup.next_context`); the
#: registration flow reads it to attach the last question to a lead.
CONTEXT_KEY = "last_question"
#: How many recent answers keep working buttons (older ones say "expired").
MAX_REMEMBERED_ANSWERS = 10
#: Passages shown per "Xem thêm nguồn" page.
PAGE_SIZE = 3

_ENTITY_OR_TAG_RE = re.compile(r"&[#\w]*$|<[^>]*$")


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Splits formatted text into messages of at most `limit` characters.

    Cuts at paragraph breaks first, then line breaks, then spaces, and never inside an HTML
    tag or entity. Tags must not span paragraphs (the formatter below guarantees that), so
    every part stays valid HTML on its own.
    """
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
            # A hard cut must not land inside "&amp;" or "<a href=...>".
            dangling = _ENTITY_OR_TAG_RE.search(window)
            if dangling is not None and dangling.start() > 0:
                cut = dangling.start()
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


@functools.cache
def answer_keyboard(*, confident: bool, has_more: bool) -> InlineKeyboardMarkup:
    """Returns the buttons under an answer: more sources, feedback, registration.

    Built once per variant (PTB's objects are immutable): building took 58 µs an answer.
    """
    rows: list[list[InlineKeyboardButton]] = []
    if confident:
        if has_more:
            rows.append(
                [InlineKeyboardButton(texts.BUTTON_MORE_SOURCES, callback_data="ask:more:0")]
            )
        rows.append(
            [
                InlineKeyboardButton(texts.BUTTON_FEEDBACK_UP, callback_data="ask:fb:up"),
                InlineKeyboardButton(texts.BUTTON_FEEDBACK_DOWN, callback_data="ask:fb:down"),
            ]
        )
    rows.append([InlineKeyboardButton(texts.BUTTON_REGISTER, callback_data="lead:start")])
    return InlineKeyboardMarkup(rows)


def _passage_records(answer: Answer) -> list[dict[str, Any]]:
    # Plain dicts so user_data stays picklable and small across restarts.
    return [passage_record(passage) for passage in answer.passages]


def _remember(user_data: dict[str, Any], message_id: int, record: dict[str, Any]) -> None:
    answers: dict[int, dict[str, Any]] = user_data.setdefault(ANSWERS_KEY, {})
    answers[message_id] = record
    for old_id in sorted(answers)[:-MAX_REMEMBERED_ANSWERS]:
        del answers[old_id]


def _recall(user_data: dict[str, Any] | None, message: object) -> dict[str, Any] | None:
    if user_data is None or not isinstance(message, Message):
        return None
    answers: dict[int, dict[str, Any]] = user_data.get(ANSWERS_KEY, {})
    return answers.get(message.message_id)


async def answer_question(update: Update, context: BotContext) -> None:
    """Answers a question typed, or written as the caption of a photo or document."""
    message = update.message
    asked = (message.text or message.caption) if message is not None else None
    if message is None or asked is None:
        return
    if context.bot_data.engine is None:
        await message.reply_text(texts.ENGINE_UNAVAILABLE)
        return
    settings = get_settings(context)
    user_data = context.user_data if context.user_data is not None else {}
    notes: list[str] = []
    text = asked.strip()
    if not text:
        await message.reply_text(texts.EMPTY_QUESTION)
        return
    if len(text) > settings.max_question_chars:
        # A pasted document still gets an answer from its beginning instead of a refusal.
        notes.append(
            texts.QUESTION_TOO_LONG.format(length=len(text), limit=settings.max_question_chars)
        )
        text = text[: settings.max_question_chars]
    previous = user_data.get(CONTEXT_KEY)
    engine = get_engine(context)
    ready = asyncio.Event()
    typing = asyncio.create_task(
        _typing_unless_ready(message, ready, settings.typing_indicator_delay_seconds)
    )
    try:
        answer = await run_cpu_bound(
            context.application, lambda: engine.answer(text, previous=previous)
        )
    finally:
        ready.set()
    if settings.typing_indicator_delay_seconds <= 0:
        await typing
    if answer.reason == "empty":
        await message.reply_text(texts.EMPTY_QUESTION)
        return
    question = answer.resolved or text
    if answer.resolved and answer.resolved != " ".join(text.split()):
        notes.append(texts.FOLLOWUP_UNDERSTOOD.format(question=html.escape(question)))
    # The one rule for what the next follow-up is resolved against (console alike).
    user_data[CONTEXT_KEY] = next_context(previous, answer)

    if answer.outcome == "routed":
        _log(context, update, answer, question)
        await _route(update, context, answer, notes)
        return
    body = render_answer(answer, as_html=True, notes=notes)
    shown = answer.outcome in ("answered", "unknown")
    keyboard = answer_keyboard(confident=shown, has_more=shown and bool(answer.passages))
    parts = split_message(body)
    sent: Message | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await message.reply_text(part, reply_markup=keyboard if last else None)
    # After the reply and off the hot path: a slow or locked database never delays it.
    _log(context, update, answer, question)
    if sent is not None:
        _remember(
            user_data,
            sent.message_id,
            {
                "question": question,
                "chunk_ids": answer.chunk_ids,
                "passages": _passage_records(answer),
                "rated": False,
            },
        )


async def _typing_unless_ready(message: Message, ready: asyncio.Event, delay: float) -> None:
    """Shows "typing…" if the answer is not ready within `delay` seconds (0: at once).

    Cosmetic: a refused indicator (429, timeout) is logged and ignored by
    bot.rate_limit.MessageRateLimiter, so it never costs the answer.
    """
    if delay > 0:
        try:
            await asyncio.wait_for(ready.wait(), delay)
            return
        except TimeoutError:
            pass
    await message.reply_chat_action(ChatAction.TYPING)


async def _route(
    update: Update, context: BotContext, answer: Answer, notes: list[str]
) -> None:
    """Starts the flow a message asked for: registration, eligibility check, deletion, help."""
    from bot.handlers.privacy import ask_delete
    from bot.handlers.start import main_menu

    message = update.effective_message
    assert message is not None
    intent = answer.intent or "help"
    if intent in ("register", "talk_to_staff", "check_eligibility"):
        await message.reply_text(render_answer(answer, as_html=True, notes=notes))
        if await start_flow(update, context, intent):
            return
    elif intent == "delete_data":
        await ask_delete(update, context)
        return
    # Help, a greeting, or a flow that could not start: the text and the main menu.
    await message.reply_text(
        render_answer(answer, as_html=True, notes=notes), reply_markup=main_menu()
    )


def _log(
    context: BotContext, update: Update, answer: Answer, question: str
) -> None:
    """Queues the question for the statistics; never waits for, nor fails on, the database."""
    if context.bot_data.db is None:
        return
    user = update.effective_user
    writer_for(get_db(context)).log_question(
        telegram_user_id=user.id if user else None,
        question=question,
        confident=answer.confident,
        chunk_ids=answer.chunk_ids,
        latency_ms=answer.latency_ms,
    )


async def more_sources(update: Update, context: BotContext) -> None:
    """Shows the next page of retrieved passages of the answer whose button was pressed."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    record = _recall(context.user_data, query.message)
    if record is None:
        await query.answer(texts.MORE_SOURCES_EXPIRED, show_alert=True)
        return
    try:
        offset = max(0, int(query.data.rsplit(":", 1)[-1]))
    except ValueError:
        offset = 0
    passages: list[dict[str, Any]] = record["passages"]
    page = passages[offset : offset + PAGE_SIZE]
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not page:
        await query.message.reply_text(texts.NO_MORE_SOURCES)
        return
    end = offset + len(page)
    blocks = [texts.MORE_SOURCES_HEADER.format(start=offset + 1, end=end, total=len(passages))]
    for number, passage in enumerate(page, start=offset + 1):
        blocks.append(render_passage_record(passage, number))
    markup = None
    if end < len(passages):
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(texts.BUTTON_MORE_SOURCES, callback_data=f"ask:more:{end}")]]
        )
    parts = split_message("\n\n".join(blocks))
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await query.message.reply_text(part, reply_markup=markup if last else None)
        if last and markup is not None and context.user_data is not None:
            # The follow-up page button lives on the new message; point it at the same answer.
            _remember(context.user_data, sent.message_id, record)


async def feedback(update: Update, context: BotContext) -> None:
    """Stores a 👍/👎 once per answer and thanks the user."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    record = _recall(context.user_data, query.message)
    if record is None:
        await query.answer(texts.MORE_SOURCES_EXPIRED)
        return
    if record.get("rated"):
        await query.answer(texts.FEEDBACK_ALREADY)
        return
    # Mark first: a quick double tap must not store two ratings.
    record["rated"] = True
    rating = 1 if query.data.endswith(":up") else -1
    db = context.bot_data.db
    # Queued for the background writer (short bounded retry there): a slow, locked or
    # vanished database never delays this acknowledgement nor turns it into an apology.
    queued = db is not None and writer_for(db).record_feedback(
        telegram_user_id=query.from_user.id,
        question=record["question"],
        chunk_ids=record["chunk_ids"],
        rating=rating,
    )
    if not queued:
        record["rated"] = False
    await query.answer(texts.FEEDBACK_THANKS if queued else texts.FEEDBACK_NOT_SAVED)


def register(app: BotApplication) -> None:
    """Registers the free-text catch-all (captions too) and the ask:* buttons."""
    settings = app_settings(app)
    # A question may come as a photo's caption, or a document's from anyone but an admin
    # (an admin's document is an upload: bot/handlers/uploads.py).
    not_admin = ~filters.User(user_id=list(settings.admin_user_ids))
    captioned = filters.CAPTION & (filters.PHOTO | (filters.Document.ALL & not_admin))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & ((filters.TEXT & ~filters.COMMAND) | captioned),
            answer_question,
        )
    )
    app.add_handler(CallbackQueryHandler(more_sources, pattern=r"^ask:more:\d+$"))
    app.add_handler(CallbackQueryHandler(feedback, pattern=r"^ask:fb:(up|down)$"))

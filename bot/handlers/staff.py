"""Staff tools in Telegram: lead lists and cards, status changes, notes, exports, statistics.

Parsing (statuses, provinces, dates) is the leads store's, so `python -m scripts leads …`
reads the same words the same way; rendering is `bot.lead_views`, the database work
`bot.staff_store`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import date

from telegram import InputFile, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters
from telegram.ext import MessageHandler as Msg

from bot import texts
from bot.access import restricted
from bot.context import BotApplication, BotContext, app_settings, get_db
from bot.conversations import (
    CONVERSATION_GROUP,
    build_conversation,
    conversation_step,
    forget_on_timeout,
)
from bot.lead_views import DEFAULT_PAGE, Rendered, page_callback
from bot.staff_store import (
    ExportQuery,
    add_lead_note,
    change_lead_status,
    export_leads,
    render_lead_card,
    render_lead_page,
    render_stats,
)
from index.dates import parse_vn_date
from index.leads import lead_queries
from index.leads.models import NOTE_MAX
from index.leads.status import parse_status, split_status_prefix, status_label
from index.textnorm import fold_words

logger = logging.getLogger(__name__)

# Conversation state of "add a note".
NOTE_TEXT = 0
NOTE_LEAD_KEY = "staff_note_lead_id"
#: user_data key with the callback data of the last list page, for the card's back button.
LAST_PAGE_KEY = "staff_last_page"

#: Shown in the command menu of staff chats (bot/app.py publishes them).
COMMANDS = [
    ("leads", texts.STAFF_COMMAND_LEADS),
    ("export", texts.STAFF_COMMAND_EXPORT),
    ("thongke", texts.STAFF_COMMAND_STATS),
]

_UNTIL_WORDS = {"to", "den", "toi", "until"}
_SINCE_WORDS = {"from", "tu", "since"}


def parse_export_args(args: Sequence[str]) -> ExportQuery:
    """Parses `/export [status] [từ 25/11/2026] [đến 2026-12-31]` loosely.

    Raises ValueError on a word that is neither a status, a date nor a filler word.
    """
    since: date | None = None
    until: date | None = None
    words: list[str] = []
    pending: str | None = None  # "from"/"to" keyword waiting for its date
    for token in args:
        folded = fold_words(token)
        if folded in _UNTIL_WORDS or folded in _SINCE_WORDS:
            pending = "until" if folded in _UNTIL_WORDS else "since"
            continue
        day = parse_vn_date(token)
        if day is None:
            words.append(token)
            continue
        if pending == "until" or (pending is None and since is not None):
            until = day
        else:
            since = day
        pending = None
    status = None
    if words:
        status = parse_status(" ".join(words))
        if status is None:
            raise ValueError(" ".join(words))
    if since is not None and until is not None and until < since:
        since, until = until, since
    return ExportQuery(status=status, since=since, until=until)


def _actor(update: Update) -> str:
    """The audit name of the staff member: Telegram id plus @username when there is one."""
    user = update.effective_user
    if user is None:
        return "tg:unknown"
    return f"tg:{user.id} @{user.username}" if user.username else f"tg:{user.id}"


# --- sending helpers ------------------------------------------------------------------------


async def _show(update: Update, rendered: Rendered) -> None:
    """Edits the message behind a button, or replies to a command."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        try:
            await query.edit_message_text(rendered.text, reply_markup=rendered.markup)
        except BadRequest as exc:
            # Pressing the same button twice leaves the text unchanged; Telegram says so.
            if "not modified" not in str(exc).lower():
                raise
        return
    message = update.effective_message
    if message is not None:
        await message.reply_text(rendered.text, reply_markup=rendered.markup)


def _back_target(context: BotContext) -> str:
    if context.user_data is not None:
        return str(context.user_data.get(LAST_PAGE_KEY, DEFAULT_PAGE))
    return DEFAULT_PAGE


def _remember_page(context: BotContext, data: str) -> None:
    if context.user_data is not None:
        context.user_data[LAST_PAGE_KEY] = data


_LEAD_ID_RE = re.compile(r"[0-9]{1,10}")


def _lead_id(text: str | None) -> int | None:
    """The lead id at the end of callback data; None for one no lead can have (forged)."""
    tail = (text or "").rsplit(":", 1)[-1]
    if not _LEAD_ID_RE.fullmatch(tail):
        return None
    value = int(tail)
    return value if 0 < value <= lead_queries.LEAD_ID_MAX else None


async def _not_found(update: Update) -> None:
    """Answers a press whose lead or target cannot exist: forged, garbled or too old."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.STAFF_NOT_FOUND, show_alert=True)


# --- handlers -------------------------------------------------------------------------------


@restricted("staff")
async def leads_command(update: Update, context: BotContext) -> None:
    """Lists leads, optionally filtered by status and province, one button per lead."""
    status, rest = split_status_prefix(context.args or [])
    province_query = " ".join(rest) or None
    rendered = await asyncio.to_thread(
        render_lead_page, get_db(context), offset=0, status=status, province_query=province_query
    )
    _remember_page(context, page_callback(0, status, province_query))
    await _show(update, rendered)


@restricted("staff")
async def page_callback_handler(update: Update, context: BotContext) -> None:
    """Shows another page of the lead list."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, _, offset_text, status_text, province_text = query.data.split(":", 4)
    if len(offset_text) > 9:  # no list is that long: a forged button
        await _not_found(update)
        return
    await query.answer()
    status = parse_status(status_text) if status_text != "-" else None
    province_query = province_text if province_text != "-" else None
    _remember_page(context, query.data)
    rendered = await asyncio.to_thread(
        render_lead_page,
        get_db(context),
        offset=int(offset_text),
        status=status,
        province_query=province_query,
    )
    await _show(update, rendered)


@restricted("staff")
async def lead_callback(update: Update, context: BotContext) -> None:
    """Shows the card of one lead."""
    query = update.callback_query
    assert query is not None
    lead_id = _lead_id(query.data)
    if lead_id is None:
        await _not_found(update)
        return
    await query.answer()
    rendered = await asyncio.to_thread(
        render_lead_card, get_db(context), lead_id, back=_back_target(context)
    )
    await _show(update, rendered)


@restricted("staff")
async def status_callback(update: Update, context: BotContext) -> None:
    """Changes a lead's status, records who did it, and refreshes the card."""
    query = update.callback_query
    assert query is not None and query.data is not None
    head, _, status_text = query.data.rpartition(":")
    lead_id = _lead_id(head)
    status = parse_status(status_text)
    if lead_id is None or status is None:
        await _not_found(update)
        return
    db = get_db(context)
    changed = await asyncio.to_thread(change_lead_status, db, lead_id, status, _actor(update))
    await query.answer(
        texts.STAFF_STATUS_CHANGED.format(status=status_label(status))
        if changed
        else texts.STAFF_STATUS_UNCHANGED
    )
    if changed:
        rendered = await asyncio.to_thread(
            render_lead_card, db, lead_id, back=_back_target(context)
        )
        await _show(update, rendered)


@restricted("staff")
async def note_start(update: Update, context: BotContext) -> int:
    """Asks for the text of a note on a lead."""
    query = update.callback_query
    assert query is not None
    lead_id = _lead_id(query.data)
    if lead_id is None:
        await _not_found(update)
        return ConversationHandler.END
    await query.answer()
    if context.user_data is not None:
        context.user_data[NOTE_LEAD_KEY] = lead_id
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, texts.STAFF_NOTE_ASK.format(lead_id=lead_id))
    return NOTE_TEXT


@restricted("staff")
async def note_text(update: Update, context: BotContext) -> int:
    """Stores the note and shows the card again."""
    message = update.effective_message
    assert message is not None
    note = (message.text or "").strip()
    if not note:
        await message.reply_text(texts.STAFF_NOTE_EMPTY)
        return NOTE_TEXT
    if len(note) > NOTE_MAX:
        await message.reply_text(texts.STAFF_NOTE_TOO_LONG.format(limit=NOTE_MAX))
        return NOTE_TEXT
    lead_id = context.user_data.pop(NOTE_LEAD_KEY, None) if context.user_data is not None else None
    if lead_id is None:
        return ConversationHandler.END
    db = get_db(context)
    saved = await asyncio.to_thread(add_lead_note, db, int(lead_id), note, _actor(update))
    if not saved:
        await message.reply_text(texts.STAFF_LEAD_NOT_FOUND.format(lead_id=lead_id))
        return ConversationHandler.END
    await message.reply_text(texts.STAFF_NOTE_SAVED.format(lead_id=lead_id))
    rendered = await asyncio.to_thread(
        render_lead_card, db, int(lead_id), back=_back_target(context)
    )
    await message.reply_text(rendered.text, reply_markup=rendered.markup)
    return ConversationHandler.END


async def note_cancel(update: Update, context: BotContext) -> int:
    """Leaves the note conversation without saving."""
    if context.user_data is not None:
        context.user_data.pop(NOTE_LEAD_KEY, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.STAFF_NOTE_CANCELLED)
    return ConversationHandler.END


async def note_abandon(update: Update, context: BotContext) -> int:  # noqa: ARG001
    """Leaves the note conversation when another command comes in; that command still runs."""
    if context.user_data is not None:
        context.user_data.pop(NOTE_LEAD_KEY, None)
    return ConversationHandler.END


async def note_timed_out(update: Update, context: BotContext) -> None:
    """Ends a note nobody finished writing."""
    await forget_on_timeout(update, context, keys=(NOTE_LEAD_KEY,), text=texts.STAFF_NOTE_TIMED_OUT)


@restricted("staff")
async def export_command(update: Update, context: BotContext) -> None:
    """Sends the filtered leads as leads.csv and leads.xlsx."""
    message = update.effective_message
    assert message is not None
    try:
        query = parse_export_args(context.args or [])
    except ValueError:
        await message.reply_text(texts.STAFF_EXPORT_BAD_ARGS)
        return
    count, csv_bytes, xlsx_bytes = await asyncio.to_thread(export_leads, get_db(context), query)
    if count == 0:
        await message.reply_text(texts.STAFF_EXPORT_EMPTY)
        return
    await message.reply_document(
        InputFile(csv_bytes, filename="leads.csv"),
        caption=texts.STAFF_EXPORT_CAPTION.format(count=count, fmt="CSV"),
    )
    await message.reply_document(
        InputFile(xlsx_bytes, filename="leads.xlsx"),
        caption=texts.STAFF_EXPORT_CAPTION.format(count=count, fmt="Excel"),
    )


@restricted("staff")
async def stats_command(update: Update, context: BotContext) -> None:
    """Shows lead and question statistics."""
    message = update.effective_message
    assert message is not None
    text = await asyncio.to_thread(render_stats, get_db(context))
    await message.reply_text(text)


@restricted("staff")
async def unknown_button(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Answers a staff button no handler recognises, without an error."""
    await _not_found(update)


def register(app: BotApplication) -> None:
    """Adds the note conversation (in the conversation group), then the staff commands."""
    step = conversation_step
    note_conversation = build_conversation(
        name="staff_note",
        entry_points=[CallbackQueryHandler(step(note_start), pattern=r"^staff:note:\d+$")],
        states={NOTE_TEXT: [Msg(filters.TEXT & ~filters.COMMAND, step(note_text))]},
        fallbacks=[
            CommandHandler("huy", step(note_cancel)),
            # Any other command ends the note without claiming the update (no stop).
            Msg(filters.COMMAND, note_abandon),
        ],
        persistent=app.persistence is not None,
        timeout_minutes=app_settings(app).conversation_timeout_minutes,
        on_timeout=note_timed_out,
    )
    app.add_handler(note_conversation, group=CONVERSATION_GROUP)
    app.add_handler(CommandHandler("leads", leads_command))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CommandHandler("thongke", stats_command))
    app.add_handler(
        CallbackQueryHandler(page_callback_handler, pattern=r"^staff:page:\d+:[^:]+:[^:]+$")
    )
    app.add_handler(CallbackQueryHandler(lead_callback, pattern=r"^staff:lead:\d+$"))
    app.add_handler(CallbackQueryHandler(status_callback, pattern=r"^staff:st:\d+:[a-z_]+$"))
    # Any other staff button (garbled, forged, from an older version): "not found".
    app.add_handler(CallbackQueryHandler(unknown_button, pattern=r"^staff:"))


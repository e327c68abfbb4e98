"""Staff tools in Telegram: lead lists and cards, status changes, notes, exports, statistics."""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
import warnings
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

from sqlmodel import Session, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.context import get_db, get_settings
from index.leads import crud
from index.leads.db import session_scope
from index.leads.export import VN_TZ, leads_to_csv, leads_to_xlsx
from index.leads.models import NOTE_MAX, STATUS_LABELS, EventKind, Lead, LeadEvent, LeadStatus
from index.leads.models import fold_text as fold_folded
from index.leads.stats import compute_stats

if TYPE_CHECKING:
    import sqlalchemy

logger = logging.getLogger(__name__)

PAGE_SIZE = 8
#: Telegram refuses callback data longer than 64 bytes; province keys are cut to fit.
MAX_CALLBACK_BYTES = 64
PROVINCE_KEY_CHARS = 24
MAX_NOTE_CHARS = NOTE_MAX
EVENTS_ON_CARD = 5
STATS_DAYS = 14

# Conversation state of "add a note".
NOTE_TEXT = 0
NOTE_LEAD_KEY = "staff_note_lead_id"
#: user_data key with the callback data of the last list page, for the card's back button.
LAST_PAGE_KEY = "staff_last_page"
DEFAULT_PAGE = "staff:page:0:-:-"

#: Shown in the command menu of staff chats (bot/app.py publishes them).
COMMANDS = [
    ("leads", texts.STAFF_COMMAND_LEADS),
    ("export", texts.STAFF_COMMAND_EXPORT),
    ("thongke", texts.STAFF_COMMAND_STATS),
]

#: Group of the staff/admin conversations. It runs before group 0, where an idle /huy
#: answer and the catch-all question handler would otherwise take the note text or /huy.
CONVERSATION_GROUP = -1

R = TypeVar("R")
HandlerCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, R]]


# --- permission guard -----------------------------------------------------------------------


def _attempted_command(update: Update) -> str:
    """Names what the user tried, for the refusal log line."""
    if update.callback_query is not None:
        return f"callback {update.callback_query.data}"
    message = update.effective_message
    if message is not None:
        if message.document is not None:
            return f"document {message.document.file_name}"
        if message.text:
            return message.text.split(maxsplit=1)[0]
    return "unknown update"


def restricted(
    kind: Literal["staff", "admin"] = "staff",
) -> Callable[[HandlerCallback[R]], HandlerCallback[R | None]]:
    """Lets only staff (or admins) through; everyone else gets a polite refusal, logged."""

    def decorator(func: HandlerCallback[R]) -> HandlerCallback[R | None]:
        @functools.wraps(func)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> R | None:
            settings = get_settings(context)
            user = update.effective_user
            user_id = user.id if user is not None else None
            allowed = settings.is_admin(user_id) if kind == "admin" else settings.is_staff(user_id)
            if allowed:
                return await func(update, context)
            logger.warning(
                "Refused %s command from user %s: %s", kind, user_id, _attempted_command(update)
            )
            refusal = texts.ADMIN_REFUSAL if kind == "admin" else texts.STAFF_REFUSAL
            if update.callback_query is not None:
                await update.callback_query.answer(refusal, show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(refusal)
            # None keeps a conversation where it was (or never starts it).
            return None

        return wrapper

    return decorator


def conversation_step(func: HandlerCallback[R]) -> HandlerCallback[NoReturn]:
    """Wraps a conversation callback so later handler groups never see its update.

    The returned state travels in ApplicationHandlerStop, which ConversationHandler
    unwraps; without it the question handler in group 0 would also answer a note.
    """

    @functools.wraps(func)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
        raise ApplicationHandlerStop(await func(update, context))

    return wrapper


# --- parsing --------------------------------------------------------------------------------


def fold_text(text: str) -> str:
    """Lower-cases and strips Vietnamese diacritics, so "Đã liên hệ" matches "da lien he"."""
    return fold_folded(text.replace("_", " ").replace("-", " "))


def province_key(province: str) -> str:
    """A short accent-free key of a province name, small enough for callback data."""
    return fold_text(province).replace(":", " ")[:PROVINCE_KEY_CHARS].strip()


def status_label(status: LeadStatus | str) -> str:
    """The Vietnamese label of a lead status."""
    try:
        return STATUS_LABELS[LeadStatus(status)]
    except (KeyError, ValueError):
        return str(status)


def parse_status(text: str) -> LeadStatus | None:
    """Reads a status from its English value or Vietnamese label, accent-insensitively."""
    wanted = fold_text(text)
    if not wanted:
        return None
    for status in LeadStatus:
        if wanted in (fold_text(status.value), fold_text(STATUS_LABELS[status])):
            return status
    return None


def split_status_prefix(args: Sequence[str]) -> tuple[LeadStatus | None, list[str]]:
    """Takes the longest leading words that name a status; the rest stays (a province)."""
    for size in range(len(args), 0, -1):
        status = parse_status(" ".join(args[:size]))
        if status is not None:
            return status, list(args[size:])
    return None, list(args)


_DATE_PATTERNS = (
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%d/%m/%Y"),
)
_EXPORT_FILLERS = {"from", "to", "tu", "den", "toi", "since", "until"}


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """Filters of an /export request."""

    status: LeadStatus | None = None
    since: date | None = None
    until: date | None = None


def _parse_date(token: str) -> date | None:
    for pattern, fmt in _DATE_PATTERNS:
        if pattern.match(token):
            try:
                return datetime.strptime(token, fmt).date()
            except ValueError:
                return None
    return None


def parse_export_args(args: Sequence[str]) -> ExportQuery:
    """Parses `/export [status] [from YYYY-MM-DD] [to YYYY-MM-DD]` loosely.

    Raises ValueError on a word that is neither a status, a date nor a filler word.
    """
    since: date | None = None
    until: date | None = None
    words: list[str] = []
    pending: str | None = None  # "from"/"to" keyword waiting for its date
    for token in args:
        folded = fold_text(token)
        if folded in _EXPORT_FILLERS:
            pending = "until" if folded in {"to", "den", "toi", "until"} else "since"
            continue
        day = _parse_date(token)
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


def _fmt_dt(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def _esc(value: object) -> str:
    return html.escape(str(value)) if value not in (None, "") else "—"


# --- database work (runs in a thread; returns rendered data, never live ORM objects) ---------


def _resolve_province(session: Session, wanted: str) -> str | None:
    """Finds the stored province a typed name or a (possibly cut) callback key refers to."""
    key = fold_text(wanted)
    if not key:
        return None
    statement = select(Lead.province, Lead.province_key).distinct()
    # Re-fold the stored key so "Bà Rịa - Vũng Tàu" and "ba ria vung tau" agree.
    provinces = {
        fold_text(folded): name for name, folded in session.exec(statement).all() if folded
    }
    if key in provinces:
        return provinces[key]
    # Callback keys may be cut to fit 64 bytes; a typed name may be part of the full one.
    partial = [name for folded, name in provinces.items() if folded.startswith(key)]
    partial = partial or [name for folded, name in provinces.items() if key in folded]
    return partial[0] if len(set(partial)) == 1 else None


@dataclass(frozen=True, slots=True)
class _Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _page_callback(offset: int, status: LeadStatus | None, province: str | None) -> str:
    data = f"staff:page:{offset}:{status.value if status else '-'}:"
    data += province_key(province) if province else "-"
    return data.encode()[:MAX_CALLBACK_BYTES].decode(errors="ignore")


def _lead_button_text(lead: Lead) -> str:
    parts = [f"#{lead.id} {lead.full_name}"]
    if lead.province:
        parts.append(lead.province)
    parts.append(status_label(lead.status))
    return " · ".join(parts)[:60]


def render_lead_page(
    db: sqlalchemy.Engine,
    *,
    offset: int,
    status: LeadStatus | None,
    province_query: str | None,
) -> _Rendered:
    """Renders one page of the lead list with a button per lead and pagination."""

    with session_scope(db) as session:
        province: str | None = None
        if province_query:
            province = _resolve_province(session, province_query)
            if province is None:
                return _Rendered(texts.STAFF_UNKNOWN_PROVINCE.format(province=_esc(province_query)))
        total = crud.count_leads(session=session, status=status, province=province)
        if total == 0:
            return _Rendered(texts.STAFF_NO_LEADS)
        offset = max(0, min(offset, (total - 1) // PAGE_SIZE * PAGE_SIZE))
        leads = crud.list_leads(
            session=session, status=status, province=province, offset=offset, limit=PAGE_SIZE
        )
        rows = [
            [InlineKeyboardButton(_lead_button_text(lead), callback_data=f"staff:lead:{lead.id}")]
            for lead in leads
        ]
    nav: list[InlineKeyboardButton] = []
    if offset > 0:
        nav.append(
            InlineKeyboardButton(
                texts.STAFF_BUTTON_PREV,
                callback_data=_page_callback(max(0, offset - PAGE_SIZE), status, province),
            )
        )
    if offset + PAGE_SIZE < total:
        nav.append(
            InlineKeyboardButton(
                texts.STAFF_BUTTON_NEXT,
                callback_data=_page_callback(offset + PAGE_SIZE, status, province),
            )
        )
    if nav:
        rows.append(nav)
    filters_text = ""
    if status is not None:
        filters_text += texts.STAFF_FILTER_STATUS.format(status=_esc(status_label(status)))
    if province is not None:
        filters_text += texts.STAFF_FILTER_PROVINCE.format(province=_esc(province))
    text = texts.STAFF_LEADS_HEADER.format(
        filters=filters_text, first=offset + 1, last=offset + len(leads), total=total
    )
    return _Rendered(text, InlineKeyboardMarkup(rows))


_VERDICT_LABELS = {
    "likely_eligible": texts.STAFF_VERDICT_LIKELY,
    "not_eligible": texts.STAFF_VERDICT_NOT,
    "needs_verification": texts.STAFF_VERDICT_VERIFY,
}


def _eligibility_verdict(answers: object) -> str | None:
    """The verdict of the /kiemtra check stored with the lead, with its reasons."""
    if not isinstance(answers, dict) or not answers.get("verdict"):
        return None
    verdict = str(answers["verdict"])
    text = _VERDICT_LABELS.get(verdict, verdict)
    reasons = answers.get("reasons")
    if isinstance(reasons, list) and reasons:
        text += " (" + "; ".join(str(reason) for reason in reasons) + ")"
    return text


_EVENT_KIND_LABELS = {
    EventKind.created: texts.STAFF_EVENT_CREATED,
    EventKind.updated: texts.STAFF_EVENT_UPDATED,
}


def _event_line(event: LeadEvent) -> str:
    when = _fmt_dt(event.created_at)
    actor = _esc(event.actor)
    if event.kind == EventKind.status and event.new_status is not None:
        return texts.STAFF_EVENT_STATUS.format(
            when=when,
            actor=actor,
            old=_esc(status_label(event.old_status) if event.old_status else None),
            new=_esc(status_label(event.new_status)),
        )
    if event.kind == EventKind.note and event.note:
        return texts.STAFF_EVENT_NOTE.format(when=when, actor=actor, note=_esc(event.note))
    kind = _EVENT_KIND_LABELS.get(EventKind(event.kind), str(event.kind))
    return texts.STAFF_EVENT_OTHER.format(when=when, actor=actor, kind=_esc(kind))


def lead_card_text(lead: Lead, events: Sequence[LeadEvent]) -> str:
    """The HTML card of a lead: every field escaped, then the latest events and notes."""
    lines = [texts.STAFF_CARD_TITLE.format(lead_id=lead.id, status=_esc(status_label(lead.status)))]
    lines.append(texts.STAFF_CARD_NAME.format(value=_esc(lead.full_name)))
    lines.append(texts.STAFF_CARD_PHONE.format(value=_esc(lead.phone)))
    if lead.telegram_username:
        lines.append(texts.STAFF_CARD_TELEGRAM.format(value=_esc(f"@{lead.telegram_username}")))
    lines.append(texts.STAFF_CARD_ESTABLISHMENT.format(value=_esc(lead.establishment_name)))
    if lead.establishment_type:
        lines.append(texts.STAFF_CARD_TYPE.format(value=_esc(lead.establishment_type)))
    if lead.sector:
        lines.append(texts.STAFF_CARD_SECTOR.format(value=_esc(lead.sector)))
    place = ", ".join(p for p in (lead.district, lead.province) if p)
    lines.append(texts.STAFF_CARD_PLACE.format(value=_esc(place)))
    support = ", ".join(lead.support_items or [])
    lines.append(texts.STAFF_CARD_SUPPORT.format(value=_esc(support)))
    if lead.question:
        lines.append(texts.STAFF_CARD_QUESTION.format(value=_esc(lead.question)))
    verdict = _eligibility_verdict(lead.eligibility_answers)
    if verdict:
        lines.append(texts.STAFF_CARD_ELIGIBILITY.format(value=_esc(verdict)))
    if lead.assigned_to:
        lines.append(texts.STAFF_CARD_ASSIGNED.format(value=_esc(lead.assigned_to)))
    lines.append(texts.STAFF_CARD_CREATED.format(value=_esc(_fmt_dt(lead.created_at))))
    recent = list(events)[-EVENTS_ON_CARD:]
    if recent:
        lines.append("")
        lines.append(texts.STAFF_CARD_EVENTS)
        lines.extend(_event_line(event) for event in recent)
    return "\n".join(lines)


def _card_markup(lead_id: int, current: LeadStatus | str, back: str) -> InlineKeyboardMarkup:

    status_buttons = [
        InlineKeyboardButton(
            ("✅ " if status == current else "") + status_label(status),
            callback_data=f"staff:st:{lead_id}:{status.value}",
        )
        for status in LeadStatus
    ]
    rows = [status_buttons[i : i + 2] for i in range(0, len(status_buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(texts.STAFF_BUTTON_NOTE, callback_data=f"staff:note:{lead_id}"),
            InlineKeyboardButton(texts.STAFF_BUTTON_BACK, callback_data=back),
        ]
    )
    return InlineKeyboardMarkup(rows)


def render_lead_card(db: sqlalchemy.Engine, lead_id: int, *, back: str = DEFAULT_PAGE) -> _Rendered:
    """Renders the card of one lead with its status, note and back buttons."""

    with session_scope(db) as session:
        lead = crud.get_lead(session=session, lead_id=lead_id)
        if lead is None:
            return _Rendered(texts.STAFF_LEAD_NOT_FOUND.format(lead_id=lead_id))
        events = crud.list_events(session=session, lead_id=lead_id)
        return _Rendered(lead_card_text(lead, events), _card_markup(lead_id, lead.status, back))


def _change_status(db: sqlalchemy.Engine, lead_id: int, status: LeadStatus, actor: str) -> bool:
    """Changes the status; False when the lead is gone or already has it."""

    with session_scope(db) as session:
        lead = crud.get_lead(session=session, lead_id=lead_id)
        if lead is None or lead.status == status:
            return False
        crud.change_status(session=session, lead_id=lead_id, status=status, actor=actor)
        return True


def _add_note(db: sqlalchemy.Engine, lead_id: int, note: str, actor: str) -> bool:

    with session_scope(db) as session:
        if crud.get_lead(session=session, lead_id=lead_id) is None:
            return False
        crud.add_note(session=session, lead_id=lead_id, note=note, actor=actor)
        return True


def _export(db: sqlalchemy.Engine, query: ExportQuery) -> tuple[int, bytes, bytes]:
    """Returns the number of leads and their CSV and XLSX bytes."""
    since = datetime.combine(query.since, time.min, UTC) if query.since else None
    until = datetime.combine(query.until, time.max, UTC) if query.until else None
    with session_scope(db) as session:
        leads = crud.list_leads(
            session=session, status=query.status, since=since, until=until, limit=None
        )
        if not leads:
            return 0, b"", b""
        return len(leads), leads_to_csv(leads), leads_to_xlsx(leads)


def _counts_lines(counts: dict[Any, int], *, labels: Callable[[Any], str] = str) -> list[str]:
    if not counts:
        return [texts.STAFF_STATS_NONE]
    return [f"• {_esc(labels(key))}: <b>{value}</b>" for key, value in counts.items()]


def render_stats(db: sqlalchemy.Engine, *, days: int = STATS_DAYS) -> str:
    """Renders the /thongke statistics as compact HTML."""
    with session_scope(db) as session:
        stats = compute_stats(session=session, days=days)
    lines = [
        texts.STAFF_STATS_TITLE.format(days=days),
        texts.STAFF_STATS_TOTAL.format(total=stats.total_leads, period=stats.leads_in_period),
        "",
        texts.STAFF_STATS_BY_STATUS,
    ]
    lines += _counts_lines(stats.leads_by_status, labels=status_label)
    lines += ["", texts.STAFF_STATS_BY_PROVINCE]
    lines += _counts_lines(stats.leads_by_province)
    lines += ["", texts.STAFF_STATS_BY_SUPPORT]
    lines += _counts_lines(stats.leads_by_support_item)
    lines += ["", texts.STAFF_STATS_PER_DAY]
    per_day = {day.strftime("%d/%m"): count for day, count in stats.questions_per_day if count}
    lines += _counts_lines(per_day)
    lines.append("")
    share = stats.confident_share
    lines.append(
        texts.STAFF_STATS_CONFIDENT.format(
            share="—" if share is None else f"{share:.0%}", total=stats.total_questions
        )
    )
    lines += ["", texts.STAFF_STATS_UNANSWERED]
    if not stats.top_unanswered:
        lines.append(texts.STAFF_STATS_NONE)
    lines += [f"• {_esc(question)} ({count})" for question, count in stats.top_unanswered]
    return "\n".join(lines)


# --- sending helpers ------------------------------------------------------------------------


async def _show(update: Update, rendered: _Rendered) -> None:
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


# --- handlers -------------------------------------------------------------------------------


@restricted("staff")
async def leads_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists leads, optionally filtered by status and province, one button per lead."""
    status, rest = split_status_prefix(context.args or [])
    province_query = " ".join(rest) or None
    rendered = await asyncio.to_thread(
        render_lead_page, get_db(context), offset=0, status=status, province_query=province_query
    )
    if context.user_data is not None:
        context.user_data[LAST_PAGE_KEY] = _page_callback(0, status, province_query)
    await _show(update, rendered)


@restricted("staff")
async def page_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows another page of the lead list."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    _, _, offset_text, status_text, province_text = query.data.split(":", 4)
    status = parse_status(status_text) if status_text != "-" else None
    province_query = province_text if province_text != "-" else None
    if context.user_data is not None:
        context.user_data[LAST_PAGE_KEY] = query.data
    rendered = await asyncio.to_thread(
        render_lead_page,
        get_db(context),
        offset=int(offset_text),
        status=status,
        province_query=province_query,
    )
    await _show(update, rendered)


def _back_target(context: ContextTypes.DEFAULT_TYPE) -> str:
    if context.user_data is not None:
        return str(context.user_data.get(LAST_PAGE_KEY, DEFAULT_PAGE))
    return DEFAULT_PAGE


@restricted("staff")
async def lead_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the card of one lead."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    lead_id = int(query.data.rsplit(":", 1)[1])
    rendered = await asyncio.to_thread(
        render_lead_card, get_db(context), lead_id, back=_back_target(context)
    )
    await _show(update, rendered)


@restricted("staff")
async def status_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Changes a lead's status, records who did it, and refreshes the card."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, _, lead_text, status_text = query.data.split(":", 3)
    lead_id = int(lead_text)
    status = parse_status(status_text)
    if status is None:
        await query.answer()
        return
    db = get_db(context)
    changed = await asyncio.to_thread(_change_status, db, lead_id, status, _actor(update))
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
async def note_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Asks for the text of a note on a lead."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    lead_id = int(query.data.rsplit(":", 1)[1])
    if context.user_data is not None:
        context.user_data[NOTE_LEAD_KEY] = lead_id
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, texts.STAFF_NOTE_ASK.format(lead_id=lead_id))
    return NOTE_TEXT


@restricted("staff")
async def note_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores the note and shows the card again."""
    message = update.effective_message
    assert message is not None
    note = (message.text or "").strip()
    if not note:
        await message.reply_text(texts.STAFF_NOTE_EMPTY)
        return NOTE_TEXT
    if len(note) > MAX_NOTE_CHARS:
        await message.reply_text(texts.STAFF_NOTE_TOO_LONG.format(limit=MAX_NOTE_CHARS))
        return NOTE_TEXT
    lead_id = context.user_data.pop(NOTE_LEAD_KEY, None) if context.user_data is not None else None
    if lead_id is None:
        return ConversationHandler.END
    db = get_db(context)
    saved = await asyncio.to_thread(_add_note, db, int(lead_id), note, _actor(update))
    if not saved:
        await message.reply_text(texts.STAFF_LEAD_NOT_FOUND.format(lead_id=lead_id))
        return ConversationHandler.END
    await message.reply_text(texts.STAFF_NOTE_SAVED.format(lead_id=lead_id))
    rendered = await asyncio.to_thread(
        render_lead_card, db, int(lead_id), back=_back_target(context)
    )
    await message.reply_text(rendered.text, reply_markup=rendered.markup)
    return ConversationHandler.END


async def note_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leaves the note conversation without saving."""
    if context.user_data is not None:
        context.user_data.pop(NOTE_LEAD_KEY, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.STAFF_NOTE_CANCELLED)
    return ConversationHandler.END


@restricted("staff")
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the filtered leads as leads.csv and leads.xlsx."""
    message = update.effective_message
    assert message is not None
    try:
        query = parse_export_args(context.args or [])
    except ValueError:
        await message.reply_text(texts.STAFF_EXPORT_BAD_ARGS)
        return
    count, csv_bytes, xlsx_bytes = await asyncio.to_thread(_export, get_db(context), query)
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
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows lead and question statistics."""
    message = update.effective_message
    assert message is not None
    text = await asyncio.to_thread(render_stats, get_db(context))
    await message.reply_text(text)


async def notify_new_lead(
    context: ContextTypes.DEFAULT_TYPE, lead: Lead, *, updated: bool = False
) -> None:
    """Announces a new (or updated) lead in the staff chat; never raises."""
    try:
        chat_id = get_settings(context).staff_chat_id
        if chat_id is None:
            return
        title = texts.STAFF_UPDATED_LEAD if updated else texts.STAFF_NEW_LEAD
        lines = [title.format(lead_id=lead.id)]
        summary = " · ".join(
            _esc(part) for part in (lead.full_name, lead.establishment_name, lead.province) if part
        )
        lines.append(summary)
        if lead.support_items:
            support = _esc(", ".join(lead.support_items))
            lines.append(texts.STAFF_CARD_SUPPORT.format(value=support))
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(texts.STAFF_BUTTON_OPEN, callback_data=f"staff:lead:{lead.id}")]]
        )
        await context.bot.send_message(chat_id, "\n".join(lines), reply_markup=markup)
    except Exception:
        # The lead is already committed; a failed announcement must not fail the user's flow.
        logger.exception("Could not announce lead %s to the staff chat", getattr(lead, "id", "?"))


async def note_abandon(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:  # noqa: ARG001
    """Leaves the note conversation when another command comes in; that command still runs."""
    if context.user_data is not None:
        context.user_data.pop(NOTE_LEAD_KEY, None)
    return ConversationHandler.END


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the note conversation (in its own early group), then the staff commands."""
    with warnings.catch_warnings():
        # The note/metadata step is tracked per chat and user on purpose, so the
        # per_message advice for CallbackQueryHandler does not apply.
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        note_conversation: ConversationHandler[Any] = ConversationHandler(
            entry_points=[
                CallbackQueryHandler(conversation_step(note_start), pattern=r"^staff:note:\d+$")
            ],
            states={
                NOTE_TEXT: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, conversation_step(note_text))
                ],
            },
            fallbacks=[
                CommandHandler("huy", conversation_step(note_cancel)),
                # Any other command ends the note without claiming the update (no stop).
                MessageHandler(filters.COMMAND, note_abandon),
            ],
            name="staff_note",
            persistent=app.persistence is not None,
            allow_reentry=True,
        )
    app.add_handler(note_conversation, group=CONVERSATION_GROUP)
    app.add_handler(CommandHandler("leads", leads_command))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CommandHandler("thongke", stats_command))
    app.add_handler(CallbackQueryHandler(page_callback, pattern=r"^staff:page:\d+:[^:]+:[^:]+$"))
    app.add_handler(CallbackQueryHandler(lead_callback, pattern=r"^staff:lead:\d+$"))
    app.add_handler(CallbackQueryHandler(status_callback, pattern=r"^staff:st:\d+:[a-z_]+$"))

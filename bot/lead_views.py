"""Leads as staff and owners see them in Telegram: cards, list pages, announcements, summaries.

Pure rendering: every function takes stored values and returns HTML text and buttons built
from `bot.texts`; nothing here touches the database or the network. Every value an owner
typed is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot import texts
from index.dates import format_vn_date
from index.leads.models import EventKind, Lead, LeadEvent, LeadStatus
from index.leads.provinces import ProvinceMatch, resolve_province
from index.leads.status import status_label

if TYPE_CHECKING:
    from index.leads.draft import LeadDraft
    from index.leads.stats import Stats

#: Telegram refuses callback data longer than 64 bytes.
MAX_CALLBACK_BYTES = 64
EVENTS_ON_CARD = 5
BUTTON_CHARS = 60
#: Characters of one stored value shown to staff. The database caps what the bot stores,
#: but SQLite does not enforce lengths and an old row or an import may hold more; with
#: these caps a card (about 12 fields, 5 events) stays under Telegram's 4,096 characters.
FIELD_CHARS = 120
LONG_FIELD_CHARS = 300
NOTE_CHARS = 200
#: Telegram's limit for one message, after entity parsing.
MESSAGE_CHARS = 4096
#: The page a card's back button returns to when no list was shown before.
DEFAULT_PAGE = "staff:page:0:-:-"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message to send or edit: HTML text and its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def esc(value: object, limit: int | None = None) -> str:
    """Escapes a stored value for HTML, cut to `limit` characters first; empty shows "—".

    Cut before escaping, so an entity ("&amp;") is never split.
    """
    if value in (None, ""):
        return texts.LEAD_EMPTY_VALUE
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text)


def province_text(province: str) -> str:
    """A stored province as staff read it: "Quảng Nam (nay thuộc Đà Nẵng)" for a former name."""
    match = resolve_province(province)
    if match.province is not None and match.former is not None:
        return texts.PROVINCE_NOW_PART_OF.format(old=province, new=match.province.name)
    return province


def page_callback(offset: int, status: LeadStatus | None, province: str | None) -> str:
    """Callback data of a list page: "staff:page:<offset>:<status|->:<province key|->"."""
    key = " ".join(province.replace(":", " ").split()) if province else "-"
    data = f"staff:page:{offset}:{status.value if status else '-'}:{key}"
    return data.encode()[:MAX_CALLBACK_BYTES].decode(errors="ignore")


def lead_button_text(lead: Lead) -> str:
    """One lead in a list: "#12 Nguyễn Văn An · Quảng Nam · Mới"."""
    parts = [f"#{lead.id} {lead.full_name[:BUTTON_CHARS]}"]
    if lead.province:
        parts.append(lead.province[:BUTTON_CHARS])
    parts.append(status_label(lead.status))
    return " · ".join(parts)[:BUTTON_CHARS]


def lead_page(
    leads: Sequence[Lead],
    *,
    offset: int,
    total: int,
    page_size: int,
    status: LeadStatus | None,
    province: ProvinceMatch | None,
) -> Rendered:
    """One page of the lead list with a button per lead and ◀️/▶️ buttons."""
    key = _province_key(province)
    rows = [
        [InlineKeyboardButton(lead_button_text(lead), callback_data=f"staff:lead:{lead.id}")]
        for lead in leads
    ]
    nav: list[InlineKeyboardButton] = []
    if offset > 0:
        previous = page_callback(max(0, offset - page_size), status, key)
        nav.append(InlineKeyboardButton(texts.STAFF_BUTTON_PREV, callback_data=previous))
    if offset + page_size < total:
        following = page_callback(offset + page_size, status, key)
        nav.append(InlineKeyboardButton(texts.STAFF_BUTTON_NEXT, callback_data=following))
    if nav:
        rows.append(nav)
    filters_text = ""
    if status is not None:
        filters_text += texts.STAFF_FILTER_STATUS.format(status=esc(status_label(status)))
    if province is not None:
        filters_text += texts.STAFF_FILTER_PROVINCE.format(province=esc(province.label))
    text = texts.STAFF_LEADS_HEADER.format(
        filters=filters_text, first=offset + 1, last=offset + len(leads), total=total
    )
    return Rendered(text, InlineKeyboardMarkup(rows))


def _province_key(province: ProvinceMatch | None) -> str | None:
    if province is None:
        return None
    return province.province.id if province.province is not None else province.query


def province_choices(match: ProvinceMatch, status: LeadStatus | None) -> Rendered:
    """Asks which province an ambiguous name meant ("quang"), one button per candidate."""
    rows = [
        [
            InlineKeyboardButton(
                candidate.label,
                callback_data=page_callback(0, status, _province_key(candidate)),
            )
        ]
        for candidate in match.candidates
    ]
    text = texts.STAFF_PROVINCE_AMBIGUOUS.format(province=esc(match.query.strip()))
    return Rendered(text, InlineKeyboardMarkup(rows))


_VERDICT_LABELS = {
    "likely_eligible": texts.STAFF_VERDICT_LIKELY,
    "not_eligible": texts.STAFF_VERDICT_NOT,
    "needs_verification": texts.STAFF_VERDICT_VERIFY,
}
_EVENT_KIND_LABELS = {
    EventKind.created: texts.STAFF_EVENT_CREATED,
    EventKind.updated: texts.STAFF_EVENT_UPDATED,
}


def eligibility_verdict(answers: object) -> str | None:
    """The verdict of the /kiemtra check stored with a lead, with its reasons."""
    if not isinstance(answers, dict) or not answers.get("verdict"):
        return None
    verdict = str(answers["verdict"])
    text = _VERDICT_LABELS.get(verdict, verdict)
    reasons = answers.get("reasons")
    if isinstance(reasons, list) and reasons:
        text += " (" + "; ".join(str(reason) for reason in reasons) + ")"
    return text


def event_line(event: LeadEvent) -> str:
    """One entry of a lead's history: when, who, what."""
    when = format_vn_date(event.created_at, with_time=True)
    actor = esc(event.actor, FIELD_CHARS)
    if event.kind == EventKind.status and event.new_status is not None:
        return texts.STAFF_EVENT_STATUS.format(
            when=when,
            actor=actor,
            old=esc(status_label(event.old_status) if event.old_status else None),
            new=esc(status_label(event.new_status)),
        )
    if event.kind == EventKind.note and event.note:
        note = esc(event.note, NOTE_CHARS)
        return texts.STAFF_EVENT_NOTE.format(when=when, actor=actor, note=note)
    kind = _EVENT_KIND_LABELS.get(EventKind(event.kind), str(event.kind))
    return texts.STAFF_EVENT_OTHER.format(when=when, actor=actor, kind=esc(kind))


def lead_card_text(lead: Lead, events: Sequence[LeadEvent]) -> str:
    """The HTML card of a lead: every field escaped, then the latest events and notes."""
    short, long = FIELD_CHARS, LONG_FIELD_CHARS
    lines = [texts.STAFF_CARD_TITLE.format(lead_id=lead.id, status=esc(status_label(lead.status)))]
    lines.append(texts.STAFF_CARD_NAME.format(value=esc(lead.full_name, short)))
    lines.append(texts.STAFF_CARD_PHONE.format(value=esc(lead.phone, short)))
    if lead.telegram_username:
        username = esc(f"@{lead.telegram_username}", short)
        lines.append(texts.STAFF_CARD_TELEGRAM.format(value=username))
    lines.append(texts.STAFF_CARD_ESTABLISHMENT.format(value=esc(lead.establishment_name, short)))
    if lead.establishment_type:
        lines.append(texts.STAFF_CARD_TYPE.format(value=esc(lead.establishment_type, short)))
    if lead.sector:
        lines.append(texts.STAFF_CARD_SECTOR.format(value=esc(lead.sector, short)))
    place = ", ".join(p for p in (lead.district, province_text(lead.province)) if p)
    lines.append(texts.STAFF_CARD_PLACE.format(value=esc(place, short)))
    support = ", ".join(str(item) for item in lead.support_items or [])
    lines.append(texts.STAFF_CARD_SUPPORT.format(value=esc(support, long)))
    if lead.question:
        lines.append(texts.STAFF_CARD_QUESTION.format(value=esc(lead.question, long)))
    verdict = eligibility_verdict(lead.eligibility_answers)
    if verdict:
        lines.append(texts.STAFF_CARD_ELIGIBILITY.format(value=esc(verdict, long)))
    if lead.assigned_to:
        lines.append(texts.STAFF_CARD_ASSIGNED.format(value=esc(lead.assigned_to, short)))
    created = format_vn_date(lead.created_at, with_time=True)
    lines.append(texts.STAFF_CARD_CREATED.format(value=esc(created)))
    recent = list(events)[-EVENTS_ON_CARD:]
    # Oldest events give way first if the card would still be too long for one message.
    while True:
        card = lines + (["", texts.STAFF_CARD_EVENTS] if recent else [])
        card += [event_line(event) for event in recent]
        text = "\n".join(card)
        if not recent or len(html.unescape(text)) <= MESSAGE_CHARS:
            return text
        recent = recent[1:]


def card_markup(lead_id: int, current: LeadStatus | str, back: str) -> InlineKeyboardMarkup:
    """Status buttons (the current one ticked), "add a note" and "back to the list"."""
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


def announcement(lead: Lead, *, updated: bool) -> Rendered:
    """The staff-chat message about a new or updated lead, with an "open" button."""
    title = texts.STAFF_UPDATED_LEAD if updated else texts.STAFF_NEW_LEAD
    lines = [title.format(lead_id=lead.id)]
    parts = (lead.full_name, lead.establishment_name, lead.province)
    lines.append(" · ".join(esc(part, FIELD_CHARS) for part in parts if part))
    if lead.support_items:
        support = ", ".join(str(item) for item in lead.support_items)
        lines.append(texts.STAFF_CARD_SUPPORT.format(value=esc(support, LONG_FIELD_CHARS)))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.STAFF_BUTTON_OPEN, callback_data=f"staff:lead:{lead.id}")]]
    )
    return Rendered("\n".join(lines), markup)


def digest(lead_ids: Sequence[int], *, updated: int, minutes: int) -> Rendered:
    """One staff-chat message for a burst of leads: how many, their ids, a list button."""
    ids = ", ".join(texts.STAFF_DIGEST_LEAD_ID.format(lead_id=lead_id) for lead_id in lead_ids)
    note = texts.STAFF_DIGEST_UPDATED.format(updated=updated) if updated else ""
    text = texts.STAFF_DIGEST.format(
        count=len(lead_ids), minutes=max(1, minutes), updated=note, lead_ids=ids
    )
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.STAFF_BUTTON_LIST, callback_data=DEFAULT_PAGE)]]
    )
    return Rendered(text, markup)


def _counts_lines(counts: dict[Any, int], *, labels: Callable[[Any], str] = str) -> list[str]:
    if not counts:
        return [texts.STAFF_STATS_NONE]
    return [f"• {esc(labels(key), FIELD_CHARS)}: <b>{value}</b>" for key, value in counts.items()]


def stats_text(stats: Stats) -> str:
    """The /thongke statistics as compact HTML."""
    lines = [
        texts.STAFF_STATS_TITLE.format(days=stats.days),
        texts.STAFF_STATS_TOTAL.format(total=stats.total_leads, period=stats.leads_in_period),
        "",
        texts.STAFF_STATS_BY_STATUS,
    ]
    lines += _counts_lines(dict(stats.leads_by_status), labels=status_label)
    lines += ["", texts.STAFF_STATS_BY_PROVINCE]
    lines += _counts_lines(stats.leads_by_province)
    lines += ["", texts.STAFF_STATS_BY_SUPPORT]
    lines += _counts_lines(stats.leads_by_support_item)
    lines += ["", texts.STAFF_STATS_PER_DAY]
    per_day = {day.strftime("%d/%m"): count for day, count in stats.questions_per_day if count}
    lines += _counts_lines(per_day)
    share = stats.confident_share
    lines += [
        "",
        texts.STAFF_STATS_CONFIDENT.format(
            share="—" if share is None else f"{share:.0%}", total=stats.total_questions
        ),
        "",
        texts.STAFF_STATS_UNANSWERED,
    ]
    if not stats.top_unanswered:
        lines.append(texts.STAFF_STATS_NONE)
    lines += [
        f"• {esc(question, FIELD_CHARS)} ({count})" for question, count in stats.top_unanswered
    ]
    return "\n".join(lines)


def inline_buttons(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline buttons from rows of (text, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def support_keyboard(labels: Sequence[str], selected: set[str]) -> InlineKeyboardMarkup:
    """One button per support item (ticked when selected), then "Chưa rõ" and "Xong"."""
    rows = [
        [(("✅ " if label in selected else "") + label, f"lead:sup:{index}")]
        for index, label in enumerate(labels)
    ]
    rows.append([(texts.LEAD_BTN_UNKNOWN, "lead:sup:u"), (texts.LEAD_BTN_DONE, "lead:sup:done")])
    return inline_buttons(rows)


def phone_keyboard(example: str) -> ReplyKeyboardMarkup:
    """The keyboard with Telegram's "share my number" button."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.LEAD_BTN_SHARE_PHONE, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=example,
    )


def registration_summary(draft: LeadDraft) -> str:
    """The "please check" summary an owner confirms before the lead is saved."""

    def show(value: object) -> str:
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        return html.escape(str(value)) if value else texts.LEAD_EMPTY_VALUE

    return texts.LEAD_SUMMARY.format(
        full_name=show(draft.full_name),
        phone=show(draft.phone),
        establishment_name=show(draft.establishment_name),
        establishment_type=show(draft.establishment_type),
        province=show(draft.province),
        district=show(draft.district),
        support_items=show(draft.support_items),
    )

"""/dangky's steps: each stores one answer in the draft and asks for the next field.

Editing a field from the summary clears it, so the same path asks for it again and then
returns to the summary.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot import texts
from bot.context import BotContext, user_state
from bot.handlers.eligibility import RESULT_KEY
from bot.handlers.lead_prompts import (
    DISTRICT,
    DRAFT_KEY,
    EDIT,
    ESTABLISHMENT,
    NAME,
    PHONE,
    PROVINCE_TEXT,
    SUBMITTING_KEY,
    SUPPORT,
    TYPE,
    ask_next,
    close_buttons,
    criteria_labels,
    draft_of,
    send,
    support_keyboard_of,
)
from bot.lead_views import inline_buttons
from index.leads.draft import DraftField, LeadDraft
from index.leads.models import (
    DISTRICT_MAX,
    ESTABLISHMENT_MAX,
    NAME_MAX,
    PROVINCE_MAX,
    SUPPORT_ITEM_MAX,
    TYPE_MAX,
)
from index.leads.phones import normalize_vn_phone
from index.leads.provinces import resolve_province

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

#: How the prefill note names the fields the eligibility check filled in.
_FIELD_LABELS = {
    "establishment_type": texts.LEAD_FIELD_TYPE,
    "province": texts.LEAD_FIELD_PROVINCE,
    "support_items": texts.LEAD_FIELD_SUPPORT,
}
# "lead:edit:<field>" -> draft fields to clear (a new province makes the old district stale).
_EDIT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": (texts.LEAD_FIELD_NAME, ("full_name",)),
    "phone": (texts.LEAD_FIELD_PHONE, ("phone",)),
    "est": (texts.LEAD_FIELD_ESTABLISHMENT, ("establishment_name",)),
    "type": (texts.LEAD_FIELD_TYPE, ("establishment_type",)),
    "province": (texts.LEAD_FIELD_PROVINCE, ("province", "district")),
    "district": (texts.LEAD_FIELD_DISTRICT, ("district",)),
    "support": (texts.LEAD_FIELD_SUPPORT, ("support_items",)),
}


async def start_registration(update: Update, context: BotContext) -> int:
    """Starts a registration, prefilled from an eligibility check, and asks the name."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    data = user_state(context)
    data[SUBMITTING_KEY] = False
    check = data.get(RESULT_KEY)
    draft = LeadDraft.prefilled(
        check if isinstance(check, dict) else None, data.get("last_question")
    )
    data[DRAFT_KEY] = draft
    prefilled = [_FIELD_LABELS[name] for name in draft.prefilled_fields()]
    prefix = texts.LEAD_PREFILLED.format(fields=", ".join(prefilled)) if prefilled else None
    return await ask_next(update, context, prefix)


async def _text_answer(update: Update, context: BotContext, limit: int) -> str | None:
    """Returns the trimmed text, or tells the user why it cannot be used and returns None."""
    message = update.effective_message
    text = " ".join((message.text or "").split()) if message is not None else ""
    if len(text) > limit:
        await send(update, context, texts.LEAD_TOO_LONG.format(limit=limit))
        return None
    if len(text) < 2 and limit > 2:
        await send(update, context, texts.LEAD_TOO_SHORT)
        return None
    return text


def _text_step(
    field: DraftField, limit: int, state: int, clean: Callable[[str], str] = str
) -> Callable[[Update, BotContext], Coroutine[Any, Any, int]]:
    """A step that stores one typed answer (trimmed, length-checked) and asks the next."""

    async def step(update: Update, context: BotContext) -> int:
        value = await _text_answer(update, context, limit)
        if value is None:
            return state
        setattr(draft_of(context), field, clean(value))
        return await ask_next(update, context)

    step.__doc__ = f"Stores the typed {field} and asks for the next field."
    step.__name__ = f"receive_{field}"
    return step


def _canonical_province(typed: str) -> str:
    """The province as the list spells it when the text names exactly one ("quang nam")."""
    match = resolve_province(typed)
    if match.province is None:
        return typed
    return (match.former or match.province.name)[:PROVINCE_MAX]


receive_name = _text_step("full_name", NAME_MAX, NAME)
receive_establishment = _text_step("establishment_name", ESTABLISHMENT_MAX, ESTABLISHMENT)
receive_type_text = _text_step("establishment_type", TYPE_MAX, TYPE)
receive_province = _text_step("province", PROVINCE_MAX, PROVINCE_TEXT, _canonical_province)
receive_district = _text_step("district", DISTRICT_MAX, DISTRICT)


async def receive_phone(update: Update, context: BotContext) -> int:
    """Validates a typed or shared phone number and stores it in E.164."""
    message = update.effective_message
    if message is None:
        return PHONE
    # A contact shared for someone else is simply a number the user gave us.
    raw = message.contact.phone_number if message.contact else (message.text or "")
    try:
        phone = normalize_vn_phone(raw)
    except ValueError:
        await send(update, context, texts.LEAD_BAD_PHONE)
        return PHONE
    draft_of(context).phone = phone
    await send(update, context, f"✔️ {html.escape(phone)}", ReplyKeyboardRemove())
    return await ask_next(update, context)


async def _choose(update: Update, context: BotContext, kind: str, field: DraftField) -> int:
    """Stores the label of the pressed button ("lead:<kind>:<index>")."""
    assert update.callback_query is not None and update.callback_query.data is not None
    labels = criteria_labels(context, kind)
    index = int(update.callback_query.data.rsplit(":", 1)[1])
    if index >= len(labels):
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)
        return await ask_next(update, context)
    await close_buttons(update, labels[index])
    limit = TYPE_MAX if field == "establishment_type" else PROVINCE_MAX
    setattr(draft_of(context), field, labels[index][:limit])
    return await ask_next(update, context)


async def choose_type(update: Update, context: BotContext) -> int:
    """Stores the establishment type picked from the buttons."""
    return await _choose(update, context, "type", "establishment_type")


async def choose_province(update: Update, context: BotContext) -> int:
    """Stores a province from the buttons, or asks to type it for "Tỉnh khác"."""
    assert update.callback_query is not None and update.callback_query.data is not None
    if update.callback_query.data.endswith(":other"):
        await close_buttons(update, texts.LEAD_BTN_OTHER_PROVINCE)
        await send(update, context, texts.LEAD_ASK_PROVINCE_TEXT)
        return PROVINCE_TEXT
    return await _choose(update, context, "province", "province")


async def skip_district(update: Update, context: BotContext) -> int:
    """Leaves the district empty."""
    await close_buttons(update, texts.LEAD_BTN_SKIP)
    draft_of(context).skip("district")
    return await ask_next(update, context)


async def toggle_support(update: Update, context: BotContext) -> int:
    """Toggles a support item, or stores the selection on "Xong"/"Chưa rõ"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    raw = query.data.rsplit(":", 1)[1]
    draft = draft_of(context)
    if raw in {"done", "u"}:
        chosen = list(draft.support_selection) if raw == "done" else []
        await close_buttons(update, ", ".join(chosen) or texts.LEAD_BTN_UNKNOWN)
        draft.support_items = chosen
        draft.support_selection = []
        return await ask_next(update, context)
    labels = criteria_labels(context, "support")
    if int(raw) >= len(labels):
        await query.answer(texts.LEAD_USE_BUTTONS)
        return SUPPORT
    await query.answer()
    label = labels[int(raw)]
    if label in draft.support_selection:
        draft.support_selection.remove(label)
    else:
        draft.support_selection.append(label)
    try:
        await query.edit_message_reply_markup(reply_markup=support_keyboard_of(context))
    except BadRequest as exc:
        logger.debug("Could not refresh the support buttons: %s", exc)
    return SUPPORT


async def receive_support_text(update: Update, context: BotContext) -> int:
    """Stores a typed need, together with any items already ticked."""
    need = await _text_answer(update, context, SUPPORT_ITEM_MAX)
    if need is None:
        return SUPPORT
    draft = draft_of(context)
    draft.support_items = [*draft.support_selection, need]
    draft.support_selection = []
    return await ask_next(update, context)


async def receive_consent(update: Update, context: BotContext) -> int:
    """Records consent, or ends without storing anything."""
    assert update.callback_query is not None and update.callback_query.data is not None
    if update.callback_query.data.endswith(":yes"):
        await close_buttons(update, texts.LEAD_BTN_CONSENT_YES)
        draft_of(context).consent_at = datetime.now(UTC)
        return await ask_next(update, context)
    await close_buttons(update, texts.LEAD_BTN_CONSENT_NO)
    user_state(context).pop(DRAFT_KEY, None)
    await send(update, context, texts.LEAD_NO_CONSENT)
    return ConversationHandler.END


async def show_edit_menu(update: Update, context: BotContext) -> int:
    """Shows the fields the user can change."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    rows = [[(label, f"lead:edit:{key}")] for key, (label, _) in _EDIT_FIELDS.items()]
    rows.append([(texts.LEAD_BTN_BACK_TO_SUMMARY, "lead:edit:back")])
    await send(update, context, texts.LEAD_ASK_EDIT, inline_buttons(rows))
    return EDIT


async def edit_field(update: Update, context: BotContext) -> int:
    """Clears the chosen field so it is asked again, then the summary returns."""
    query = update.callback_query
    assert query is not None and query.data is not None
    key = query.data.rsplit(":", 1)[1]
    if key in _EDIT_FIELDS:
        label, fields = _EDIT_FIELDS[key]
        await close_buttons(update, label)
        draft_of(context).clear(*fields)
    else:
        await close_buttons(update, texts.LEAD_BTN_BACK_TO_SUMMARY)
    return await ask_next(update, context)

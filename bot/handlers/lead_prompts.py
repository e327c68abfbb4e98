"""/dangky's questions: the draft in user_data, the prompt and buttons of each field.

The conversation states and user_data keys of the registration live here; `ask_next` asks
for the draft's `next_missing()` field, or shows the summary once nothing is missing.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot import texts
from bot.context import BotContext, user_state
from bot.handlers.eligibility import criteria_for
from bot.lead_views import inline_buttons, phone_keyboard, registration_summary, support_keyboard
from index.criteria import CriteriaError
from index.leads.draft import DraftField, LeadDraft
from index.leads.models import (
    SUPPORT_ITEM_MAX,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup

(
    NAME,
    PHONE,
    ESTABLISHMENT,
    TYPE,
    PROVINCE,
    PROVINCE_TEXT,
    DISTRICT,
    SUPPORT,
    CONSENT,
    CONFIRM,
    EDIT,
) = range(11)

#: user_data keys owned by this module.
DRAFT_KEY = "lead_draft"
SUBMITTING_KEY = "lead_submitting"
LAST_LEAD_KEY = "last_lead_id"
#: How many province buttons to offer before "Tỉnh khác".
PROVINCE_BUTTONS = 12
PHONE_EXAMPLE = "0912 345 678"


def draft_of(context: BotContext) -> LeadDraft:
    data = user_state(context)
    draft = LeadDraft.from_stored(data.get(DRAFT_KEY))
    data[DRAFT_KEY] = draft
    return draft


async def send(
    update: Update,
    context: BotContext,
    text: str,
    markup: Markup | ReplyKeyboardRemove | None = None,
) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat_id=chat.id, text=text, reply_markup=markup)


async def close_buttons(update: Update, choice: str) -> None:
    """Answers the press and replaces the buttons by the chosen value."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    message = query.message
    if not isinstance(message, Message) or not message.text:
        return
    try:
        await query.edit_message_text(f"{message.text_html}\n\n✔️ <b>{html.escape(choice)}</b>")
    except BadRequest as exc:
        # The message may be too old to edit; the answer is stored anyway.
        logger.debug("Could not close the buttons: %s", exc)


def criteria_labels(context: BotContext, kind: str) -> list[str]:
    """Returns labels from the criteria, or none when the file is unavailable."""
    try:
        criteria = criteria_for(context)
    except CriteriaError:
        logger.warning("Criteria unavailable; registration falls back to typed answers")
        return []
    if kind == "type":
        return [option.label for option in criteria.beneficiary_types]
    if kind == "support":
        return [item.label[:SUPPORT_ITEM_MAX] for item in criteria.support_items]
    return [p.label for p in criteria.provinces if not p.is_other][:PROVINCE_BUTTONS]


def support_keyboard_of(context: BotContext) -> InlineKeyboardMarkup:
    labels = criteria_labels(context, "support")
    return support_keyboard(labels, set(draft_of(context).support_selection))


def _question(context: BotContext, field: DraftField) -> tuple[int, str, Markup | None]:
    """The state, prompt and buttons that ask for one field of the draft."""
    if field == "full_name":
        return NAME, texts.LEAD_ASK_NAME, None
    if field == "phone":
        return PHONE, texts.LEAD_ASK_PHONE, phone_keyboard(PHONE_EXAMPLE)
    if field == "establishment_name":
        return ESTABLISHMENT, texts.LEAD_ASK_ESTABLISHMENT, None
    if field == "establishment_type":
        labels = criteria_labels(context, "type")
        rows = [[(label, f"lead:type:{index}")] for index, label in enumerate(labels)]
        return TYPE, texts.LEAD_ASK_TYPE, inline_buttons(rows) if rows else None
    if field == "province":
        labels = criteria_labels(context, "province")
        buttons = [(label, f"lead:prov:{index}") for index, label in enumerate(labels)]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([(texts.LEAD_BTN_OTHER_PROVINCE, "lead:prov:other")])
        return PROVINCE, texts.LEAD_ASK_PROVINCE, inline_buttons(rows)
    if field == "district":
        skip = [(texts.LEAD_BTN_SKIP, "lead:district:skip")]
        return DISTRICT, texts.LEAD_ASK_DISTRICT, inline_buttons([skip])
    if field == "support_items":
        return SUPPORT, texts.LEAD_ASK_SUPPORT, support_keyboard_of(context)
    consent = [
        (texts.LEAD_BTN_CONSENT_YES, "lead:consent:yes"),
        (texts.LEAD_BTN_CONSENT_NO, "lead:consent:no"),
    ]
    return CONSENT, texts.LEAD_ASK_CONSENT, inline_buttons([consent])


async def ask_next(update: Update, context: BotContext, prefix: str | None = None) -> int:
    """Asks for the first field still missing from the draft, or shows the summary."""
    draft = draft_of(context)
    draft.touch()
    lead_in = f"{prefix}\n\n" if prefix else ""
    field = draft.next_missing()
    if field is None:
        row = [(texts.LEAD_BTN_CONFIRM, "lead:confirm"), (texts.LEAD_BTN_EDIT, "lead:edit")]
        await send(update, context, lead_in + registration_summary(draft), inline_buttons([row]))
        return CONFIRM
    state, prompt, markup = _question(context, field)
    await send(update, context, lead_in + prompt, markup)
    return state

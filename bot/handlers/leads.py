"""/dangky: registration for advice, one question at a time, stored only with consent.

The draft lives in user_data (persisted, so a restart resumes at the same step). Each step
handler stores one answer and calls `ask_next`, which asks for the first field still missing;
editing a field from the summary just removes it from the draft, so the same path asks for it
again and then returns to the summary.

Callback data: "lead:start" (entry), "lead:type:<i>", "lead:prov:<i>", "lead:prov:other",
"lead:district:skip", "lead:sup:<i>", "lead:sup:done", "lead:sup:u", "lead:consent:yes",
"lead:consent:no", "lead:confirm", "lead:edit", "lead:edit:<field>", "lead:edit:back".
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import phonenumbers
from pydantic import ValidationError
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.context import get_db
from bot.handlers.eligibility import RESULT_KEY, criteria_for
from bot.routing import RoutedFilter, add_route
from index.eligibility import CriteriaError
from index.leads.models import (
    DISTRICT_MAX,
    ESTABLISHMENT_MAX,
    NAME_MAX,
    PROVINCE_MAX,
    QUESTION_MAX,
    SECTOR_MAX,
    SUPPORT_ITEM_MAX,
    TYPE_MAX,
    LeadCreate,
)

if TYPE_CHECKING:
    import sqlalchemy

    from index.leads.models import Lead

logger = logging.getLogger(__name__)

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

CONVERSATION_NAME = "registration"
#: user_data keys owned by this module.
DRAFT_KEY = "lead_draft"
SUBMITTING_KEY = "lead_submitting"
LAST_LEAD_KEY = "last_lead_id"
#: How many province buttons to offer before "Tỉnh khác".
PROVINCE_BUTTONS = 12
PHONE_EXAMPLE = "0912 345 678"

_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
# "lead:edit:<field>" -> draft keys to clear (a new province makes the old district stale).
_EDIT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": (texts.LEAD_FIELD_NAME, ("full_name",)),
    "phone": (texts.LEAD_FIELD_PHONE, ("phone",)),
    "est": (texts.LEAD_FIELD_ESTABLISHMENT, ("establishment_name",)),
    "type": (texts.LEAD_FIELD_TYPE, ("establishment_type",)),
    "province": (texts.LEAD_FIELD_PROVINCE, ("province", "district")),
    "district": (texts.LEAD_FIELD_DISTRICT, ("district",)),
    "support": (texts.LEAD_FIELD_SUPPORT, ("support_items", "support_selection")),
}


def parse_vn_phone(raw: str) -> str | None:
    """Returns a Vietnamese mobile or fixed-line number in E.164, or None if it is not one."""
    compact = re.sub(r"[\s.\-()]", "", raw.strip())
    if not re.fullmatch(r"\+?\d{8,15}", compact):
        return None
    candidates = [compact]
    if compact.startswith("0084"):
        candidates.insert(0, "+" + compact[2:])
    elif compact.startswith("84"):
        # Telegram shares contacts as "84912345678", without the plus.
        candidates.insert(0, "+" + compact)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, "VN")
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_possible_number(number)
            and phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) == "VN"
            and phonenumbers.number_type(number) in _PHONE_TYPES
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    return context.user_data if context.user_data is not None else {}


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    draft = _user_data(context).setdefault(DRAFT_KEY, {})
    return draft  # type: ignore[no-any-return]


async def _send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, markup: Any = None
) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat_id=chat.id, text=text, reply_markup=markup)


async def _close_buttons(update: Update, choice: str) -> None:
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


def _criteria_labels(context: ContextTypes.DEFAULT_TYPE, kind: str) -> list[str]:
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


def _support_keyboard(context: ContextTypes.DEFAULT_TYPE) -> InlineKeyboardMarkup:
    selected = set(_draft(context).get("support_selection", []))
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if label in selected else "") + label, callback_data=f"lead:sup:{index}"
            )
        ]
        for index, label in enumerate(_criteria_labels(context, "support"))
    ]
    rows.append(
        [
            InlineKeyboardButton(texts.LEAD_BTN_UNKNOWN, callback_data="lead:sup:u"),
            InlineKeyboardButton(texts.LEAD_BTN_DONE, callback_data="lead:sup:done"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def _summary(draft: dict[str, Any]) -> str:
    def show(value: object) -> str:
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        return html.escape(str(value)) if value else texts.LEAD_EMPTY_VALUE

    return texts.LEAD_SUMMARY.format(
        full_name=show(draft.get("full_name")),
        phone=show(draft.get("phone")),
        establishment_name=show(draft.get("establishment_name")),
        establishment_type=show(draft.get("establishment_type")),
        province=show(draft.get("province")),
        district=show(draft.get("district")),
        support_items=show(draft.get("support_items")),
    )


async def ask_next(
    update: Update, context: ContextTypes.DEFAULT_TYPE, prefix: str | None = None
) -> int:
    """Asks for the first field still missing from the draft, or shows the summary."""
    draft = _draft(context)
    lead_in = f"{prefix}\n\n" if prefix else ""
    if "full_name" not in draft:
        await _send(update, context, lead_in + texts.LEAD_ASK_NAME)
        return NAME
    if "phone" not in draft:
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(texts.LEAD_BTN_SHARE_PHONE, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
            input_field_placeholder=PHONE_EXAMPLE,
        )
        await _send(update, context, lead_in + texts.LEAD_ASK_PHONE, keyboard)
        return PHONE
    if "establishment_name" not in draft:
        await _send(update, context, lead_in + texts.LEAD_ASK_ESTABLISHMENT)
        return ESTABLISHMENT
    if "establishment_type" not in draft:
        rows = [
            [InlineKeyboardButton(label, callback_data=f"lead:type:{index}")]
            for index, label in enumerate(_criteria_labels(context, "type"))
        ]
        markup = InlineKeyboardMarkup(rows) if rows else None
        await _send(update, context, lead_in + texts.LEAD_ASK_TYPE, markup)
        return TYPE
    if "province" not in draft:
        buttons = [
            InlineKeyboardButton(label, callback_data=f"lead:prov:{index}")
            for index, label in enumerate(_criteria_labels(context, "province"))
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append(
            [InlineKeyboardButton(texts.LEAD_BTN_OTHER_PROVINCE, callback_data="lead:prov:other")]
        )
        await _send(update, context, lead_in + texts.LEAD_ASK_PROVINCE, InlineKeyboardMarkup(rows))
        return PROVINCE
    if "district" not in draft:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(texts.LEAD_BTN_SKIP, callback_data="lead:district:skip")]]
        )
        await _send(update, context, lead_in + texts.LEAD_ASK_DISTRICT, markup)
        return DISTRICT
    if "support_items" not in draft:
        await _send(update, context, lead_in + texts.LEAD_ASK_SUPPORT, _support_keyboard(context))
        return SUPPORT
    if "consent_at" not in draft:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.LEAD_BTN_CONSENT_YES, callback_data="lead:consent:yes"
                    ),
                    InlineKeyboardButton(
                        texts.LEAD_BTN_CONSENT_NO, callback_data="lead:consent:no"
                    ),
                ]
            ]
        )
        await _send(update, context, lead_in + texts.LEAD_ASK_CONSENT, markup)
        return CONSENT
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.LEAD_BTN_CONFIRM, callback_data="lead:confirm"),
                InlineKeyboardButton(texts.LEAD_BTN_EDIT, callback_data="lead:edit"),
            ]
        ]
    )
    await _send(update, context, lead_in + _summary(draft), markup)
    return CONFIRM


async def start_registration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Starts a registration, prefilled from an eligibility check, and asks the name."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    user_data = _user_data(context)
    user_data[SUBMITTING_KEY] = False
    draft: dict[str, Any] = {}
    prefilled: list[str] = []
    check = user_data.get(RESULT_KEY)
    if isinstance(check, dict):
        draft["eligibility_answers"] = dict(check)
        if check.get("establishment_type_label"):
            draft["establishment_type"] = str(check["establishment_type_label"])[:TYPE_MAX]
            prefilled.append(texts.LEAD_FIELD_TYPE)
        if check.get("sector_label"):
            draft["sector"] = str(check["sector_label"])[:SECTOR_MAX]
        province = check.get("province_label")
        if province:
            draft["province"] = str(province)[:PROVINCE_MAX]
            prefilled.append(texts.LEAD_FIELD_PROVINCE)
        labels = [str(label)[:SUPPORT_ITEM_MAX] for label in check.get("support_item_labels", [])]
        if labels:
            draft["support_items"] = labels
            prefilled.append(texts.LEAD_FIELD_SUPPORT)
    question = user_data.get("last_question")
    if isinstance(question, str) and question.strip():
        draft["question"] = question.strip()[:QUESTION_MAX]
    user_data[DRAFT_KEY] = draft
    prefix = texts.LEAD_PREFILLED.format(fields=", ".join(prefilled)) if prefilled else None
    return await ask_next(update, context, prefix)


async def _text_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, limit: int
) -> str | None:
    """Returns the trimmed text, or tells the user why it cannot be used and returns None."""
    message = update.effective_message
    text = " ".join((message.text or "").split()) if message is not None else ""
    if len(text) > limit:
        await _send(update, context, texts.LEAD_TOO_LONG.format(limit=limit))
        return None
    if len(text) < 2 and limit > 2:
        await _send(update, context, texts.LEAD_TOO_SHORT)
        return None
    return text


async def receive_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores the full name and asks for the phone number."""
    name = await _text_answer(update, context, NAME_MAX)
    if name is None:
        return NAME
    _draft(context)["full_name"] = name
    return await ask_next(update, context)


async def receive_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Validates a typed or shared phone number and stores it in E.164."""
    message = update.effective_message
    if message is None:
        return PHONE
    # A contact shared for someone else is simply a number the user gave us.
    raw = message.contact.phone_number if message.contact else (message.text or "")
    phone = parse_vn_phone(raw)
    if phone is None:
        await _send(update, context, texts.LEAD_BAD_PHONE)
        return PHONE
    _draft(context)["phone"] = phone
    await _send(update, context, f"✔️ {html.escape(phone)}", ReplyKeyboardRemove())
    return await ask_next(update, context)


async def receive_establishment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores the establishment name and asks for its type."""
    name = await _text_answer(update, context, ESTABLISHMENT_MAX)
    if name is None:
        return ESTABLISHMENT
    _draft(context)["establishment_name"] = name
    return await ask_next(update, context)


async def receive_type_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores a typed establishment type."""
    kind = await _text_answer(update, context, TYPE_MAX)
    if kind is None:
        return TYPE
    _draft(context)["establishment_type"] = kind
    return await ask_next(update, context)


async def choose_type(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores the establishment type picked from the buttons."""
    assert update.callback_query is not None and update.callback_query.data is not None
    labels = _criteria_labels(context, "type")
    index = int(update.callback_query.data.rsplit(":", 1)[1])
    if index >= len(labels):
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)
        return await ask_next(update, context)
    await _close_buttons(update, labels[index])
    _draft(context)["establishment_type"] = labels[index][:TYPE_MAX]
    return await ask_next(update, context)


async def choose_province(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores a province from the buttons, or asks to type it for "Tỉnh khác"."""
    assert update.callback_query is not None and update.callback_query.data is not None
    raw = update.callback_query.data.rsplit(":", 1)[1]
    if raw == "other":
        await _close_buttons(update, texts.LEAD_BTN_OTHER_PROVINCE)
        await _send(update, context, texts.LEAD_ASK_PROVINCE_TEXT)
        return PROVINCE_TEXT
    labels = _criteria_labels(context, "province")
    if int(raw) >= len(labels):
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)
        return await ask_next(update, context)
    await _close_buttons(update, labels[int(raw)])
    _draft(context)["province"] = labels[int(raw)][:PROVINCE_MAX]
    return await ask_next(update, context)


async def receive_province(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores a typed province."""
    province = await _text_answer(update, context, PROVINCE_MAX)
    if province is None:
        return PROVINCE_TEXT
    _draft(context)["province"] = province
    return await ask_next(update, context)


async def receive_district(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores the district/commune, typed."""
    district = await _text_answer(update, context, DISTRICT_MAX)
    if district is None:
        return DISTRICT
    _draft(context)["district"] = district
    return await ask_next(update, context)


async def skip_district(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leaves the district empty."""
    await _close_buttons(update, texts.LEAD_BTN_SKIP)
    _draft(context)["district"] = None
    return await ask_next(update, context)


async def toggle_support(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Toggles a support item, or stores the selection on "Xong"/"Chưa rõ"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    raw = query.data.rsplit(":", 1)[1]
    draft = _draft(context)
    selection: list[str] = list(draft.get("support_selection", []))
    if raw in {"done", "u"}:
        chosen = selection if raw == "done" else []
        await _close_buttons(update, ", ".join(chosen) or texts.LEAD_BTN_UNKNOWN)
        draft["support_items"] = chosen
        draft.pop("support_selection", None)
        return await ask_next(update, context)
    labels = _criteria_labels(context, "support")
    if int(raw) >= len(labels):
        await query.answer(texts.LEAD_USE_BUTTONS)
        return SUPPORT
    await query.answer()
    label = labels[int(raw)]
    if label in selection:
        selection.remove(label)
    else:
        selection.append(label)
    draft["support_selection"] = selection
    try:
        await query.edit_message_reply_markup(reply_markup=_support_keyboard(context))
    except BadRequest as exc:
        logger.debug("Could not refresh the support buttons: %s", exc)
    return SUPPORT


async def receive_support_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stores a typed need, together with any items already ticked."""
    need = await _text_answer(update, context, SUPPORT_ITEM_MAX)
    if need is None:
        return SUPPORT
    draft = _draft(context)
    draft["support_items"] = [*draft.pop("support_selection", []), need]
    return await ask_next(update, context)


async def receive_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Records consent, or ends without storing anything."""
    assert update.callback_query is not None and update.callback_query.data is not None
    if update.callback_query.data.endswith(":yes"):
        await _close_buttons(update, texts.LEAD_BTN_CONSENT_YES)
        _draft(context)["consent_at"] = datetime.now(UTC).isoformat()
        return await ask_next(update, context)
    await _close_buttons(update, texts.LEAD_BTN_CONSENT_NO)
    _user_data(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_NO_CONSENT)
    return ConversationHandler.END


async def show_edit_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Shows the fields the user can change."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    rows = [
        [InlineKeyboardButton(label, callback_data=f"lead:edit:{key}")]
        for key, (label, _) in _EDIT_FIELDS.items()
    ]
    rows.append(
        [InlineKeyboardButton(texts.LEAD_BTN_BACK_TO_SUMMARY, callback_data="lead:edit:back")]
    )
    await _send(update, context, texts.LEAD_ASK_EDIT, InlineKeyboardMarkup(rows))
    return EDIT


async def edit_field(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Clears the chosen field so it is asked again, then the summary returns."""
    query = update.callback_query
    assert query is not None and query.data is not None
    key = query.data.rsplit(":", 1)[1]
    draft = _draft(context)
    if key in _EDIT_FIELDS:
        label, fields = _EDIT_FIELDS[key]
        await _close_buttons(update, label)
        for field in fields:
            draft.pop(field, None)
    else:
        await _close_buttons(update, texts.LEAD_BTN_BACK_TO_SUMMARY)
    return await ask_next(update, context)


def _save_lead(db_engine: sqlalchemy.Engine, lead_in: LeadCreate) -> tuple[Lead, bool]:
    """Commits the lead in a worker thread; returns it and whether it is new."""
    from index.leads import crud
    from index.leads.db import session_scope

    with session_scope(db_engine) as session:
        return crud.upsert_lead(session=session, lead_in=lead_in)


def _lead_create(update: Update, draft: dict[str, Any]) -> LeadCreate:
    user = update.effective_user
    return LeadCreate(
        telegram_user_id=user.id if user else None,
        telegram_username=user.username if user else None,
        full_name=draft["full_name"],
        phone=draft["phone"],
        establishment_name=draft["establishment_name"],
        establishment_type=draft.get("establishment_type"),
        sector=draft.get("sector"),
        province=draft["province"],
        district=draft.get("district"),
        support_items=list(draft.get("support_items", [])),
        eligibility_answers=dict(draft.get("eligibility_answers", {})),
        question=draft.get("question"),
        consent_at=datetime.fromisoformat(draft["consent_at"]),
    )


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Commits the lead, then (only then) tells the user, then notifies the staff."""
    query = update.callback_query
    assert query is not None
    user_data = _user_data(context)
    draft = user_data.get(DRAFT_KEY)
    if user_data.get(SUBMITTING_KEY) or not isinstance(draft, dict):
        await query.answer(texts.LEAD_ALREADY_SAVED)
        return None
    # Marked before any await, so a second tap while this one runs cannot save twice.
    user_data[SUBMITTING_KEY] = True
    await query.answer()
    try:
        lead_in = _lead_create(update, draft)
        lead, created = await asyncio.to_thread(_save_lead, get_db(context), lead_in)
    except (ValidationError, KeyError, ValueError) as exc:
        logger.warning("Lead draft rejected: %s", exc)
        user_data[SUBMITTING_KEY] = False
        await _send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    except Exception:
        # Whatever broke (database down, disk full), the user must not be told it was saved.
        logger.exception("Saving a lead failed")
        user_data[SUBMITTING_KEY] = False
        await _send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    user_data.pop(DRAFT_KEY, None)
    user_data[LAST_LEAD_KEY] = lead.id
    template = texts.LEAD_SAVED_NEW if created else texts.LEAD_SAVED_UPDATE
    await _send(update, context, template.format(lead_id=lead.id, phone=html.escape(lead.phone)))
    await _notify_staff(context, lead, created=created)
    return ConversationHandler.END


async def _notify_staff(context: ContextTypes.DEFAULT_TYPE, lead: Lead, *, created: bool) -> None:
    try:
        from bot.handlers import staff

        notify = getattr(staff, "notify_new_lead", None)
        if notify is None:
            logger.warning("bot.handlers.staff.notify_new_lead is missing; staff not notified")
            return
        await notify(context, lead, updated=not created)
    except Exception:
        # The lead is saved; a failed staff message must not reach the user.
        logger.exception("Notifying the staff about lead %s failed", lead.id)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Cancels the registration at any step; nothing is stored."""
    _user_data(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_CANCELLED, ReplyKeyboardRemove())
    return ConversationHandler.END


async def leave_for_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Ends the registration for /kiemtra or /start, then lets that command run."""
    _user_data(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_PAUSED, ReplyKeyboardRemove())
    await _hand_over(update, context)
    return ConversationHandler.END


async def _hand_over(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispatches the update to the first later handler of our group that wants it.

    The application stops at the first handler of a group, and this conversation claimed the
    update; running the next matching handler directly (the /kiemtra conversation, /start)
    lets that handler update its own state as if it had received the update itself.
    """
    application = context.application
    for handlers in application.handlers.values():
        position = next(
            (
                index
                for index, handler in enumerate(handlers)
                if isinstance(handler, ConversationHandler) and handler.name == CONVERSATION_NAME
            ),
            None,
        )
        if position is None:
            continue
        for handler in handlers[position + 1 :]:
            check = handler.check_update(update)
            if check is not None and check is not False:
                await handler.handle_update(update, application, check, cast(Any, context))
                return


async def reask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Asks the current question again after input it cannot use (sticker, photo, text)."""
    message = update.effective_message
    prefix = texts.LEAD_USE_BUTTONS if message is not None and message.text else None
    if prefix is None:
        prefix = texts.LEAD_TEXT_ONLY
    return await ask_next(update, context, prefix)


async def old_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:  # noqa: ARG001
    """Answers a button of an earlier step without changing the step."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers registration buttons pressed after the registration ended."""
    query = update.callback_query
    if query is None:
        return
    if query.data == "lead:confirm" and _user_data(context).get(LAST_LEAD_KEY) is not None:
        await query.answer(texts.LEAD_ALREADY_SAVED)
        return
    await query.answer(texts.LEAD_STALE, show_alert=True)


def build_conversation(
    *, persistent: bool, routed: RoutedFilter | None = None
) -> ConversationHandler[Any]:
    """Builds the /dangky conversation (also entered from a routed free-text request)."""
    # New messages only: an edited earlier answer must not count as the current one.
    new = filters.UpdateType.MESSAGE
    text = new & filters.TEXT & ~filters.COMMAND
    other = new & ~filters.TEXT & ~filters.COMMAND
    # per_message=False on purpose: the conversation mixes commands, text and buttons of
    # several messages, so PTB's warning about tracking buttons per message does not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("dangky", start_registration),
                CallbackQueryHandler(start_registration, pattern=r"^(lead:start|menu:register)$"),
                *([MessageHandler(text & routed, start_registration)] if routed else []),  # type: ignore[list-item]
            ],
            states={
                NAME: [MessageHandler(text, receive_name)],
                PHONE: [MessageHandler((new & filters.CONTACT) | text, receive_phone)],
                ESTABLISHMENT: [MessageHandler(text, receive_establishment)],
                TYPE: [
                    CallbackQueryHandler(choose_type, pattern=r"^lead:type:\d+$"),
                    MessageHandler(text, receive_type_text),
                ],
                PROVINCE: [
                    CallbackQueryHandler(choose_province, pattern=r"^lead:prov:(\d+|other)$"),
                    MessageHandler(text, receive_province),
                ],
                PROVINCE_TEXT: [MessageHandler(text, receive_province)],
                DISTRICT: [
                    CallbackQueryHandler(skip_district, pattern=r"^lead:district:skip$"),
                    MessageHandler(text, receive_district),
                ],
                SUPPORT: [
                    CallbackQueryHandler(toggle_support, pattern=r"^lead:sup:(\d+|done|u)$"),
                    MessageHandler(text, receive_support_text),
                ],
                CONSENT: [
                    CallbackQueryHandler(receive_consent, pattern=r"^lead:consent:(yes|no)$")
                ],
                CONFIRM: [
                    CallbackQueryHandler(confirm, pattern=r"^lead:confirm$"),
                    CallbackQueryHandler(show_edit_menu, pattern=r"^lead:edit$"),
                ],
                EDIT: [CallbackQueryHandler(edit_field, pattern=r"^lead:edit:\w+$")],
            },
            fallbacks=[
                CommandHandler("huy", cancel),
                CommandHandler(["kiemtra", "start"], leave_for_command),
                CallbackQueryHandler(leave_for_command, pattern=r"^menu:check$"),
                # Buttons of an earlier message of this registration.
                CallbackQueryHandler(old_button, pattern=r"^lead:(?!start$)"),
                MessageHandler(text | other, reask),
            ],
            allow_reentry=True,
            name=CONVERSATION_NAME,
            persistent=persistent,
        )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registers /dangky and the answer for its buttons pressed after it ended."""
    routed = RoutedFilter()
    conversation = build_conversation(persistent=app.persistence is not None, routed=routed)
    app.add_handler(conversation)
    add_route(app, ("register", "talk_to_staff"), conversation, routed)
    # After the conversation, so it only sees presses the conversation did not claim.
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^lead:(?!start$)"))

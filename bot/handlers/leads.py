"""/dangky: registration for advice, one question at a time, stored only with consent.

The answers live in a `LeadDraft` in user_data (persisted, so a restart resumes at the same
step). Each step stores one answer and calls `ask_next`, which asks for the draft's
`next_missing()` field; editing a field from the summary clears it, so the same path asks for
it again and then returns to the summary. A draft left for `conversation_timeout_minutes` is
deleted (see bot.conversations).

Callback data: "lead:start" (entry), "lead:type:<i>", "lead:prov:<i>", "lead:prov:other",
"lead:district:skip", "lead:sup:<i>", "lead:sup:done", "lead:sup:u", "lead:consent:yes",
"lead:consent:no", "lead:confirm", "lead:edit", "lead:edit:<field>", "lead:edit:back".
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters
from telegram.ext import MessageHandler as Msg

from bot import texts
from bot.chat_policy import deep_link_filter
from bot.context import BotApplication, BotContext, app_settings, get_db, get_settings, user_state
from bot.conversations import (
    CONVERSATION_GROUP,
    build_conversation,
    conversation_step,
    forget_on_timeout,
)
from bot.handlers.eligibility import RESULT_KEY, criteria_for
from bot.lead_views import inline_buttons, phone_keyboard, registration_summary, support_keyboard
from bot.routing import RoutedFilter, add_route
from index.eligibility import CriteriaError
from index.leads import crud
from index.leads.db import session_scope
from index.leads.draft import DraftField, LeadDraft
from index.leads.models import (
    DISTRICT_MAX,
    ESTABLISHMENT_MAX,
    NAME_MAX,
    PROVINCE_MAX,
    SUPPORT_ITEM_MAX,
    TYPE_MAX,
    LeadCreate,
)
from index.leads.phones import normalize_vn_phone
from index.leads.provinces import resolve_province

if TYPE_CHECKING:
    import sqlalchemy

    from index.leads.models import Lead

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

CONVERSATION_NAME = "registration"
#: user_data keys owned by this module.
DRAFT_KEY = "lead_draft"
SUBMITTING_KEY = "lead_submitting"
LAST_LEAD_KEY = "last_lead_id"
#: How many province buttons to offer before "Tỉnh khác".
PROVINCE_BUTTONS = 12
PHONE_EXAMPLE = "0912 345 678"
#: How often drafts left behind by a restart are looked for (seconds).
SWEEP_INTERVAL = 300

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


def _draft(context: BotContext) -> LeadDraft:
    data = user_state(context)
    draft = LeadDraft.from_stored(data.get(DRAFT_KEY))
    data[DRAFT_KEY] = draft
    return draft


async def _send(
    update: Update,
    context: BotContext,
    text: str,
    markup: Markup | ReplyKeyboardRemove | None = None,
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


def _criteria_labels(context: BotContext, kind: str) -> list[str]:
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


def _support_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    labels = _criteria_labels(context, "support")
    return support_keyboard(labels, set(_draft(context).support_selection))


def _question(context: BotContext, field: DraftField) -> tuple[int, str, Markup | None]:
    """The state, prompt and buttons that ask for one field of the draft."""
    if field == "full_name":
        return NAME, texts.LEAD_ASK_NAME, None
    if field == "phone":
        return PHONE, texts.LEAD_ASK_PHONE, phone_keyboard(PHONE_EXAMPLE)
    if field == "establishment_name":
        return ESTABLISHMENT, texts.LEAD_ASK_ESTABLISHMENT, None
    if field == "establishment_type":
        labels = _criteria_labels(context, "type")
        rows = [[(label, f"lead:type:{index}")] for index, label in enumerate(labels)]
        return TYPE, texts.LEAD_ASK_TYPE, inline_buttons(rows) if rows else None
    if field == "province":
        labels = _criteria_labels(context, "province")
        buttons = [(label, f"lead:prov:{index}") for index, label in enumerate(labels)]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([(texts.LEAD_BTN_OTHER_PROVINCE, "lead:prov:other")])
        return PROVINCE, texts.LEAD_ASK_PROVINCE, inline_buttons(rows)
    if field == "district":
        skip = [(texts.LEAD_BTN_SKIP, "lead:district:skip")]
        return DISTRICT, texts.LEAD_ASK_DISTRICT, inline_buttons([skip])
    if field == "support_items":
        return SUPPORT, texts.LEAD_ASK_SUPPORT, _support_keyboard(context)
    consent = [
        (texts.LEAD_BTN_CONSENT_YES, "lead:consent:yes"),
        (texts.LEAD_BTN_CONSENT_NO, "lead:consent:no"),
    ]
    return CONSENT, texts.LEAD_ASK_CONSENT, inline_buttons([consent])


async def ask_next(update: Update, context: BotContext, prefix: str | None = None) -> int:
    """Asks for the first field still missing from the draft, or shows the summary."""
    draft = _draft(context)
    draft.touch()
    lead_in = f"{prefix}\n\n" if prefix else ""
    field = draft.next_missing()
    if field is None:
        row = [(texts.LEAD_BTN_CONFIRM, "lead:confirm"), (texts.LEAD_BTN_EDIT, "lead:edit")]
        await _send(update, context, lead_in + registration_summary(draft), inline_buttons([row]))
        return CONFIRM
    state, prompt, markup = _question(context, field)
    await _send(update, context, lead_in + prompt, markup)
    return state


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
        await _send(update, context, texts.LEAD_TOO_LONG.format(limit=limit))
        return None
    if len(text) < 2 and limit > 2:
        await _send(update, context, texts.LEAD_TOO_SHORT)
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
        setattr(_draft(context), field, clean(value))
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
        await _send(update, context, texts.LEAD_BAD_PHONE)
        return PHONE
    _draft(context).phone = phone
    await _send(update, context, f"✔️ {html.escape(phone)}", ReplyKeyboardRemove())
    return await ask_next(update, context)


async def _choose(update: Update, context: BotContext, kind: str, field: DraftField) -> int:
    """Stores the label of the pressed button ("lead:<kind>:<index>")."""
    assert update.callback_query is not None and update.callback_query.data is not None
    labels = _criteria_labels(context, kind)
    index = int(update.callback_query.data.rsplit(":", 1)[1])
    if index >= len(labels):
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)
        return await ask_next(update, context)
    await _close_buttons(update, labels[index])
    limit = TYPE_MAX if field == "establishment_type" else PROVINCE_MAX
    setattr(_draft(context), field, labels[index][:limit])
    return await ask_next(update, context)


async def choose_type(update: Update, context: BotContext) -> int:
    """Stores the establishment type picked from the buttons."""
    return await _choose(update, context, "type", "establishment_type")


async def choose_province(update: Update, context: BotContext) -> int:
    """Stores a province from the buttons, or asks to type it for "Tỉnh khác"."""
    assert update.callback_query is not None and update.callback_query.data is not None
    if update.callback_query.data.endswith(":other"):
        await _close_buttons(update, texts.LEAD_BTN_OTHER_PROVINCE)
        await _send(update, context, texts.LEAD_ASK_PROVINCE_TEXT)
        return PROVINCE_TEXT
    return await _choose(update, context, "province", "province")


async def skip_district(update: Update, context: BotContext) -> int:
    """Leaves the district empty."""
    await _close_buttons(update, texts.LEAD_BTN_SKIP)
    _draft(context).skip("district")
    return await ask_next(update, context)


async def toggle_support(update: Update, context: BotContext) -> int:
    """Toggles a support item, or stores the selection on "Xong"/"Chưa rõ"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    raw = query.data.rsplit(":", 1)[1]
    draft = _draft(context)
    if raw in {"done", "u"}:
        chosen = list(draft.support_selection) if raw == "done" else []
        await _close_buttons(update, ", ".join(chosen) or texts.LEAD_BTN_UNKNOWN)
        draft.support_items = chosen
        draft.support_selection = []
        return await ask_next(update, context)
    labels = _criteria_labels(context, "support")
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
        await query.edit_message_reply_markup(reply_markup=_support_keyboard(context))
    except BadRequest as exc:
        logger.debug("Could not refresh the support buttons: %s", exc)
    return SUPPORT


async def receive_support_text(update: Update, context: BotContext) -> int:
    """Stores a typed need, together with any items already ticked."""
    need = await _text_answer(update, context, SUPPORT_ITEM_MAX)
    if need is None:
        return SUPPORT
    draft = _draft(context)
    draft.support_items = [*draft.support_selection, need]
    draft.support_selection = []
    return await ask_next(update, context)


async def receive_consent(update: Update, context: BotContext) -> int:
    """Records consent, or ends without storing anything."""
    assert update.callback_query is not None and update.callback_query.data is not None
    if update.callback_query.data.endswith(":yes"):
        await _close_buttons(update, texts.LEAD_BTN_CONSENT_YES)
        _draft(context).consent_at = datetime.now(UTC)
        return await ask_next(update, context)
    await _close_buttons(update, texts.LEAD_BTN_CONSENT_NO)
    user_state(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_NO_CONSENT)
    return ConversationHandler.END


async def show_edit_menu(update: Update, context: BotContext) -> int:
    """Shows the fields the user can change."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    rows = [[(label, f"lead:edit:{key}")] for key, (label, _) in _EDIT_FIELDS.items()]
    rows.append([(texts.LEAD_BTN_BACK_TO_SUMMARY, "lead:edit:back")])
    await _send(update, context, texts.LEAD_ASK_EDIT, inline_buttons(rows))
    return EDIT


async def edit_field(update: Update, context: BotContext) -> int:
    """Clears the chosen field so it is asked again, then the summary returns."""
    query = update.callback_query
    assert query is not None and query.data is not None
    key = query.data.rsplit(":", 1)[1]
    if key in _EDIT_FIELDS:
        label, fields = _EDIT_FIELDS[key]
        await _close_buttons(update, label)
        _draft(context).clear(*fields)
    else:
        await _close_buttons(update, texts.LEAD_BTN_BACK_TO_SUMMARY)
    return await ask_next(update, context)


def _save_lead(
    db_engine: sqlalchemy.Engine, lead_in: LeadCreate, *, announce: bool
) -> tuple[Lead, bool]:
    """Commits the lead (and its staff announcement) in a worker thread; returns it and
    whether it is new."""
    with session_scope(db_engine) as session:
        return crud.upsert_lead(session=session, lead_in=lead_in, announce=announce)


async def confirm(update: Update, context: BotContext) -> int | None:
    """Commits the lead with its staff announcement, then (only then) tells the user.

    The announcement goes out from the outbox (bot/handlers/announcements.py), so a slow or
    unreachable staff chat never delays the confirmation.
    """
    query = update.callback_query
    assert query is not None
    data = user_state(context)
    if data.get(SUBMITTING_KEY) or data.get(DRAFT_KEY) is None:
        await query.answer(texts.LEAD_ALREADY_SAVED)
        return None
    # Marked before any await, so a second tap while this one runs cannot save twice.
    data[SUBMITTING_KEY] = True
    await query.answer()
    user = update.effective_user
    try:
        lead_in = _draft(context).to_lead_create(
            telegram_user_id=user.id if user else None,
            telegram_username=user.username if user else None,
        )
        announce = get_settings(context).staff_chat_id is not None
        lead, created = await asyncio.to_thread(
            _save_lead, get_db(context), lead_in, announce=announce
        )
    except (ValidationError, ValueError) as exc:
        logger.warning("Lead draft rejected: %s", exc)
        data[SUBMITTING_KEY] = False
        await _send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    except Exception:
        # Whatever broke (database down, disk full), the user must not be told it was saved.
        logger.exception("Saving a lead failed")
        data[SUBMITTING_KEY] = False
        await _send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    data.pop(DRAFT_KEY, None)
    data[LAST_LEAD_KEY] = lead.id
    template = texts.LEAD_SAVED_NEW if created else texts.LEAD_SAVED_UPDATE
    await _send(update, context, template.format(lead_id=lead.id, phone=html.escape(lead.phone)))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Cancels the registration at any step; nothing is stored."""
    user_state(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_CANCELLED, ReplyKeyboardRemove())
    return ConversationHandler.END


async def leave_for_command(update: Update, context: BotContext) -> int:
    """Ends the registration for /kiemtra, /start or /xoadulieu; that command then runs.

    Not wrapped in conversation_step: without ApplicationHandlerStop the update goes on to
    group 0, where the command's own handler takes it.
    """
    user_state(context).pop(DRAFT_KEY, None)
    await _send(update, context, texts.LEAD_PAUSED, ReplyKeyboardRemove())
    return ConversationHandler.END


async def timed_out(update: Update, context: BotContext) -> None:
    """Deletes the draft of a registration left unanswered and tells the owner."""
    await forget_on_timeout(
        update, context, keys=(DRAFT_KEY, SUBMITTING_KEY), text=texts.LEAD_TIMED_OUT
    )


async def reask(update: Update, context: BotContext) -> int:
    """Asks the current question again after input it cannot use (sticker, photo, text)."""
    message = update.effective_message
    prefix = texts.LEAD_USE_BUTTONS if message is not None and message.text else None
    return await ask_next(update, context, prefix or texts.LEAD_TEXT_ONLY)


async def old_button(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Answers a button of an earlier step without changing the step."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.LEAD_USE_BUTTONS)


async def stale_button(update: Update, context: BotContext) -> None:
    """Answers registration buttons pressed after the registration ended."""
    query = update.callback_query
    if query is None:
        return
    if query.data == "lead:confirm" and user_state(context).get(LAST_LEAD_KEY) is not None:
        await query.answer(texts.LEAD_ALREADY_SAVED)
        return
    await query.answer(texts.LEAD_STALE, show_alert=True)


async def sweep_abandoned_drafts(context: BotContext) -> None:
    """Deletes drafts older than the conversation timeout that no timeout job will end.

    PTB does not persist conversation timeouts: after a restart, a registration left before
    it would keep its draft (name, phone) forever. This job catches those.
    """
    settings = get_settings(context)
    if settings.conversation_timeout_minutes <= 0:
        return
    timeout = timedelta(minutes=settings.conversation_timeout_minutes)
    application = context.application
    for user_id, data in list(application.user_data.items()):
        if data.get(DRAFT_KEY) is None:
            continue
        # A dict from an earlier version becomes a draft whose clock starts now.
        draft = data[DRAFT_KEY] = LeadDraft.from_stored(data[DRAFT_KEY])
        if draft.abandoned(timeout):
            data.pop(DRAFT_KEY, None)
            data.pop(SUBMITTING_KEY, None)
            application.mark_data_for_update_persistence(user_ids=user_id)
            logger.info("Deleted the abandoned registration draft of user %s", user_id)


def build_registration(
    *, persistent: bool, timeout_minutes: float, routed: RoutedFilter | None = None
) -> ConversationHandler[Any]:
    """Builds the /dangky conversation (every step stops the update; see bot.conversations).

    `routed` adds an entry point for a free-text request the answer handler routed here
    ("tôi muốn đăng ký tư vấn", see bot/routing.py).
    """
    # New messages only: an edited earlier answer must not count as the current one.
    new = filters.UpdateType.MESSAGE
    text = new & filters.TEXT & ~filters.COMMAND
    other = new & ~filters.TEXT & ~filters.COMMAND
    step = conversation_step
    start_link = deep_link_filter("dangky")

    def button(callback: Any, pattern: str) -> CallbackQueryHandler[Any, Any]:
        return CallbackQueryHandler(step(callback), pattern=pattern)

    return build_conversation(
        name=CONVERSATION_NAME,
        entry_points=[
            CommandHandler("dangky", step(start_registration)),
            # The deep link a group's /dangky answers with (bot.chat_policy).
            CommandHandler("start", step(start_registration), filters=start_link),
            button(start_registration, r"^(lead:start|menu:register)$"),
            *([Msg(text & routed, step(start_registration))] if routed else []),
        ],
        states={
            NAME: [Msg(text, step(receive_name))],
            PHONE: [Msg((new & filters.CONTACT) | text, step(receive_phone))],
            ESTABLISHMENT: [Msg(text, step(receive_establishment))],
            TYPE: [button(choose_type, r"^lead:type:\d+$"), Msg(text, step(receive_type_text))],
            PROVINCE: [
                button(choose_province, r"^lead:prov:(\d+|other)$"),
                Msg(text, step(receive_province)),
            ],
            PROVINCE_TEXT: [Msg(text, step(receive_province))],
            DISTRICT: [
                button(skip_district, r"^lead:district:skip$"),
                Msg(text, step(receive_district)),
            ],
            SUPPORT: [
                button(toggle_support, r"^lead:sup:(\d+|done|u)$"),
                Msg(text, step(receive_support_text)),
            ],
            CONSENT: [button(receive_consent, r"^lead:consent:(yes|no)$")],
            CONFIRM: [
                button(confirm, r"^lead:confirm$"),
                button(show_edit_menu, r"^lead:edit$"),
            ],
            EDIT: [button(edit_field, r"^lead:edit:\w+$")],
        },
        fallbacks=[
            CommandHandler("huy", step(cancel)),
            CommandHandler("start", step(start_registration), filters=start_link),
            # Not stopped: these commands end the registration and then run themselves.
            CommandHandler(["kiemtra", "start", "xoadulieu"], leave_for_command),
            CallbackQueryHandler(leave_for_command, pattern=r"^menu:check$"),
            # Buttons of an earlier message of this registration.
            button(old_button, r"^lead:(?!start$)"),
            Msg(text | other, step(reask)),
        ],
        persistent=persistent,
        timeout_minutes=timeout_minutes,
        on_timeout=timed_out,
    )


def register(app: BotApplication) -> None:
    """Registers /dangky in the conversation group and the answer for its stale buttons."""
    settings = app_settings(app)
    routed = RoutedFilter()
    conversation = build_registration(
        persistent=app.persistence is not None,
        timeout_minutes=settings.conversation_timeout_minutes,
        routed=routed,
    )
    app.add_handler(conversation, group=CONVERSATION_GROUP)
    add_route(app, ("register", "talk_to_staff"), conversation, routed)
    # Group 0, so it only sees presses the conversation did not claim.
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^lead:(?!start$)"))
    if app.job_queue is not None and settings.conversation_timeout_minutes > 0:
        # Every few minutes is plenty next to a 30-minute timeout; the first run after start-up
        # catches the drafts a restart left without their timeout job.
        app.job_queue.run_repeating(
            sweep_abandoned_drafts, interval=SWEEP_INTERVAL, first=60, name="draft-sweep"
        )

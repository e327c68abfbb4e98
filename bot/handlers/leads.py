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
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from telegram import ReplyKeyboardRemove, Update
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
from bot.handlers.lead_prompts import (
    CONFIRM,
    CONSENT,
    DISTRICT,
    DRAFT_KEY,
    EDIT,
    ESTABLISHMENT,
    LAST_LEAD_KEY,
    NAME,
    PHONE,
    PROVINCE,
    PROVINCE_TEXT,
    SUBMITTING_KEY,
    SUPPORT,
    TYPE,
    ask_next,
    draft_of,
    send,
)
from bot.handlers.lead_steps import (
    choose_province,
    choose_type,
    edit_field,
    receive_consent,
    receive_district,
    receive_establishment,
    receive_name,
    receive_phone,
    receive_province,
    receive_support_text,
    receive_type_text,
    show_edit_menu,
    skip_district,
    start_registration,
    toggle_support,
)
from bot.routing import RoutedFilter, add_route
from index.leads import crud
from index.leads.db import session_scope
from index.leads.draft import LeadDraft
from index.leads.models import (
    LeadCreate,
)

if TYPE_CHECKING:
    import sqlalchemy

    from index.leads.models import Lead

logger = logging.getLogger(__name__)

CONVERSATION_NAME = "registration"
#: How often drafts left behind by a restart are looked for (seconds).
SWEEP_INTERVAL = 300


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
        lead_in = draft_of(context).to_lead_create(
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
        await send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    except Exception:
        # Whatever broke (database down, disk full), the user must not be told it was saved.
        logger.exception("Saving a lead failed")
        data[SUBMITTING_KEY] = False
        await send(update, context, texts.LEAD_NOT_SAVED)
        return CONFIRM
    data.pop(DRAFT_KEY, None)
    data[LAST_LEAD_KEY] = lead.id
    template = texts.LEAD_SAVED_NEW if created else texts.LEAD_SAVED_UPDATE
    await send(update, context, template.format(lead_id=lead.id, phone=html.escape(lead.phone)))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Cancels the registration at any step; nothing is stored."""
    user_state(context).pop(DRAFT_KEY, None)
    await send(update, context, texts.LEAD_CANCELLED, ReplyKeyboardRemove())
    return ConversationHandler.END


async def leave_for_command(update: Update, context: BotContext) -> int:
    """Ends the registration for /kiemtra, /start or /xoadulieu; that command then runs.

    Not wrapped in conversation_step: without ApplicationHandlerStop the update goes on to
    group 0, where the command's own handler takes it.
    """
    user_state(context).pop(DRAFT_KEY, None)
    await send(update, context, texts.LEAD_PAUSED, ReplyKeyboardRemove())
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

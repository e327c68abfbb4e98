"""Admins set a document's legal status in Telegram: /status, buttons, then the number.

`/status 29/2014/QĐ-UBND` shows the document with one button per status. "Đã sửa đổi" and
"Bị thay thế" then ask for the amending or replacing document's number, "Hết hiệu lực" for
the date. The change is stored as data (`index.lifecycle`, no file of the document is
edited) and the running engine applies it to the next answer. Every command, button and
reply is checked against the admin list.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.access import restricted
from bot.answer_views import document_lines
from bot.context import BotApplication, BotContext, app_settings, get_engine, get_settings
from bot.conversations import (
    CONVERSATION_GROUP,
    build_conversation,
    conversation_step,
    forget_on_timeout,
)
from index.dates import parse_vn_date
from index.lifecycle import LifecycleError, make_change, resolve_document, write_override

logger = logging.getLogger(__name__)

#: user_data key of the document whose status buttons were shown.
STATUS_KEY = "admin_status"
#: Conversation state: waiting for the amending/replacing number or the expiry date.
STATUS_DETAIL = 0
#: Matches shown when /status is ambiguous.
MAX_CHOICES = 10
_BUTTONS_RE = r"^admin:st:[0-9a-f]{8}:(in_force|amended|superseded|expired|clear)$"
_SKIP = {"-", "–", "—", "không", "khong", "chua ro", "chưa rõ"}


def status_keyboard(token: str) -> InlineKeyboardMarkup:
    """One button per status an admin can set, plus "back to the file's own status"."""
    buttons = [
        InlineKeyboardButton(label, callback_data=f"admin:st:{token}:{code}")
        for code, label in texts.ADMIN_STATUS_BUTTONS.items()
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:4], buttons[4:]])


@restricted("admin")
async def status_command(update: Update, context: BotContext) -> None:
    """Finds the document named in /status and shows its status with the buttons."""
    message = update.effective_message
    assert message is not None
    query = " ".join(context.args or []).strip()
    if not query:
        await message.reply_text(texts.ADMIN_STATUS_USAGE)
        return
    matches = resolve_document(get_engine(context).sources(), query)
    if not matches:
        await message.reply_text(texts.ADMIN_STATUS_NOT_FOUND.format(query=html.escape(query)))
        return
    if len(matches) > 1:
        choices = "\n".join(
            f"• <code>{html.escape(doc.number or doc.doc_id)}</code> — {html.escape(doc.title)}"
            for doc in matches[:MAX_CHOICES]
        )
        await message.reply_text(
            texts.ADMIN_STATUS_AMBIGUOUS.format(query=html.escape(query), choices=choices)
        )
        return
    doc = matches[0]
    token = secrets.token_hex(4)
    if context.user_data is not None:
        context.user_data[STATUS_KEY] = {"token": token, "doc_id": doc.doc_id}
    name, status = document_lines(doc)
    await message.reply_text(
        texts.ADMIN_STATUS_CARD.format(
            title=html.escape(name), status=html.escape(status), doc_id=html.escape(doc.doc_id)
        ),
        reply_markup=status_keyboard(token),
    )


async def _apply(
    update: Update, context: BotContext, status: str, detail: str | None = None
) -> int:
    """Stores the change and replies with the document's new status."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    pending = context.user_data.pop(STATUS_KEY, None) if context.user_data is not None else None
    if not isinstance(pending, dict):
        await context.bot.send_message(chat.id, texts.ADMIN_STATUS_EXPIRED)
        return ConversationHandler.END
    doc_id = str(pending["doc_id"])
    by: list[str] = []
    on: str | None = None
    if detail is not None and status == "expired":
        on = detail
    elif detail is not None:
        by = [part.strip() for part in re.split(r"[,;]", detail) if part.strip()]
    settings = get_settings(context)
    try:
        change = (
            None
            if status == "clear"
            else make_change(status, by=by, on=on, changed_by=f"telegram:{user.id if user else ''}")
        )
        await asyncio.to_thread(write_override, settings.lifecycle_path, doc_id, change)
    except (LifecycleError, OSError) as exc:
        logger.warning("Status change of %s failed: %s", doc_id, exc)
        await context.bot.send_message(
            chat.id, texts.ADMIN_STATUS_FAILED.format(error=html.escape(str(exc)))
        )
        return ConversationHandler.END
    logger.info("Admin %s set %s to %s", user.id if user else None, doc_id, status)
    doc = next((d for d in get_engine(context).sources() if d.doc_id == doc_id), None)
    name, line = document_lines(doc) if doc is not None else (doc_id, status)
    await context.bot.send_message(
        chat.id, texts.ADMIN_STATUS_DONE.format(title=html.escape(name), status=html.escape(line))
    )
    return ConversationHandler.END


@restricted("admin")
async def status_button(update: Update, context: BotContext) -> int:
    """Applies a status at once, or asks for the number (amended, superseded) or date."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    _, _, token, status = query.data.split(":")
    pending = context.user_data.get(STATUS_KEY) if context.user_data is not None else None
    if not isinstance(pending, dict) or pending.get("token") != token:
        await query.edit_message_text(texts.ADMIN_STATUS_EXPIRED)
        return ConversationHandler.END
    await query.edit_message_reply_markup(reply_markup=None)
    if status in ("amended", "superseded"):
        pending["status"] = status
        relation = texts.ADMIN_STATUS_RELATION[status]
        await context.bot.send_message(
            query.message.chat.id if query.message else query.from_user.id,
            texts.ADMIN_STATUS_ASK_BY.format(relation=relation),
        )
        return STATUS_DETAIL
    if status == "expired":
        pending["status"] = status
        await context.bot.send_message(
            query.message.chat.id if query.message else query.from_user.id,
            texts.ADMIN_STATUS_ASK_DATE,
        )
        return STATUS_DETAIL
    return await _apply(update, context, status)


@restricted("admin")
async def status_detail(update: Update, context: BotContext) -> int:
    """Reads the amending/replacing number(s) or the expiry date, then applies the status."""
    message = update.effective_message
    assert message is not None
    pending = context.user_data.get(STATUS_KEY) if context.user_data is not None else None
    if not isinstance(pending, dict) or "status" not in pending:
        await message.reply_text(texts.ADMIN_STATUS_EXPIRED)
        return ConversationHandler.END
    status = str(pending["status"])
    text = " ".join((message.text or "").split())
    if text.lower() in _SKIP:
        return await _apply(update, context, status)
    if status == "expired" and parse_vn_date(text) is None:
        await message.reply_text(texts.ADMIN_STATUS_BAD_DATE.format(value=html.escape(text)))
        return STATUS_DETAIL
    return await _apply(update, context, status, text)


async def status_cancel(update: Update, context: BotContext) -> int:
    """Leaves the status conversation without changing anything."""
    if context.user_data is not None:
        context.user_data.pop(STATUS_KEY, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.ADMIN_STATUS_CANCELLED)
    return ConversationHandler.END


async def status_abandon(update: Update, context: BotContext) -> int:  # noqa: ARG001
    """Ends the conversation when another command comes in; that command still runs."""
    return ConversationHandler.END


async def status_timed_out(update: Update, context: BotContext) -> None:
    """Ends a status change whose number or date never came."""
    await forget_on_timeout(update, context, keys=(STATUS_KEY,), text=texts.ADMIN_STATUS_TIMED_OUT)


def register(app: BotApplication) -> None:
    """Adds /status and the status buttons (a conversation in the conversation group)."""
    step = conversation_step
    conversation = build_conversation(
        name="admin_status",
        entry_points=[CallbackQueryHandler(step(status_button), pattern=_BUTTONS_RE)],
        states={
            STATUS_DETAIL: [MessageHandler(filters.TEXT & ~filters.COMMAND, step(status_detail))],
        },
        fallbacks=[
            CommandHandler("huy", step(status_cancel)),
            MessageHandler(filters.COMMAND, status_abandon),
        ],
        persistent=app.persistence is not None,
        timeout_minutes=app_settings(app).conversation_timeout_minutes,
        on_timeout=status_timed_out,
    )
    app.add_handler(conversation, group=CONVERSATION_GROUP)
    app.add_handler(CommandHandler("status", status_command))

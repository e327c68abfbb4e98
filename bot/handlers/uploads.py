"""Admin document uploads in Telegram: show what the file says about itself, let the admin
correct it, refuse duplicates and broken files, then install and re-index in the background.

The file work (validation, de-duplication, copying, metadata) is `index.uploads`, shared
with `khuyencong add`; reading the admin's corrections is `bot.upload_meta`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.access import restricted
from bot.answer_views import document_lines, found_metadata_lines
from bot.context import BotApplication, BotContext, app_settings, get_settings
from bot.conversations import (
    CONVERSATION_GROUP,
    build_conversation,
    conversation_step,
    forget_on_timeout,
)
from bot.handlers.admin import start_reindex
from bot.upload_meta import MetaFormatError, found_values, parse_admin_meta
from index.documents import SIDECAR_SUFFIX, SOURCE_SUFFIXES
from index.errors import DocumentError
from index.uploads import (
    DuplicateDocumentError,
    find_duplicate,
    inspect_file,
    install_upload,
    safe_file_name,
)

if TYPE_CHECKING:
    from index.schema import DocumentMeta
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: The Bot API cannot hand bots files larger than this anyway.
MAX_UPLOAD_MB = 20

# Conversation state of an upload: waiting for the admin to confirm or correct metadata.
UPLOAD_META = 0
UPLOAD_KEY = "admin_upload"


# --- upload ---------------------------------------------------------------------------------


def _discard_staged(user_data: dict[Any, Any] | None) -> None:
    """Deletes the staged file of an unfinished upload, if any."""
    if user_data is None:
        return
    pending = user_data.pop(UPLOAD_KEY, None)
    if isinstance(pending, dict) and pending.get("dir"):
        shutil.rmtree(pending["dir"], ignore_errors=True)


def _check_staged(settings: Settings, staged: Path) -> DocumentMeta | str:
    """The metadata found in a staged upload, or the reply that refuses it."""
    duplicate = find_duplicate(settings, staged)
    if duplicate is not None:
        return texts.ADMIN_UPLOAD_DUPLICATE.format(doc_id=html.escape(duplicate))
    try:
        return inspect_file(settings, staged)
    except DocumentError as exc:
        return texts.ADMIN_UPLOAD_INVALID.format(error=html.escape(str(exc)))


@restricted("admin")
async def upload_received(update: Update, context: BotContext) -> int:
    """Downloads an admin's document, shows the metadata found in it and asks to confirm."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    name = document.file_name or "tai-lieu"
    suffix = Path(name).suffix.lower()
    if suffix not in SOURCE_SUFFIXES or name.lower().endswith(SIDECAR_SUFFIX):
        await message.reply_text(
            texts.ADMIN_UPLOAD_UNSUPPORTED.format(suffix=html.escape(suffix or name))
        )
        return ConversationHandler.END
    if document.file_size is not None and document.file_size > MAX_UPLOAD_MB * 1024 * 1024:
        await message.reply_text(texts.ADMIN_UPLOAD_TOO_BIG.format(limit=MAX_UPLOAD_MB))
        return ConversationHandler.END
    _discard_staged(context.user_data)
    settings = get_settings(context)
    staging = settings.data_dir / "staging" / secrets.token_hex(6)
    staging.mkdir(parents=True, exist_ok=True)
    staged = staging / safe_file_name(name)
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        await telegram_file.download_to_drive(staged)
    except TelegramError:
        logger.exception("Download of upload %s failed", name)
        shutil.rmtree(staging, ignore_errors=True)
        await message.reply_text(texts.ADMIN_UPLOAD_DOWNLOAD_FAILED)
        return ConversationHandler.END
    checked = await asyncio.to_thread(_check_staged, settings, staged)
    if isinstance(checked, str):
        shutil.rmtree(staging, ignore_errors=True)
        await message.reply_text(checked)
        return ConversationHandler.END
    found = found_values(checked, name)
    if context.user_data is not None:
        context.user_data[UPLOAD_KEY] = {
            "dir": str(staging), "path": str(staged), "name": name, "found": found,
        }  # fmt: skip
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.ADMIN_BUTTON_FROM_FILE, callback_data="admin:meta:file"),
                InlineKeyboardButton(texts.ADMIN_BUTTON_CANCEL, callback_data="admin:meta:cancel"),
            ]
        ]
    )
    lines = found_metadata_lines(found)
    await message.reply_text(
        texts.ADMIN_UPLOAD_ASK_META.format(
            name=html.escape(name),
            found="\n".join(html.escape(line) for line in lines) or texts.ADMIN_UPLOAD_NOTHING_FOUND,
        ),
        reply_markup=markup,
    )
    return UPLOAD_META


async def _finish_upload(
    update: Update, context: BotContext, typed: str | None
) -> int:
    """Validates and installs the staged file, then starts the background re-index."""
    chat = update.effective_chat
    assert chat is not None
    pending = context.user_data.get(UPLOAD_KEY) if context.user_data is not None else None
    if not isinstance(pending, dict) or not Path(pending["path"]).is_file():
        _discard_staged(context.user_data)
        await context.bot.send_message(chat.id, texts.ADMIN_UPLOAD_EXPIRED)
        return ConversationHandler.END
    found: dict[str, Any] = dict(pending.get("found") or {})
    # Accepted as found: nothing to store, the file says it again on every build.
    values: dict[str, Any] | None = None
    if typed is not None:
        try:
            values = parse_admin_meta(typed, found)
        except MetaFormatError as exc:
            await context.bot.send_message(chat.id, exc.reply)
            return UPLOAD_META
    settings = get_settings(context)
    try:
        installed = await asyncio.to_thread(install_upload, settings, Path(pending["path"]), values)
    except DuplicateDocumentError as exc:
        _discard_staged(context.user_data)
        await context.bot.send_message(
            chat.id, texts.ADMIN_UPLOAD_DUPLICATE.format(doc_id=html.escape(exc.doc_id))
        )
        return ConversationHandler.END
    except DocumentError as exc:
        _discard_staged(context.user_data)
        await context.bot.send_message(
            chat.id, texts.ADMIN_UPLOAD_INVALID.format(error=html.escape(str(exc)))
        )
        return ConversationHandler.END
    _discard_staged(context.user_data)
    name, status = document_lines(installed.meta)
    await context.bot.send_message(
        chat.id,
        texts.ADMIN_UPLOAD_SAVED.format(
            title=html.escape(name),
            status=html.escape(status),
            doc_id=html.escape(installed.doc_id),
        ),
    )
    start_reindex(context, chat_id=chat.id, rollback=installed.files)
    return ConversationHandler.END


@restricted("admin")
async def upload_meta_text(update: Update, context: BotContext) -> int:
    """Reads the admin's corrections ("Tiêu đề | Số hiệu | Ngày" or "trường: giá trị")."""
    message = update.effective_message
    assert message is not None
    return await _finish_upload(update, context, message.text or "")


@restricted("admin")
async def upload_meta_from_file(update: Update, context: BotContext) -> int:
    """Installs the upload with the metadata found in the file itself."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    if isinstance(query.message, Message):
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest:
            # A second press finds the buttons already gone; the upload goes on regardless.
            logger.debug("Metadata buttons already removed", exc_info=True)
    return await _finish_upload(update, context, None)


@restricted("admin")
async def upload_stale_button(update: Update, context: BotContext) -> None:
    """Answers a metadata button whose upload is no longer waiting."""
    query = update.callback_query
    assert query is not None
    _discard_staged(context.user_data)
    await query.answer(texts.ADMIN_UPLOAD_EXPIRED, show_alert=True)


async def upload_cancel(update: Update, context: BotContext) -> int:
    """Drops the staged file and leaves the upload conversation."""
    _discard_staged(context.user_data)
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, texts.ADMIN_UPLOAD_CANCELLED)
    return ConversationHandler.END


async def upload_abandon(update: Update, context: BotContext) -> int:  # noqa: ARG001
    """Drops the staged file when another command comes in; that command still runs."""
    _discard_staged(context.user_data)
    return ConversationHandler.END


# --- wiring ---------------------------------------------------------------------------------


async def upload_timed_out(update: Update, context: BotContext) -> None:
    """Drops the staged file of an upload whose metadata never came."""
    _discard_staged(context.user_data)
    await forget_on_timeout(update, context, keys=(), text=texts.ADMIN_UPLOAD_TIMED_OUT)


def register(app: BotApplication) -> None:
    """Adds the upload conversation in the conversation group, and the stale-button answer."""
    settings = app_settings(app)
    # Only admins' documents enter the upload flow; anyone else's fall through to the
    # generic fallback handler of group 0.
    admin_documents = (
        filters.Document.ALL
        & filters.ChatType.PRIVATE
        & filters.User(user_id=list(settings.admin_user_ids))
    )
    step = conversation_step
    upload_conversation = build_conversation(
        name="admin_upload",
        entry_points=[MessageHandler(admin_documents, step(upload_received))],
        states={
            UPLOAD_META: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, step(upload_meta_text)),
                CallbackQueryHandler(step(upload_meta_from_file), pattern=r"^admin:meta:file$"),
            ],
        },
        fallbacks=[
            CommandHandler("huy", step(upload_cancel)),
            CallbackQueryHandler(step(upload_cancel), pattern=r"^admin:meta:cancel$"),
            MessageHandler(filters.COMMAND, upload_abandon),
        ],
        persistent=app.persistence is not None,
        timeout_minutes=settings.conversation_timeout_minutes,
        on_timeout=upload_timed_out,
    )
    app.add_handler(upload_conversation, group=CONVERSATION_GROUP)
    app.add_handler(CallbackQueryHandler(upload_stale_button, pattern=r"^admin:meta:"))

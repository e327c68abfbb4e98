"""Admin tools in Telegram: background re-indexing, sources, removal (uploads: uploads.py)."""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import texts
from bot.access import restricted
from bot.answer_views import document_lines
from bot.context import BotApplication, BotContext, get_engine, get_settings
from index.build import BuildReport, build_index
from index.textnorm import fold_words
from index.uploads import (
    UPLOADS_PREFIX,
    delete_upload,
    find_removal,
    remove_files,
)

if TYPE_CHECKING:
    from index.engine import Engine
    from index.schema import DocumentMeta
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Shown in the command menu of admin chats (bot/app.py publishes them).
COMMANDS = [
    ("reindex", texts.ADMIN_COMMAND_REINDEX),
    ("sources", texts.ADMIN_COMMAND_SOURCES),
    ("status", texts.ADMIN_COMMAND_STATUS),
    ("remove", texts.ADMIN_COMMAND_REMOVE),
]

#: user_data key of a removal waiting for its confirmation button.
REMOVE_KEY = "admin_remove"

_REINDEX_FULL_WORDS = {"full", "day du", "toan bo", "tat ca"}


# --- background re-indexing -----------------------------------------------------------------


def _remove_files(paths: list[Path]) -> None:
    for path in remove_files(paths):
        logger.error("Could not remove %s after a failed build", path)


async def _say(context: BotContext, chat_id: int, text: str) -> None:
    """Sends a message from a background task, where an exception would be lost."""
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        logger.exception("Could not send the re-index report to chat %s", chat_id)


def report_text(report: BuildReport, *, reloaded: bool) -> str:
    """The admin-facing summary of a build, naming each document that was skipped."""
    text = texts.ADMIN_REINDEX_DONE.format(
        added=len(report.added),
        changed=len(report.changed),
        removed=len(report.removed),
        chunks=report.chunks,
        seconds=report.seconds,
    )
    lines = [text, texts.ADMIN_REINDEX_RELOADED if reloaded else texts.ADMIN_REINDEX_NOT_RELOADED]
    if report.failed:
        lines.append(texts.ADMIN_REINDEX_SKIPPED.format(count=len(report.failed)))
        lines.extend(
            texts.ADMIN_REINDEX_SKIPPED_LINE.format(
                doc_id=html.escape(doc_id), error=html.escape(error)
            )
            for doc_id, error in report.failed
        )
    return "\n".join(lines)


async def _reindex_job(
    context: BotContext,
    *,
    chat_id: int,
    full: bool,
    rollback: list[Path],
) -> BuildReport | None:
    """Builds the index in a thread under the lock, swaps it in and reports to the admin."""
    settings = get_settings(context)
    engine: Engine = get_engine(context)
    async with context.bot_data.reindex_lock:
        try:
            report = await asyncio.to_thread(
                build_index, settings, full=full, model=getattr(engine, "model", None)
            )
        except Exception:
            logger.exception("Re-index failed; the previous index keeps serving")
            _remove_files(rollback)
            await _say(
                context,
                chat_id,
                texts.ADMIN_REINDEX_FAILED.format(
                    rolled_back=texts.ADMIN_REINDEX_ROLLED_BACK if rollback else ""
                ),
            )
            return None
        refused = _refused_upload(settings, report, rollback)
        if refused is not None:
            # The build skipped the new upload: take it back out so the folder matches.
            _remove_files(rollback)
            report.failed = [item for item in report.failed if item[0] != refused[0]]
        reloaded = await asyncio.to_thread(engine.reload_if_changed)
    if refused is not None:
        await _say(
            context,
            chat_id,
            texts.ADMIN_REINDEX_DOC_ERROR.format(
                error=html.escape(refused[1]), rolled_back=texts.ADMIN_REINDEX_ROLLED_BACK
            ),
        )
    await _say(context, chat_id, report_text(report, reloaded=reloaded))
    return report


def _refused_upload(
    settings: Settings, report: BuildReport, rollback: list[Path]
) -> tuple[str, str] | None:
    """The (doc_id, reason) of a just-installed upload that the build could not read."""
    root = settings.knowledge_dir.resolve()
    ids = set()
    for path in rollback:
        try:
            ids.add(path.resolve().relative_to(root).as_posix())
        except ValueError:
            continue
    return next((item for item in report.failed if item[0] in ids), None)


def start_reindex(
    context: BotContext,
    *,
    chat_id: int,
    full: bool = False,
    rollback: list[Path] | None = None,
) -> asyncio.Task[BuildReport | None]:
    """Starts a background re-index; builds queue on one lock so they never overlap."""
    coroutine = _reindex_job(context, chat_id=chat_id, full=full, rollback=rollback or [])
    task: asyncio.Task[BuildReport | None] = context.application.create_task(
        coroutine, name="admin-reindex"
    )
    context.bot_data.reindex_task = task
    return task


@restricted("admin")
async def reindex_command(update: Update, context: BotContext) -> None:
    """Starts an incremental (or, with "full", a complete) re-index in the background."""
    message = update.effective_message
    assert message is not None
    full = fold_words(" ".join(context.args or [])) in _REINDEX_FULL_WORDS
    if context.bot_data.reindex_lock.locked():
        await message.reply_text(texts.ADMIN_REINDEX_QUEUED)
    else:
        await message.reply_text(
            texts.ADMIN_REINDEX_STARTED.format(full=texts.ADMIN_REINDEX_FULL if full else "")
        )
    start_reindex(context, chat_id=message.chat_id, full=full)


# --- sources --------------------------------------------------------------------------------


def source_lines(docs: list[DocumentMeta]) -> list[str]:
    """One escaped HTML entry per indexed document: title, number, date, status, relations."""
    lines = []
    for n, doc in enumerate(docs, start=1):
        name, status = document_lines(doc)
        lines.append(
            texts.ADMIN_SOURCE_LINE.format(
                n=n,
                upload="📎 " if doc.doc_id.startswith(UPLOADS_PREFIX) else "",
                title=html.escape(name),
                status=html.escape(status),
                doc_id=html.escape(doc.doc_id),
            )
        )
    return lines


def split_messages(
    header: str, lines: list[str], limit: int = MessageLimit.MAX_TEXT_LENGTH
) -> list[str]:
    """Packs lines into as few messages as fit Telegram's length limit."""
    messages: list[str] = []
    current = header
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            messages.append(current)
            current = line[:limit]
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


@restricted("admin")
async def sources_command(update: Update, context: BotContext) -> None:
    """Lists the indexed documents with number, date and status."""
    message = update.effective_message
    assert message is not None
    docs = get_engine(context).sources()
    if not docs:
        await message.reply_text(texts.ADMIN_SOURCES_EMPTY)
        return
    header = texts.ADMIN_SOURCES_HEADER.format(count=len(docs))
    for text in split_messages(header, source_lines(docs)):
        await message.reply_text(text)


# --- remove ---------------------------------------------------------------------------------


@restricted("admin")
async def remove_command(update: Update, context: BotContext) -> None:
    """Asks to confirm the removal of an uploaded document."""
    message = update.effective_message
    assert message is not None
    query = " ".join(context.args or []).strip()
    if not query:
        await message.reply_text(texts.ADMIN_REMOVE_USAGE)
        return
    settings = get_settings(context)
    docs = get_engine(context).sources()
    uploads, builtin = await asyncio.to_thread(find_removal, settings, docs, query)
    if not uploads:
        if builtin:
            await message.reply_text(
                texts.ADMIN_REMOVE_BUILTIN.format(title=html.escape(builtin[0].title))
            )
        else:
            await message.reply_text(texts.ADMIN_REMOVE_NOT_FOUND.format(query=html.escape(query)))
        return
    if len(uploads) > 1:
        choices = "\n".join(
            f"• <code>{html.escape(t.doc_id)}</code> — {html.escape(t.title)}" for t in uploads
        )
        await message.reply_text(
            texts.ADMIN_REMOVE_AMBIGUOUS.format(query=html.escape(query), choices=choices)
        )
        return
    target = uploads[0]
    token = secrets.token_hex(4)
    if context.user_data is not None:
        context.user_data[REMOVE_KEY] = {"token": token, "doc_id": target.doc_id}
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.ADMIN_BUTTON_REMOVE_YES, callback_data=f"admin:rm:yes:{token}"
                ),
                InlineKeyboardButton(texts.ADMIN_BUTTON_REMOVE_NO, callback_data="admin:rm:no"),
            ]
        ]
    )
    await message.reply_text(
        texts.ADMIN_REMOVE_CONFIRM.format(
            title=html.escape(target.title), doc_id=html.escape(target.doc_id)
        ),
        reply_markup=markup,
    )


@restricted("admin")
async def remove_callback(update: Update, context: BotContext) -> None:
    """Deletes the confirmed upload and re-indexes, or keeps it."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    pending = context.user_data.pop(REMOVE_KEY, None) if context.user_data is not None else None
    if query.data == "admin:rm:no":
        await query.edit_message_text(texts.ADMIN_REMOVE_KEPT)
        return
    token = query.data.rsplit(":", 1)[1]
    if not isinstance(pending, dict) or pending.get("token") != token:
        await query.edit_message_text(texts.ADMIN_REMOVE_EXPIRED)
        return
    doc_id = str(pending["doc_id"])
    settings = get_settings(context)
    try:
        deleted = await asyncio.to_thread(delete_upload, settings, doc_id)
    except OSError:
        logger.exception("Could not delete upload %s", doc_id)
        deleted = False
    if not deleted:
        await query.edit_message_text(texts.ADMIN_REMOVE_FAILED.format(doc_id=html.escape(doc_id)))
        return
    await query.edit_message_text(texts.ADMIN_REMOVE_DONE.format(doc_id=html.escape(doc_id)))
    chat = update.effective_chat
    assert chat is not None
    start_reindex(context, chat_id=chat.id)


# --- wiring ---------------------------------------------------------------------------------


def register(app: BotApplication) -> None:
    """Adds the admin commands and buttons (the upload conversation lives in uploads.py)."""
    app.add_handler(CommandHandler("reindex", reindex_command))
    app.add_handler(CommandHandler("sources", sources_command))
    app.add_handler(CommandHandler("remove", remove_command))
    app.add_handler(CallbackQueryHandler(remove_callback, pattern=r"^admin:rm:(yes:[0-9a-f]+|no)$"))

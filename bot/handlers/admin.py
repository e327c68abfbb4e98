"""Admin tools in Telegram: document uploads, background re-indexing, sources, removal."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
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
from bot.answer_views import doc_status_label
from bot.context import BotApplication, BotContext, app_settings, get_engine, get_settings
from bot.conversations import (
    CONVERSATION_GROUP,
    build_conversation,
    conversation_step,
    forget_on_timeout,
)
from index.build import BuildReport, build_index
from index.dates import format_vn_date, parse_vn_date
from index.documents import SIDECAR_SUFFIX, SOURCE_SUFFIXES, load_document, sidecar_path
from index.errors import DocumentError
from index.textnorm import fold_words

if TYPE_CHECKING:
    from index.engine import Engine
    from index.schema import DocumentMeta
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Shown in the command menu of admin chats (bot/app.py publishes them).
COMMANDS = [
    ("reindex", texts.ADMIN_COMMAND_REINDEX),
    ("sources", texts.ADMIN_COMMAND_SOURCES),
    ("remove", texts.ADMIN_COMMAND_REMOVE),
]

#: The Bot API cannot hand bots files larger than this anyway.
MAX_UPLOAD_MB = 20
MAX_TITLE_CHARS = 300
UPLOADS_PREFIX = "uploads/"

# Conversation state of an upload: waiting for the document's metadata.
UPLOAD_META = 0
UPLOAD_KEY = "admin_upload"
REMOVE_KEY = "admin_remove"

_REINDEX_FULL_WORDS = {"full", "day du", "toan bo", "tat ca"}


# --- background re-indexing -----------------------------------------------------------------


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("Could not remove %s after a failed build", path)


async def _say(context: BotContext, chat_id: int, text: str) -> None:
    """Sends a message from a background task, where an exception would be lost."""
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        logger.exception("Could not send the re-index report to chat %s", chat_id)


def report_text(report: BuildReport, *, reloaded: bool) -> str:
    """The admin-facing summary of a build."""
    text = texts.ADMIN_REINDEX_DONE.format(
        added=len(report.added),
        changed=len(report.changed),
        removed=len(report.removed),
        chunks=report.chunks,
        seconds=report.seconds,
    )
    note = texts.ADMIN_REINDEX_RELOADED if reloaded else texts.ADMIN_REINDEX_NOT_RELOADED
    return f"{text}\n{note}"


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
        except DocumentError as exc:
            logger.warning("Re-index refused a document: %s", exc)
            _remove_files(rollback)
            await _say(
                context,
                chat_id,
                texts.ADMIN_REINDEX_DOC_ERROR.format(
                    error=html.escape(str(exc)),
                    rolled_back=texts.ADMIN_REINDEX_ROLLED_BACK if rollback else "",
                ),
            )
            return None
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
        reloaded = await asyncio.to_thread(engine.reload_if_changed)
    await _say(context, chat_id, report_text(report, reloaded=reloaded))
    return report


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
    """One escaped HTML line per indexed document."""
    lines = []
    for n, doc in enumerate(docs, start=1):
        issued = format_vn_date(doc.issued)
        lines.append(
            texts.ADMIN_SOURCE_LINE.format(
                n=n,
                upload="📎 " if doc.doc_id.startswith(UPLOADS_PREFIX) else "",
                title=html.escape(doc.title),
                number=texts.ADMIN_SOURCE_NUMBER.format(value=html.escape(doc.number))
                if doc.number
                else "",
                issued=texts.ADMIN_SOURCE_ISSUED.format(value=html.escape(issued))
                if issued
                else "",
                status=html.escape(doc_status_label(doc.status)),
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


# --- upload ---------------------------------------------------------------------------------


@dataclass(slots=True)
class UploadMeta:
    """What the admin typed for an upload."""

    title: str
    number: str | None = None
    issued: str | None = None  # ISO date

    def as_yaml_mapping(self) -> dict[str, str]:
        """The keys understood by index.documents (sidecar or front matter)."""
        values = {"title": self.title}
        if self.number:
            values["number"] = self.number
        if self.issued:
            values["issued"] = self.issued
        return values


class MetaFormatError(ValueError):
    """The metadata text does not follow "Tiêu đề | Số hiệu | Ngày"."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


_EMPTY_MARKERS = {"", "-", "–", "—", "không", "khong", "không có", "khong co"}


def parse_upload_meta(text: str) -> UploadMeta:
    """Parses "Tiêu đề | Số hiệu | Ngày (dd/mm/yyyy)"; number and date may be left out.

    Raises MetaFormatError with the reply to send when the text does not fit.
    """
    parts = [part.strip() for part in text.split("|")]
    if len(parts) > 3 or not parts[0] or len(parts[0]) > MAX_TITLE_CHARS:
        raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_META)
    title = " ".join(parts[0].split())
    number = parts[1] if len(parts) > 1 and parts[1].lower() not in _EMPTY_MARKERS else None
    issued: str | None = None
    if len(parts) > 2 and parts[2].lower() not in _EMPTY_MARKERS:
        day = parse_vn_date(parts[2])
        issued = day.isoformat() if day is not None else None
        if issued is None:
            raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_DATE.format(value=html.escape(parts[2])))
    return UploadMeta(title=title, number=number, issued=issued)


def safe_file_name(name: str) -> str:
    """An ASCII file name without path parts, keeping the (lower-case) suffix."""
    path = Path(name.replace("\\", "/")).name
    stem, suffix = Path(path).stem, Path(path).suffix.lower()
    slug = re.sub(r"[^a-z0-9]+", "-", fold_words(stem)).strip("-")[:80] or "tai-lieu"
    return slug + suffix


@dataclass(slots=True)
class InstalledUpload:
    """An upload that passed validation and now lives under knowledge/uploads/."""

    meta: DocumentMeta
    files: list[Path] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        """The doc_id the index will give it."""
        return self.meta.doc_id


def _merge_front_matter(path: Path, values: dict[str, str]) -> None:
    """Writes the admin's metadata into a Markdown file's front matter (.md has no sidecar)."""
    import frontmatter

    try:
        post = frontmatter.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return  # load_document reports the broken file in the admin's words
    post.metadata.update(values)
    path.write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")


def _unique_target(directory: Path, name: str) -> Path:
    target = directory / name
    stem, suffix = target.stem, target.suffix
    counter = 2
    while target.exists() or sidecar_path(target).exists():
        target = directory / f"{stem}-{counter}{suffix}"
        counter += 1
    return target


def install_upload(settings: Settings, staged: Path, meta: UploadMeta | None) -> InstalledUpload:
    """Validates a staged upload and moves it (with its metadata) into knowledge/uploads/.

    The file is checked with `load_document` before it is moved, so a broken or empty file
    never reaches the knowledge directory. Raises DocumentError when it is rejected.
    """
    if meta is not None:
        values = meta.as_yaml_mapping()
        if staged.suffix.lower() == ".md":
            _merge_front_matter(staged, values)
        else:
            sidecar_path(staged).write_text(
                yaml.safe_dump(values, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    checked, _ = load_document(staged, root=staged.parent)
    uploads = settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    target = _unique_target(uploads, staged.name)
    files = [target]
    staged_sidecar = sidecar_path(staged)
    if staged_sidecar.is_file():
        shutil.move(staged_sidecar, sidecar_path(target))
        files.append(sidecar_path(target))
    shutil.move(staged, target)
    doc_id = target.resolve().relative_to(settings.knowledge_dir.resolve()).as_posix()
    return InstalledUpload(
        meta=dataclasses.replace(checked, doc_id=doc_id, path=doc_id), files=files
    )


def _discard_staged(user_data: dict[Any, Any] | None) -> None:
    """Deletes the staged file of an unfinished upload, if any."""
    if user_data is None:
        return
    pending = user_data.pop(UPLOAD_KEY, None)
    if isinstance(pending, dict) and pending.get("dir"):
        shutil.rmtree(pending["dir"], ignore_errors=True)


@restricted("admin")
async def upload_received(update: Update, context: BotContext) -> int:
    """Downloads an admin's document into staging and asks for its metadata."""
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
    if context.user_data is not None:
        context.user_data[UPLOAD_KEY] = {"dir": str(staging), "path": str(staged), "name": name}
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.ADMIN_BUTTON_FROM_FILE, callback_data="admin:meta:file"),
                InlineKeyboardButton(texts.ADMIN_BUTTON_CANCEL, callback_data="admin:meta:cancel"),
            ]
        ]
    )
    await message.reply_text(
        texts.ADMIN_UPLOAD_ASK_META.format(name=html.escape(name)), reply_markup=markup
    )
    return UPLOAD_META


async def _finish_upload(
    update: Update, context: BotContext, meta: UploadMeta | None
) -> int:
    """Validates and installs the staged file, then starts the background re-index."""
    chat = update.effective_chat
    assert chat is not None
    pending = context.user_data.get(UPLOAD_KEY) if context.user_data is not None else None
    if not isinstance(pending, dict) or not Path(pending["path"]).is_file():
        _discard_staged(context.user_data)
        await context.bot.send_message(chat.id, texts.ADMIN_UPLOAD_EXPIRED)
        return ConversationHandler.END
    settings = get_settings(context)
    try:
        installed = await asyncio.to_thread(install_upload, settings, Path(pending["path"]), meta)
    except DocumentError as exc:
        _discard_staged(context.user_data)
        await context.bot.send_message(
            chat.id, texts.ADMIN_UPLOAD_INVALID.format(error=html.escape(str(exc)))
        )
        return ConversationHandler.END
    _discard_staged(context.user_data)
    await context.bot.send_message(
        chat.id,
        texts.ADMIN_UPLOAD_SAVED.format(
            title=html.escape(installed.meta.title), doc_id=html.escape(installed.doc_id)
        ),
    )
    start_reindex(context, chat_id=chat.id, rollback=installed.files)
    return ConversationHandler.END


@restricted("admin")
async def upload_meta_text(update: Update, context: BotContext) -> int:
    """Reads "Tiêu đề | Số hiệu | Ngày" and installs the upload."""
    message = update.effective_message
    assert message is not None
    try:
        meta = parse_upload_meta(message.text or "")
    except MetaFormatError as exc:
        await message.reply_text(exc.reply)
        return UPLOAD_META
    return await _finish_upload(update, context, meta)


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


# --- remove ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemovalTarget:
    """The document /remove resolved to, or why it cannot be removed."""

    doc_id: str
    title: str


def _upload_doc_ids(settings: Settings) -> dict[str, str]:
    """doc_id -> file name of every upload on disk (indexed or not)."""
    uploads = settings.uploads_dir
    if not uploads.is_dir():
        return {}
    return {
        path.relative_to(settings.knowledge_dir).as_posix(): path.name
        for path in sorted(uploads.rglob("*"))
        if path.is_file() and path.suffix.lower() in SOURCE_SUFFIXES
    }


def find_removal(
    settings: Settings, docs: list[DocumentMeta], query: str
) -> tuple[list[RemovalTarget], list[RemovalTarget]]:
    """Finds uploads and built-in documents matching a doc_id or part of a title/number."""
    on_disk = _upload_doc_ids(settings)
    by_id = {doc.doc_id: doc for doc in docs}
    wanted = query.strip().removeprefix("knowledge/")
    if wanted in by_id or wanted in on_disk:
        title = by_id[wanted].title if wanted in by_id else on_disk[wanted]
        target = RemovalTarget(wanted, title)
        return ([target], []) if wanted.startswith(UPLOADS_PREFIX) else ([], [target])
    folded = fold_words(wanted)
    uploads: list[RemovalTarget] = []
    builtin: list[RemovalTarget] = []
    for doc in docs:
        haystack = fold_words(" ".join(filter(None, (doc.title, doc.number, doc.doc_id))))
        if folded and folded in haystack:
            target = RemovalTarget(doc.doc_id, doc.title)
            (uploads if doc.doc_id.startswith(UPLOADS_PREFIX) else builtin).append(target)
    for doc_id, name in on_disk.items():
        if doc_id not in by_id and folded and folded in fold_words(doc_id):
            uploads.append(RemovalTarget(doc_id, name))
    return uploads, builtin


def delete_upload(settings: Settings, doc_id: str) -> bool:
    """Deletes an upload and its sidecar; refuses anything outside knowledge/uploads/."""
    uploads = settings.uploads_dir.resolve()
    path = (settings.knowledge_dir / doc_id).resolve()
    if not path.is_relative_to(uploads) or not path.is_file():
        return False
    path.unlink()
    sidecar_path(path).unlink(missing_ok=True)
    return True


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


async def upload_abandon(update: Update, context: BotContext) -> int:  # noqa: ARG001
    """Drops the staged file when another command comes in; that command still runs."""
    _discard_staged(context.user_data)
    return ConversationHandler.END


async def upload_timed_out(update: Update, context: BotContext) -> None:
    """Drops the staged file of an upload whose metadata never came."""
    _discard_staged(context.user_data)
    await forget_on_timeout(update, context, keys=(), text=texts.ADMIN_UPLOAD_TIMED_OUT)


def register(app: BotApplication) -> None:
    """Adds the upload conversation (in the conversation group), then admin commands."""
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
    app.add_handler(CommandHandler("reindex", reindex_command))
    app.add_handler(CommandHandler("sources", sources_command))
    app.add_handler(CommandHandler("remove", remove_command))
    app.add_handler(CallbackQueryHandler(remove_callback, pattern=r"^admin:rm:(yes:[0-9a-f]+|no)$"))

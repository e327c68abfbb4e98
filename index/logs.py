"""Logging set-up shared by every entry point (bot, console, CLI, evaluation, benchmark).

Logs never carry the bot token or phone numbers, at any level: a filter on every handler
rewrites each record (message, arguments and traceback) before it is formatted. Libraries
that log request URLs (which contain the token) or whole updates (which contain what users
typed) are kept at WARNING or INFO whatever the configured level.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TextIO

#: Libraries that log every request or build step at INFO/DEBUG; their warnings still show.
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "sentence_transformers",
    "transformers",
    "faiss",
    "bm25s",
    "alembic",
)
#: PTB logs whole updates and request parameters (users' names and numbers) at DEBUG.
NO_DEBUG_LOGGERS = ("telegram",)

#: A Telegram bot token ("123456789:AA…", 35 characters after the colon), anywhere.
_TOKEN_RE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
#: Vietnamese phone numbers as users type or share them: +84…, 84… and 0… with 9-10 digits.
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9,10}(?!\d)")
#: pydantic quotes the rejected value in its errors ("input_value='Nguyễn Văn An'").
_INPUT_VALUE_RE = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.MULTILINE)
TOKEN_MASK = "<token>"
PHONE_MASK = "<phone>"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Masks bot tokens, the given secrets, phone numbers and rejected inputs in a log line.

    Args:
        text: A formatted log message or traceback.
        secrets: Exact strings to mask as well (e.g. the configured token).

    Returns:
        The text with every match replaced by a mask.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, TOKEN_MASK)
    text = _TOKEN_RE.sub(TOKEN_MASK, text)
    text = _INPUT_VALUE_RE.sub("input_value=<hidden>", text)
    return _PHONE_RE.sub(PHONE_MASK, text)


class RedactingFilter(logging.Filter):
    """Handler filter that masks tokens and phone numbers in every record it passes.

    Args:
        secrets: Exact strings to mask besides anything shaped like a bot token.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record in place (message, arguments, traceback); never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must still be logged, masked
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_redaction(secrets: Iterable[str] = ()) -> None:
    """Adds the redacting filter to every handler of the root logger (once each).

    Args:
        secrets: Exact strings to mask (e.g. the bot token); merged with earlier ones.
    """
    wanted = tuple(secret for secret in secrets if secret)
    for handler in logging.getLogger().handlers:
        existing = next((f for f in handler.filters if isinstance(f, RedactingFilter)), None)
        if existing is None:
            handler.addFilter(RedactingFilter(wanted))
        else:
            existing.secrets = tuple(dict.fromkeys(existing.secrets + wanted))


def configure_logging(
    level: str | int = "INFO", *, stream: TextIO | None = None, secrets: Iterable[str] = ()
) -> None:
    """Configures the root logger once, quiets chatty libraries and masks secrets.

    Args:
        level: A level name such as "INFO", or a logging level number.
        stream: Where log lines go (stderr when None).
        secrets: Exact strings never to log (e.g. the bot token), besides token-shaped text.
    """
    if isinstance(level, str):
        level = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(
        level=level, stream=stream, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in NOISY_LOGGERS:
        # bm25s sets DEBUG on its own logger, so the level is forced here, not inherited.
        logging.getLogger(name).setLevel(max(logging.WARNING, int(level)))
    for name in NO_DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, int(level)))
    install_redaction(secrets)

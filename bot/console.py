"""A terminal chat over `Engine.answer`, for trying the assistant without a Telegram token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot import texts
from bot.answer_views import render_answer
from index.followup import next_context

if TYPE_CHECKING:
    from index.engine import Engine
    from index.schema import Answer
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Words that end the chat, besides EOF (Ctrl-D) and Ctrl-C.
EXIT_WORDS = frozenset({"thoat", "thoát", "exit", "quit", "q"})

Output = Callable[[str], None]


def ensure_index(settings: Settings, output: Output = print, *, model: Any = None) -> None:
    """Builds the index when it is missing or out of date, printing progress."""
    from index.build import build_index
    from index.published import index_status

    status = index_status(settings)
    if status == "current":
        return
    output(texts.CONSOLE_BUILDING_INDEX)

    def progress(done: int, total: int, name: str) -> None:
        output(texts.CONSOLE_INDEX_PROGRESS.format(done=done, total=total, name=name))

    # A mismatch means another embedding model built it; only a full rebuild can fix that.
    report = build_index(settings, full=status == "mismatch", model=model, progress=progress)
    output(texts.CONSOLE_INDEX_READY.format(chunks=report.chunks))


def format_console_answer(answer: Answer) -> str:
    """Formats an answer for the terminal: the same texts as Telegram, as plain text."""
    shown = render_answer(answer)
    if answer.outcome == "routed" and answer.intent in texts.CONSOLE_ROUTED:
        shown = f"{shown}\n{texts.CONSOLE_ROUTED[answer.intent]}"
    return shown


def run_console(
    settings: Settings,
    *,
    input_fn: Callable[[str], str] = input,
    output: Output = print,
    engine: Engine | None = None,
    model: Any = None,
) -> None:
    """Chats in the terminal until EOF, Ctrl-C or an exit word."""
    if engine is None:
        from index.engine import load_engine

        ensure_index(settings, output, model=model)
        output(texts.CONSOLE_LOADING)
        engine = load_engine(settings, model=model)
    output(texts.CONSOLE_WELCOME)
    previous: str | None = None
    while True:
        try:
            line = input_fn(texts.CONSOLE_PROMPT)
        except (EOFError, KeyboardInterrupt):
            output("")
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in EXIT_WORDS:
            break
        try:
            answer = engine.answer(text, previous=previous)
        except Exception as exc:  # the chat survives one bad question; the log has the trace
            logger.exception("Console answer failed")
            output(texts.CONSOLE_ERROR.format(error=type(exc).__name__))
            continue
        if answer.resolved and answer.resolved != " ".join(text.split()):
            output(texts.CONSOLE_FOLLOWUP.format(question=answer.resolved))
        previous = next_context(previous, answer)
        output(format_console_answer(answer))
        output("")
    output(texts.CONSOLE_BYE)

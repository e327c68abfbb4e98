"""The answer feedback (👍/👎) and the question log behind the statistics."""

from __future__ import annotations

from sqlmodel import Session

from index.leads.models import QUESTION_MAX, Feedback, QuestionLog
from index.leads.stored_text import truncate
from index.leads.write_retry import store_row


def new_feedback(
    *, telegram_user_id: int | None, question: str, chunk_ids: list[int], rating: int
) -> Feedback:
    """Builds (does not store) a 👍 (+1) or 👎 (-1) row; see `record_feedback`.

    Raises:
        ValueError: If rating is not +1 or -1.
    """
    if rating not in (1, -1):
        raise ValueError("rating must be +1 or -1")
    return Feedback(
        telegram_user_id=telegram_user_id,
        question=truncate(question, QUESTION_MAX),
        chunk_ids=[int(chunk_id) for chunk_id in chunk_ids],
        rating=rating,
    )


def new_question_log(
    *,
    telegram_user_id: int | None,
    question: str,
    confident: bool,
    chunk_ids: list[int],
    latency_ms: float,
) -> QuestionLog:
    """Builds (does not store) the log row of one question; see `log_question`."""
    return QuestionLog(
        telegram_user_id=telegram_user_id,
        question=truncate(question, QUESTION_MAX),
        confident=bool(confident),
        chunk_ids=[int(chunk_id) for chunk_id in chunk_ids],
        latency_ms=float(latency_ms),
    )


def record_feedback(
    *,
    session: Session,
    telegram_user_id: int | None,
    question: str,
    chunk_ids: list[int],
    rating: int,
) -> Feedback:
    """Stores a 👍 (+1) or 👎 (-1) on an answer.

    Args:
        session: An open session.
        telegram_user_id: Who rated; None if unknown.
        question: The question that was answered (truncated to QUESTION_MAX).
        chunk_ids: The chunks the answer was built from.
        rating: +1 or -1.

    Returns:
        The stored feedback.

    Raises:
        ValueError: If rating is not +1 or -1.
    """
    feedback = new_feedback(
        telegram_user_id=telegram_user_id, question=question, chunk_ids=chunk_ids, rating=rating
    )
    return store_row(session, feedback)


def log_question(
    *,
    session: Session,
    telegram_user_id: int | None,
    question: str,
    confident: bool,
    chunk_ids: list[int],
    latency_ms: float,
) -> QuestionLog:
    """Logs one question and how well it was answered, for the statistics.

    Args:
        session: An open session.
        telegram_user_id: Who asked; None if unknown.
        question: The question (truncated to QUESTION_MAX).
        confident: Whether the bot answered confidently (False means it abstained).
        chunk_ids: The top chunk ids it answered from.
        latency_ms: How long the answer took.

    Returns:
        The stored log row.
    """
    entry = new_question_log(
        telegram_user_id=telegram_user_id,
        question=question,
        confident=confident,
        chunk_ids=chunk_ids,
        latency_ms=latency_ms,
    )

    return store_row(session, entry)

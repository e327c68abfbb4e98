"""Erasure on request (/xoadulieu): everything stored about one Telegram user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, delete, select

from index.leads.models import EventKind, Feedback, Lead, LeadAnnouncement, LeadEvent, QuestionLog
from index.leads.write_retry import retry_locked


def _registration_events_by(telegram_user_id: int) -> Any:
    """Matches what this account wrote as a registering user on any lead.

    Only registration entries (created/updated): a staff member's status changes and notes
    are the centre's work record, not data the person entered about themselves.
    """
    actor = f"tg:{telegram_user_id}"
    return and_(
        col(LeadEvent.kind).in_([EventKind.created, EventKind.updated]),
        or_(col(LeadEvent.actor) == actor, col(LeadEvent.actor).startswith(actor + " ")),
    )


def delete_user_data(*, session: Session, telegram_user_id: int) -> int:
    """Deletes everything stored about a Telegram user (the /xoadulieu request).

    Removes, in one transaction, the user's leads with their audit events, the
    registration entries the user wrote on any other lead (possible before leads had
    owners), their feedback and their question logs. Leads
    of others that pointed at a deleted lead as a possible duplicate lose that pointer.

    Args:
        session: An open session.
        telegram_user_id: The user's Telegram id.

    Returns:
        How many rows were removed (leads + events + feedback + question logs).
    """

    def write() -> int:
        lead_ids = select(Lead.id).where(Lead.telegram_user_id == telegram_user_id)
        # Deleted explicitly rather than relying on ON DELETE CASCADE, so the count is right
        # and a connection without PRAGMA foreign_keys leaves no orphans; duplicate pointers
        # have no ON DELETE rule at all (see Lead.duplicate_of_id).
        session.exec(
            update(Lead).where(col(Lead.duplicate_of_id).in_(lead_ids)).values(duplicate_of_id=None)
        )
        # Not counted: the outbox rows are the bot's bookkeeping, not data the user gave.
        session.exec(delete(LeadAnnouncement).where(col(LeadAnnouncement.lead_id).in_(lead_ids)))
        statements = (
            delete(LeadEvent).where(
                or_(col(LeadEvent.lead_id).in_(lead_ids), _registration_events_by(telegram_user_id))
            ),
            delete(Lead).where(col(Lead.telegram_user_id) == telegram_user_id),
            delete(Feedback).where(col(Feedback.telegram_user_id) == telegram_user_id),
            delete(QuestionLog).where(col(QuestionLog.telegram_user_id) == telegram_user_id),
        )
        removed = 0
        for statement in statements:
            removed += session.exec(statement).rowcount or 0
        session.commit()
        session.expire_all()
        return removed

    return retry_locked(session, write)

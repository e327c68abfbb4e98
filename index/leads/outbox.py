"""The outbox of staff announcements: queue in the lead's transaction, drain, retry, give up.

`crud.upsert_lead(..., announce=True)` adds a pending row in the same commit as the lead, so
a lead a user was told is saved is always announced or recorded as lost, even across a
crash. The bot drains the outbox from a repeating job (bot/handlers/announcements.py); these
keyword-only functions are the only SQL it needs. Rows carry no personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from index.leads.models import AnnouncementState, Lead, LeadAnnouncement, utcnow

logger = logging.getLogger(__name__)

#: The longest pause between two attempts, whatever the backoff or Telegram's retry_after.
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DueAnnouncement:
    """A pending announcement with its lead (None when the lead was deleted meanwhile)."""

    id: int
    lead_id: int
    updated: bool
    attempts: int
    created_at: datetime
    lead: Lead | None


def queue_announcement(*, session: Session, lead_id: int, updated: bool) -> LeadAnnouncement:
    """Adds a pending announcement to the session; the caller's commit stores it."""
    row = LeadAnnouncement(lead_id=lead_id, updated=updated)
    session.add(row)
    return row


def due_announcements(
    *, session: Session, now: datetime | None = None, limit: int = 200
) -> list[DueAnnouncement]:
    """The oldest pending announcements whose next attempt is due, with their leads."""
    now = now or utcnow()
    statement = (
        select(LeadAnnouncement, Lead)
        .join(Lead, col(Lead.id) == col(LeadAnnouncement.lead_id), isouter=True)
        .where(
            LeadAnnouncement.state == AnnouncementState.pending.value,
            col(LeadAnnouncement.next_attempt_at) <= now,
        )
        .order_by(col(LeadAnnouncement.id))
        .limit(limit)
    )
    due: list[DueAnnouncement] = []
    for row, lead in session.exec(statement).all():
        assert row.id is not None
        due.append(
            DueAnnouncement(row.id, row.lead_id, row.updated, row.attempts, row.created_at, lead)
        )
    return due


def mark_sent(*, session: Session, ids: Sequence[int], now: datetime | None = None) -> int:
    """Marks announcements as sent (or moot: the lead was deleted); returns how many."""
    if not ids:
        return 0
    now = now or utcnow()
    rows = session.exec(select(LeadAnnouncement).where(col(LeadAnnouncement.id).in_(ids))).all()
    for row in rows:
        row.state = AnnouncementState.sent.value
        row.done_at = now
        session.add(row)
    session.commit()
    return len(rows)


def mark_failed(
    *,
    session: Session,
    ids: Sequence[int],
    max_attempts: int,
    backoff: timedelta,
    retry_after: timedelta | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Counts a failed attempt; schedules a retry or gives up. Returns the lead ids lost.

    The pause doubles with each attempt (`backoff`, 2×, 4×, … up to MAX_BACKOFF), or is
    Telegram's own `retry_after` when it said how long to wait.
    """
    if not ids:
        return []
    now = now or utcnow()
    lost: list[int] = []
    rows = session.exec(select(LeadAnnouncement).where(col(LeadAnnouncement.id).in_(ids))).all()
    for row in rows:
        row.attempts += 1
        if row.attempts >= max_attempts:
            row.state = AnnouncementState.lost.value
            row.done_at = now
            lost.append(row.lead_id)
        else:
            pause = retry_after if retry_after is not None else backoff * 2 ** (row.attempts - 1)
            row.next_attempt_at = now + min(pause, MAX_BACKOFF)
        session.add(row)
    session.commit()
    return lost


def count_announcements(*, session: Session, state: AnnouncementState) -> int:
    """How many announcements are in `state` (for doctor, tests and the load test)."""
    statement = select(func.count()).select_from(LeadAnnouncement)
    return int(session.exec(statement.where(LeadAnnouncement.state == state.value)).one())

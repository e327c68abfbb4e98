"""CRUD functions of the leads store: keyword-only, validate → add → commit → refresh.

Every write commits itself, so an adapter wraps one call in ``session_scope`` (inside
``asyncio.to_thread`` from async code) and never has to remember to commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, delete, select

from index.leads.models import (
    ACTOR_MAX,
    NOTE_MAX,
    OPEN_STATUSES,
    QUESTION_MAX,
    EventKind,
    Feedback,
    Lead,
    LeadAnnouncement,
    LeadCreate,
    LeadEvent,
    LeadStatus,
    QuestionLog,
    compute_need_key,
    utcnow,
)
from index.leads.outbox import queue_announcement
from index.leads.provinces import province_key

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Fields of LeadCreate copied onto an open lead when the same owner registers again.
_UPDATABLE_FIELDS = tuple(
    name for name in LeadCreate.model_fields if name not in {"phone", "support_items"}
)
# One retry after SQLite's busy timeout (index.leads.db): a lock held that long is an outage
# or a stuck writer, not contention, and the user must hear "not saved" within seconds.
_WRITE_ATTEMPTS = 2


class LeadNotFoundError(LookupError):
    """Raised when a lead id does not exist (it may have been deleted on request)."""

    def __init__(self, lead_id: int) -> None:
        super().__init__(f"lead {lead_id} does not exist")
        self.lead_id = lead_id


def _is_sqlite_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def _retry_locked(session: Session, write: Callable[[], T]) -> T:
    """Runs a write, retrying when SQLite stays locked past its busy_timeout."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            return write()
        except OperationalError as exc:
            session.rollback()
            if not _is_sqlite_locked(exc) or attempt == _WRITE_ATTEMPTS:
                raise
            logger.warning("SQLite is locked, retrying write (attempt %s)", attempt)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _store_row(session: Session, row: T) -> T:
    """Adds and commits one row (retrying a locked SQLite) and returns it refreshed."""

    def write() -> T:
        session.add(row)
        session.commit()
        session.refresh(row)
        return row

    return _retry_locked(session, write)


def _truncate(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_actor(actor: str | None) -> str | None:
    if actor is None:
        return None
    return _truncate(actor, ACTOR_MAX) or None


def _open_leads(session: Session, *, phone: str, need_key: str) -> list[Lead]:
    statement = select(Lead).where(
        Lead.phone == phone,
        Lead.need_key == need_key,
        col(Lead.status).in_(OPEN_STATUSES),
    )
    return list(session.exec(statement.order_by(col(Lead.id))).all())


def _owned_by(lead: Lead, owner: int | None) -> bool:
    return lead.telegram_user_id == owner


def _owner_actor(lead_in: LeadCreate) -> str:
    return f"tg:{lead_in.telegram_user_id}" if lead_in.telegram_user_id is not None else "owner"


def _update_open_lead(
    session: Session, lead: Lead, lead_in: LeadCreate, *, announce: bool = False
) -> Lead:
    values = lead_in.model_dump(include=set(_UPDATABLE_FIELDS))
    for name, value in values.items():
        # Keep what we already know when the new registration leaves a field out.
        if value is None or value == {} or value == "":
            continue
        setattr(lead, name, value)
    lead.support_items = list(lead_in.support_items)
    lead.province_key = province_key(lead.province)
    lead.updated_at = utcnow()
    assert lead.id is not None  # loaded from the database
    session.add(lead)
    session.add(LeadEvent(lead_id=lead.id, kind=EventKind.updated, actor=_owner_actor(lead_in)))
    if announce:
        queue_announcement(session=session, lead_id=lead.id, updated=True)
    session.commit()
    session.refresh(lead)
    return lead


def upsert_lead(
    *, session: Session, lead_in: LeadCreate, announce: bool = False
) -> tuple[Lead, bool]:
    """Creates a lead, or updates the owner's open one with the same phone and support need.

    A second registration by the same account while its first is still open (new,
    contacted, qualified) updates that lead and records an "updated" event, so staff do not
    call twice. Only the owner can update a lead: the same phone and need from another
    account (or from none) makes a new lead whose ``duplicate_of_id`` points at the open one,
    for staff to check; the caller must not show that id to the user. A partial unique index
    on (owner, phone, need) makes this race-safe: if a concurrent registration by the same
    owner wins the insert, ours hits IntegrityError and is retried as an update.

    Args:
        session: An open session.
        lead_in: The validated registration; consent is part of it.
        announce: Also queue a staff announcement (``index.leads.outbox``) in the same
            commit, so the lead is never saved without it.

    Returns:
        The stored lead and True if it was created, False if the owner's open lead was
        updated.
    """
    lead_in = LeadCreate.model_validate(lead_in)
    need_key = compute_need_key(lead_in.support_items)
    owner = lead_in.telegram_user_id

    def write() -> tuple[Lead, bool]:
        open_leads = _open_leads(session, phone=lead_in.phone, need_key=need_key)
        own = next((lead for lead in open_leads if _owned_by(lead, owner)), None)
        if own is not None:
            return _update_open_lead(session, own, lead_in, announce=announce), False
        other = next(iter(open_leads), None)
        lead = Lead.model_validate(
            lead_in,
            update={
                "need_key": need_key,
                "province_key": province_key(lead_in.province),
                "duplicate_of_id": other.id if other is not None else None,
            },
        )
        try:
            session.add(lead)
            session.flush()  # assigns lead.id for the event
            assert lead.id is not None
            session.add(
                LeadEvent(
                    lead_id=lead.id,
                    kind=EventKind.created,
                    new_status=lead.status,
                    actor=_owner_actor(lead_in),
                )
            )
            if announce:
                queue_announcement(session=session, lead_id=lead.id, updated=False)
            session.commit()
        except IntegrityError:
            # The same owner registered the same need in the meantime: update theirs instead.
            session.rollback()
            open_leads = _open_leads(session, phone=lead_in.phone, need_key=need_key)
            own = next((lead for lead in open_leads if _owned_by(lead, owner)), None)
            if own is None:
                raise
            return _update_open_lead(session, own, lead_in, announce=announce), False
        session.refresh(lead)
        return lead, True

    return _retry_locked(session, write)


#: The largest id a lead can have: PostgreSQL's INTEGER (SQLite's is wider). A larger one
#: (a forged button, a typo in the CLI) would make the driver raise instead of "not found".
LEAD_ID_MAX = 2**31 - 1


def get_lead(*, session: Session, lead_id: int) -> Lead | None:
    """Returns the lead with this id, or None (also for an id no lead can have).

    Args:
        session: An open session.
        lead_id: The lead id.
    """
    if not 0 < lead_id <= LEAD_ID_MAX:
        return None
    return session.get(Lead, lead_id)


def _filters(
    *,
    status: LeadStatus | None,
    province: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    clauses: list[Any] = []
    if status is not None:
        clauses.append(Lead.status == LeadStatus(status))
    if province is not None and province.strip():
        clauses.append(Lead.province_key == province_key(province))
    if since is not None:
        clauses.append(col(Lead.created_at) >= since)
    if until is not None:
        clauses.append(col(Lead.created_at) < until)
    return clauses


def list_leads(
    *,
    session: Session,
    status: LeadStatus | None = None,
    province: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int | None = 20,
) -> list[Lead]:
    """Lists leads, newest first.

    Args:
        session: An open session.
        status: Only leads in this status.
        province: Only leads from this province, named as `resolve_province` reads it:
            case and diacritics are ignored, and a pre-2025 name finds its current province
            ("quang nam" finds the leads of Đà Nẵng).
        since: Only leads created at or after this aware datetime.
        until: Only leads created before this aware datetime.
        offset: How many matching leads to skip (pagination).
        limit: At most this many leads; None for all.

    Returns:
        The matching leads.
    """
    statement = (
        select(Lead)
        .where(*_filters(status=status, province=province, since=since, until=until))
        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def count_leads(
    *,
    session: Session,
    status: LeadStatus | None = None,
    province: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Counts leads with the same filters as list_leads.

    Args:
        session: An open session.
        status: Only leads in this status.
        province: Only leads from this province (as in list_leads).
        since: Only leads created at or after this aware datetime.
        until: Only leads created before this aware datetime.
    """
    statement = (
        select(func.count())
        .select_from(Lead)
        .where(*_filters(status=status, province=province, since=since, until=until))
    )
    return int(session.exec(statement).one())


def list_leads_for_user(*, session: Session, telegram_user_id: int) -> list[Lead]:
    """Lists one Telegram user's leads, newest first (for "my registrations").

    Args:
        session: An open session.
        telegram_user_id: The owner's Telegram user id.
    """
    statement = (
        select(Lead)
        .where(Lead.telegram_user_id == telegram_user_id)
        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
    )
    return list(session.exec(statement).all())


def _require_lead(session: Session, lead_id: int) -> Lead:
    lead = get_lead(session=session, lead_id=lead_id)
    if lead is None:
        raise LeadNotFoundError(lead_id)
    return lead


def change_status(*, session: Session, lead_id: int, status: LeadStatus, actor: str) -> Lead:
    """Moves a lead to another status and records who did it in the audit trail.

    Setting the status the lead already has changes nothing and records no event.

    Args:
        session: An open session.
        lead_id: The lead id.
        status: The new status.
        actor: Who changed it, e.g. ``"tg:1001 @canbo"``.

    Returns:
        The updated lead.

    Raises:
        LeadNotFoundError: (a LookupError) if the lead does not exist.
        ValueError: If ``status`` is not a LeadStatus value.
    """
    new_status = LeadStatus(status)

    def write() -> Lead:
        lead = _require_lead(session, lead_id)
        old_status = LeadStatus(lead.status)
        if old_status == new_status:
            return lead
        lead.status = new_status
        lead.updated_at = utcnow()
        session.add(lead)
        session.add(
            LeadEvent(
                lead_id=lead_id,
                kind=EventKind.status,
                old_status=old_status,
                new_status=new_status,
                actor=_clean_actor(actor),
            )
        )
        session.commit()
        session.refresh(lead)
        return lead

    return _retry_locked(session, write)


def assign_lead(*, session: Session, lead_id: int, assigned_to: str | None, actor: str) -> Lead:
    """Assigns a lead to a staff member (None clears it) and notes it in the audit trail.

    Args:
        session: An open session.
        lead_id: The lead id.
        assigned_to: The staff member, e.g. ``"@canbo"``; None to unassign.
        actor: Who made the assignment.

    Returns:
        The updated lead.

    Raises:
        LeadNotFoundError: (a LookupError) if the lead does not exist.
    """

    def write() -> Lead:
        lead = _require_lead(session, lead_id)
        lead.assigned_to = _clean_actor(assigned_to)
        lead.updated_at = utcnow()
        session.add(lead)
        session.add(
            LeadEvent(
                lead_id=lead_id,
                kind=EventKind.updated,
                note=f"assigned_to={lead.assigned_to or ''}",
                actor=_clean_actor(actor),
            )
        )
        session.commit()
        session.refresh(lead)
        return lead

    return _retry_locked(session, write)


def add_note(*, session: Session, lead_id: int, note: str, actor: str) -> LeadEvent:
    """Adds a staff note to a lead's audit trail.

    Args:
        session: An open session.
        lead_id: The lead id.
        note: The note; surrounding whitespace is stripped.
        actor: Who wrote it.

    Returns:
        The stored note event.

    Raises:
        ValueError: If the note is empty or longer than NOTE_MAX characters.
        LeadNotFoundError: (a LookupError) if the lead does not exist.
    """
    text = note.strip()
    if not text:
        raise ValueError("note is empty")
    if len(text) > NOTE_MAX:
        raise ValueError(f"note is longer than {NOTE_MAX} characters")

    def write() -> LeadEvent:
        lead = _require_lead(session, lead_id)
        lead.updated_at = utcnow()
        event = LeadEvent(
            lead_id=lead_id, kind=EventKind.note, note=text, actor=_clean_actor(actor)
        )
        session.add(lead)
        session.add(event)
        session.commit()
        session.refresh(event)
        return event

    return _retry_locked(session, write)


def list_events(*, session: Session, lead_id: int) -> list[LeadEvent]:
    """Returns a lead's audit trail, oldest first.

    Args:
        session: An open session.
        lead_id: The lead id.
    """
    statement = (
        select(LeadEvent)
        .where(LeadEvent.lead_id == lead_id)
        .order_by(col(LeadEvent.created_at), col(LeadEvent.id))
    )
    return list(session.exec(statement).all())


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
        question=_truncate(question, QUESTION_MAX),
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
        question=_truncate(question, QUESTION_MAX),
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
    return _store_row(session, feedback)


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

    return _store_row(session, entry)


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
            update(Lead)
            .where(col(Lead.duplicate_of_id).in_(lead_ids))
            .values(duplicate_of_id=None)
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

    return _retry_locked(session, write)

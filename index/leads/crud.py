"""Writes of leads: keyword-only, validate → add → commit → refresh.

Every write commits itself, so an adapter wraps one call in ``session_scope`` (inside
``asyncio.to_thread`` from async code) and never has to remember to commit.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from index.leads.lead_queries import get_lead
from index.leads.models import (
    NOTE_MAX,
    OPEN_STATUSES,
    EventKind,
    Lead,
    LeadCreate,
    LeadEvent,
    LeadStatus,
    compute_need_key,
    utcnow,
)
from index.leads.outbox import queue_announcement
from index.leads.provinces import province_key
from index.leads.stored_text import clean_actor
from index.leads.write_retry import retry_locked

# Fields of LeadCreate copied onto an open lead when the same owner registers again.
_UPDATABLE_FIELDS = tuple(
    name for name in LeadCreate.model_fields if name not in {"phone", "support_items"}
)


class LeadNotFoundError(LookupError):
    """Raised when a lead id does not exist (it may have been deleted on request)."""

    def __init__(self, lead_id: int) -> None:
        super().__init__(f"lead {lead_id} does not exist")
        self.lead_id = lead_id


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

    return retry_locked(session, write)


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
                actor=clean_actor(actor),
            )
        )
        session.commit()
        session.refresh(lead)
        return lead

    return retry_locked(session, write)


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
        lead.assigned_to = clean_actor(assigned_to)
        lead.updated_at = utcnow()
        session.add(lead)
        session.add(
            LeadEvent(
                lead_id=lead_id,
                kind=EventKind.updated,
                note=f"assigned_to={lead.assigned_to or ''}",
                actor=clean_actor(actor),
            )
        )
        session.commit()
        session.refresh(lead)
        return lead

    return retry_locked(session, write)


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
        event = LeadEvent(lead_id=lead_id, kind=EventKind.note, note=text, actor=clean_actor(actor))
        session.add(lead)
        session.add(event)
        session.commit()
        session.refresh(event)
        return event

    return retry_locked(session, write)

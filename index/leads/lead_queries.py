"""Reads of the leads store: one lead, filtered and paged lists, counts, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from index.leads.models import Lead, LeadEvent, LeadStatus
from index.leads.provinces import province_key

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

"""The staff tools' work on the leads store: list pages, cards, status changes, notes, exports.

Each function opens its own session, so a handler runs it in a worker thread
(`asyncio.to_thread`); the list page and the card are rendered inside the session, while the
leads are still attached. Rendering itself is `bot.lead_views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot import texts
from bot.lead_views import (
    DEFAULT_PAGE,
    Rendered,
    card_markup,
    esc,
    lead_card_text,
    lead_page,
    province_choices,
    stats_text,
)
from index.dates import vn_date_range
from index.leads import crud, lead_queries
from index.leads.db import session_scope
from index.leads.export import leads_to_csv, leads_to_xlsx
from index.leads.models import LeadStatus
from index.leads.provinces import resolve_province
from index.leads.stats import compute_stats

if TYPE_CHECKING:
    import sqlalchemy

#: Leads on one page of /leads.
PAGE_SIZE = 8
#: Days of daily counts /thongke shows.
STATS_DAYS = 14


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """Filters of an /export request: Vietnam calendar days, both ends included."""

    status: LeadStatus | None = None
    since: date | None = None
    until: date | None = None


def render_lead_page(
    db: sqlalchemy.Engine,
    *,
    offset: int,
    status: LeadStatus | None,
    province_query: str | None,
) -> Rendered:
    """Renders one page of the lead list, or asks which province an ambiguous name meant."""
    match = resolve_province(province_query) if province_query else None
    if match is not None and match.ambiguous:
        return province_choices(match, status)
    province = province_query if match is not None else None
    with session_scope(db) as session:
        total = lead_queries.count_leads(session=session, status=status, province=province)
        if total == 0:
            if match is None:
                return Rendered(texts.STAFF_NO_LEADS)
            template = texts.STAFF_UNKNOWN_PROVINCE if match.found else texts.STAFF_NOT_A_PROVINCE
            return Rendered(template.format(province=esc(match.label)))
        offset = max(0, min(offset, (total - 1) // PAGE_SIZE * PAGE_SIZE))
        leads = lead_queries.list_leads(
            session=session, status=status, province=province, offset=offset, limit=PAGE_SIZE
        )
        return lead_page(
            leads, offset=offset, total=total, page_size=PAGE_SIZE, status=status, province=match
        )


def render_lead_card(db: sqlalchemy.Engine, lead_id: int, *, back: str = DEFAULT_PAGE) -> Rendered:
    """Renders the card of one lead with its status, note and back buttons."""
    with session_scope(db) as session:
        lead = lead_queries.get_lead(session=session, lead_id=lead_id)
        if lead is None:
            return Rendered(texts.STAFF_LEAD_NOT_FOUND.format(lead_id=lead_id))
        events = lead_queries.list_events(session=session, lead_id=lead_id)
        return Rendered(lead_card_text(lead, events), card_markup(lead_id, lead.status, back))


def change_lead_status(db: sqlalchemy.Engine, lead_id: int, status: LeadStatus, actor: str) -> bool:
    """Changes the status; False when the lead is gone or already has it."""
    with session_scope(db) as session:
        lead = lead_queries.get_lead(session=session, lead_id=lead_id)
        if lead is None or lead.status == status:
            return False
        crud.change_status(session=session, lead_id=lead_id, status=status, actor=actor)
        return True


def add_lead_note(db: sqlalchemy.Engine, lead_id: int, note: str, actor: str) -> bool:
    with session_scope(db) as session:
        if lead_queries.get_lead(session=session, lead_id=lead_id) is None:
            return False
        crud.add_note(session=session, lead_id=lead_id, note=note, actor=actor)
        return True


def export_leads(db: sqlalchemy.Engine, query: ExportQuery) -> tuple[int, bytes, bytes]:
    """Returns the number of leads and their CSV and XLSX bytes."""
    since, until = vn_date_range(query.since, query.until)
    with session_scope(db) as session:
        leads = lead_queries.list_leads(
            session=session, status=query.status, since=since, until=until, limit=None
        )
        if not leads:
            return 0, b"", b""
        return len(leads), leads_to_csv(leads), leads_to_xlsx(leads)


def render_stats(db: sqlalchemy.Engine, *, days: int = STATS_DAYS) -> str:
    """Renders the /thongke statistics as compact HTML."""
    with session_scope(db) as session:
        return stats_text(compute_stats(session=session, days=days))

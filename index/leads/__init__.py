"""The leads store: registrations, their audit trail, answer feedback and the question log.

Synchronous SQLModel on SQLite (WAL) or PostgreSQL; async callers wrap each call in
``asyncio.to_thread`` with a session opened in the thread (``db.session_scope``).
Never imports ``telegram``: the bot and the CLI are adapters on top of it.
"""

from index.leads.answer_log import log_question, record_feedback
from index.leads.crud import (
    LeadNotFoundError,
    add_note,
    assign_lead,
    change_status,
    upsert_lead,
)
from index.leads.db import (
    create_db_engine,
    current_revision,
    head_revision,
    migrate,
    session_scope,
)
from index.leads.draft import LeadDraft
from index.leads.erasure import delete_user_data
from index.leads.lead_queries import (
    count_leads,
    get_lead,
    list_events,
    list_leads,
    list_leads_for_user,
)
from index.leads.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    EventKind,
    Feedback,
    Lead,
    LeadCreate,
    LeadEvent,
    LeadPublic,
    LeadStatus,
    QuestionLog,
)
from index.leads.phones import InvalidPhoneError, normalize_vn_phone
from index.leads.provinces import Province, ProvinceMatch, province_key, resolve_province
from index.leads.status import parse_status, split_status_prefix, status_label

__all__ = [
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "EventKind",
    "Feedback",
    "InvalidPhoneError",
    "Lead",
    "LeadCreate",
    "LeadDraft",
    "LeadEvent",
    "LeadNotFoundError",
    "LeadPublic",
    "LeadStatus",
    "Province",
    "ProvinceMatch",
    "QuestionLog",
    "add_note",
    "assign_lead",
    "change_status",
    "count_leads",
    "create_db_engine",
    "current_revision",
    "delete_user_data",
    "get_lead",
    "head_revision",
    "list_events",
    "list_leads",
    "list_leads_for_user",
    "log_question",
    "migrate",
    "normalize_vn_phone",
    "parse_status",
    "province_key",
    "record_feedback",
    "resolve_province",
    "session_scope",
    "split_status_prefix",
    "status_label",
    "upsert_lead",
]

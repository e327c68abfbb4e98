"""The leads store: registrations, their audit trail, answer feedback and the question log.

Synchronous SQLModel on SQLite (WAL) or PostgreSQL; async callers wrap each call in
``asyncio.to_thread`` with a session opened in the thread (``db.session_scope``).
Never imports ``telegram``: the bot and the CLI are adapters on top of it.
"""

from index.leads.crud import (
    LeadNotFoundError,
    add_note,
    assign_lead,
    change_status,
    count_leads,
    delete_user_data,
    get_lead,
    list_events,
    list_leads,
    list_leads_for_user,
    log_question,
    record_feedback,
    upsert_lead,
)
from index.leads.db import (
    create_db_engine,
    current_revision,
    head_revision,
    migrate,
    session_scope,
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

__all__ = [
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "EventKind",
    "Feedback",
    "Lead",
    "LeadCreate",
    "LeadEvent",
    "LeadNotFoundError",
    "LeadPublic",
    "LeadStatus",
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
    "record_feedback",
    "session_scope",
    "upsert_lead",
]

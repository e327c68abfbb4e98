"""SQLModel tables of the leads store: leads, their audit trail, answer feedback, question log.

The shapes follow the full-stack-fastapi-template pattern: ``LeadBase`` holds the fields an
owner gives us, ``LeadCreate`` validates them at the edge, ``Lead`` is the table and
``LeadPublic`` is what adapters show. Table models are not validated by SQLModel on
construction, so CRUD code always builds them through ``Lead.model_validate(lead_in)``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import field_validator
from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, text
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel
from typing_extensions import override

from index.leads.phones import normalize_vn_phone
from index.textnorm import fold_key

# Lengths shared by the pydantic validation and the String(n) columns, so PostgreSQL
# enforces the same limits as LeadCreate does.
NAME_MAX = 120
PHONE_MAX = 20
USERNAME_MAX = 64
ESTABLISHMENT_MAX = 200
TYPE_MAX = 60
SECTOR_MAX = 120
PROVINCE_MAX = 60
DISTRICT_MAX = 60
SUPPORT_ITEM_MAX = 100
SUPPORT_ITEMS_MAX = 12
QUESTION_MAX = 2000
NOTE_MAX = 2000
ACTOR_MAX = 100
STATUS_MAX = 20
NEED_KEY_MAX = 255


class LeadStatus(StrEnum):
    """Where a lead stands in the staff follow-up."""

    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    not_eligible = "not_eligible"
    supported = "supported"
    closed = "closed"


STATUS_LABELS: dict[LeadStatus, str] = {
    LeadStatus.new: "Mới",
    LeadStatus.contacted: "Đã liên hệ",
    LeadStatus.qualified: "Đủ điều kiện",
    LeadStatus.not_eligible: "Không đủ điều kiện",
    LeadStatus.supported: "Đã hỗ trợ",
    LeadStatus.closed: "Đã đóng",
}

# A lead in one of these is still being worked on: a repeated registration for the same
# need updates it instead of creating a second lead for staff to call.
OPEN_STATUSES: tuple[LeadStatus, ...] = (
    LeadStatus.new,
    LeadStatus.contacted,
    LeadStatus.qualified,
)
_OPEN_STATUS_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))
#: The owner column of the unique index: leads without a Telegram account share owner 0.
OWNER_KEY_SQL = "coalesce(telegram_user_id, 0)"


class EventKind(StrEnum):
    """What a LeadEvent records."""

    created = "created"
    status = "status"
    note = "note"
    updated = "updated"


def utcnow() -> datetime:
    """Returns the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def compute_need_key(support_items: list[str]) -> str:
    """Builds the deduplication key of a support need: folded, unique, sorted items.

    Args:
        support_items: The support items the owner asked for, in any order and spelling.

    Returns:
        The items joined by ``|``; a sha256 digest when that would not fit the column.
    """
    items = sorted({fold_key(item) for item in support_items if item.strip()})
    key = "|".join(items)
    if len(key) > NEED_KEY_MAX:
        # Long needs are rare; hashing keeps the unique index small on both databases.
        key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


class AwareDateTime(TypeDecorator[datetime]):
    """Stores datetimes in UTC and always returns them timezone-aware.

    SQLite has no time zone type and hands back naive values; without this, a lead read
    back from SQLite would compare differently from the same lead read from PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Rejects naive datetimes and converts aware ones to UTC."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime: store timezone-aware UTC values only")
        return value.astimezone(UTC)

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Marks values from zone-less backends as UTC and normalises the others to UTC."""
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StatusType(TypeDecorator[LeadStatus]):
    """Stores LeadStatus as plain text (no native enum type to migrate) and reads it back typed."""

    impl = String(STATUS_MAX)
    cache_ok = True

    @override
    def process_bind_param(self, value: LeadStatus | str | None, dialect: Dialect) -> str | None:
        """Validates the value against LeadStatus before it reaches the database."""
        return None if value is None else LeadStatus(value).value

    @override
    def process_result_value(self, value: str | None, dialect: Dialect) -> LeadStatus | None:
        """Turns the stored text back into a LeadStatus."""
        return None if value is None else LeadStatus(value)


class EventKindType(TypeDecorator[EventKind]):
    """Stores EventKind as plain text and reads it back typed."""

    impl = String(STATUS_MAX)
    cache_ok = True

    @override
    def process_bind_param(self, value: EventKind | str | None, dialect: Dialect) -> str | None:
        """Validates the value against EventKind before it reaches the database."""
        return None if value is None else EventKind(value).value

    @override
    def process_result_value(self, value: str | None, dialect: Dialect) -> EventKind | None:
        """Turns the stored text back into an EventKind."""
        return None if value is None else EventKind(value)


def _aware_utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError("must be timezone-aware (e.g. datetime.now(UTC))")
    return value.astimezone(UTC)


_BLANK = re.compile(r"\s+")


def _clean_optional(value: str | None) -> str | None:
    if value is None:
        return None
    value = _BLANK.sub(" ", value).strip()
    return value or None


class LeadBase(SQLModel):
    """What an owner tells us when registering for support."""

    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    telegram_username: str | None = Field(default=None, max_length=USERNAME_MAX)
    full_name: str = Field(min_length=1, max_length=NAME_MAX)
    phone: str = Field(min_length=8, max_length=PHONE_MAX, index=True)
    establishment_name: str = Field(min_length=1, max_length=ESTABLISHMENT_MAX)
    establishment_type: str | None = Field(default=None, max_length=TYPE_MAX)
    sector: str | None = Field(default=None, max_length=SECTOR_MAX)
    province: str = Field(min_length=1, max_length=PROVINCE_MAX, index=True)
    district: str | None = Field(default=None, max_length=DISTRICT_MAX)
    support_items: list[str] = Field(default_factory=list, sa_type=JSON)
    eligibility_answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    question: str | None = Field(default=None, max_length=QUESTION_MAX)
    # No consent, no lead (Nghị định 13/2023/NĐ-CP): the field has no default, so a
    # LeadCreate without it fails validation.
    consent_at: datetime = Field(sa_type=AwareDateTime)


class LeadCreate(LeadBase):
    """Validated input of upsert_lead; normalises phone, whitespace and support items."""

    @field_validator("full_name", "establishment_name", "province", mode="before")
    @classmethod
    def _strip_required(cls, value: Any) -> Any:
        return _BLANK.sub(" ", value).strip() if isinstance(value, str) else value

    @field_validator(
        "telegram_username", "establishment_type", "sector", "district", "question", mode="before"
    )
    @classmethod
    def _strip_optional(cls, value: Any) -> Any:
        return _clean_optional(value) if isinstance(value, str) or value is None else value

    @field_validator("phone")
    @classmethod
    def _phone_e164(cls, value: str) -> str:
        return normalize_vn_phone(value)

    @field_validator("support_items")
    @classmethod
    def _support_items(cls, value: list[str]) -> list[str]:
        items: list[str] = []
        for raw in value:
            item = _BLANK.sub(" ", unicodedata.normalize("NFC", raw)).strip()
            if not item:
                continue
            if len(item) > SUPPORT_ITEM_MAX:
                raise ValueError(f"support item longer than {SUPPORT_ITEM_MAX} characters")
            if item not in items:
                items.append(item)
        if len(items) > SUPPORT_ITEMS_MAX:
            raise ValueError(f"at most {SUPPORT_ITEMS_MAX} support items")
        return items

    @field_validator("consent_at")
    @classmethod
    def _consent_aware(cls, value: datetime) -> datetime:
        return _aware_utc(value)


class Lead(LeadBase, table=True):
    """A registered request for support, followed up by staff."""

    __tablename__: ClassVar[str] = "leads"  # type: ignore[misc]
    __table_args__ = (
        # Race-safe deduplication: at most one open lead per owner, phone and need, enforced
        # by the database so a double tap cannot insert twice. The owner is part of the key:
        # someone else's phone number makes a new lead (flagged), never an update of theirs.
        # COALESCE because NULLs never collide in a unique index (leads without an account).
        Index(
            "uq_leads_open_owner_phone_need",
            text(OWNER_KEY_SQL),
            "phone",
            "need_key",
            unique=True,
            sqlite_where=text(_OPEN_STATUS_SQL),
            postgresql_where=text(_OPEN_STATUS_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: An open lead of another account with the same phone and need, for staff to check.
    #: Never shown to the registering user. No ON DELETE rule: SQLite cannot reflect one on
    #: a column added in place, so delete_user_data clears these pointers itself.
    duplicate_of_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("leads.id"), nullable=True, index=True),
    )
    # Matching keys: the province id of `index.leads.provinces` (so "Quảng Nam" and "Đà Nẵng"
    # agree since 2025) or the folded text; the folded, sorted support items.
    province_key: str = Field(default="", max_length=PROVINCE_MAX, index=True)
    need_key: str = Field(default="", max_length=NEED_KEY_MAX, index=True)
    status: LeadStatus = Field(
        default=LeadStatus.new, sa_type=StatusType, index=True, nullable=False
    )
    assigned_to: str | None = Field(default=None, max_length=ACTOR_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class LeadPublic(LeadBase):
    """A lead as adapters show it (CLI listings, staff cards)."""

    id: int
    duplicate_of_id: int | None = None
    status: LeadStatus
    assigned_to: str | None
    created_at: datetime
    updated_at: datetime


class LeadEvent(SQLModel, table=True):
    """One entry of a lead's audit trail: creation, update, status change or note."""

    __tablename__: ClassVar[str] = "lead_events"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: EventKind = Field(sa_type=EventKindType, nullable=False)
    old_status: LeadStatus | None = Field(default=None, sa_type=StatusType)
    new_status: LeadStatus | None = Field(default=None, sa_type=StatusType)
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    actor: str | None = Field(default=None, max_length=ACTOR_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class Feedback(SQLModel, table=True):
    """A 👍/👎 on one answer, with the chunks it was built from."""

    __tablename__: ClassVar[str] = "feedback"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    question: str = Field(max_length=QUESTION_MAX)
    chunk_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    rating: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class QuestionLog(SQLModel, table=True):
    """One question asked to the bot; feeds the statistics and the unanswered list."""

    __tablename__: ClassVar[str] = "question_logs"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    question: str = Field(max_length=QUESTION_MAX)
    confident: bool
    chunk_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    latency_ms: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)


class AnnouncementState(StrEnum):
    """Where a staff announcement of a lead stands in the outbox."""

    pending = "pending"
    sent = "sent"
    #: Given up after the configured attempts; logged. The lead itself is safe.
    lost = "lost"


class LeadAnnouncement(SQLModel, table=True):
    """The outbox of staff-chat announcements: one row per new or updated lead.

    Written in the lead's own transaction, so a committed lead is always announced (or
    recorded as lost), even across a crash; the bot's job queue drains it. Holds no personal
    data, only the lead id, and goes with the lead when it is deleted.
    """

    __tablename__: ClassVar[str] = "lead_announcements"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    updated: bool = False
    state: str = Field(default=AnnouncementState.pending.value, max_length=STATUS_MAX, index=True)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    done_at: datetime | None = Field(default=None, sa_type=AwareDateTime)

"""A registration in progress: what the owner has answered so far, and what to ask next.

Transport-agnostic: the Telegram flow keeps one `LeadDraft` per user (in its persisted
user_data), asks for `next_missing()` until it is None, then builds the `LeadCreate`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from index.leads.models import (
    PROVINCE_MAX,
    QUESTION_MAX,
    SECTOR_MAX,
    SUPPORT_ITEM_MAX,
    TYPE_MAX,
    LeadCreate,
)

#: The questions of a registration, in the order they are asked (ASK_ORDER).
DraftField = Literal[
    "full_name",
    "phone",
    "establishment_name",
    "establishment_type",
    "province",
    "district",
    "support_items",
    "consent_at",
]
ASK_ORDER: tuple[DraftField, ...] = get_args(DraftField)
#: Questions an owner may skip; a skipped one is answered (with nothing).
OPTIONAL: frozenset[DraftField] = frozenset({"district"})


class LeadDraft(BaseModel):
    """The answers of an unfinished registration (None: not answered yet)."""

    full_name: str | None = None
    phone: str | None = None
    establishment_name: str | None = None
    establishment_type: str | None = None
    sector: str | None = None
    province: str | None = None
    district: str | None = None
    #: [] is an answer too ("chưa rõ"); None means not asked yet.
    support_items: list[str] | None = None
    #: Items ticked on the buttons before "Xong".
    support_selection: list[str] = Field(default_factory=list)
    eligibility_answers: dict[str, Any] = Field(default_factory=dict)
    question: str | None = None
    consent_at: datetime | None = None
    skipped: set[str] = Field(default_factory=set)
    #: When the owner last answered; a draft older than the conversation timeout is deleted.
    touched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def next_missing(self) -> DraftField | None:
        """The first question not answered (or skipped) yet; None when the draft is complete."""
        for name in ASK_ORDER:
            if getattr(self, name) is None and name not in self.skipped:
                return name
        return None

    def touch(self, now: datetime | None = None) -> None:
        """Records that the owner just answered."""
        self.touched_at = now or datetime.now(UTC)

    def abandoned(self, timeout: timedelta, now: datetime | None = None) -> bool:
        """Tells whether nobody answered for longer than `timeout`."""
        return (now or datetime.now(UTC)) - self.touched_at > timeout

    def skip(self, name: DraftField) -> None:
        """Records that the owner chose not to answer an optional question."""
        if name not in OPTIONAL:
            raise ValueError(f"{name} cannot be skipped")
        setattr(self, name, None)
        self.skipped.add(name)

    def clear(self, *names: str) -> None:
        """Forgets answers, so they are asked again (editing from the summary)."""
        for name in names:
            if name == "support_items":
                self.support_selection = []
            setattr(self, name, None)
            self.skipped.discard(name)

    @classmethod
    def prefilled(cls, check: dict[str, Any] | None, last_question: object) -> LeadDraft:
        """A new draft with what an eligibility check and the last question already told us.

        Args:
            check: The stored /kiemtra result (labels of the chosen options), if any.
            last_question: The last question the owner asked, kept as the lead's question.
        """
        draft = cls()
        if check:
            draft.eligibility_answers = dict(check)
            if check.get("establishment_type_label"):
                draft.establishment_type = str(check["establishment_type_label"])[:TYPE_MAX]
            if check.get("sector_label"):
                draft.sector = str(check["sector_label"])[:SECTOR_MAX]
            if check.get("province_label"):
                draft.province = str(check["province_label"])[:PROVINCE_MAX]
            labels = [str(label)[:SUPPORT_ITEM_MAX] for label in check.get("support_item_labels", [])]
            draft.support_items = labels or None
        if isinstance(last_question, str) and last_question.strip():
            draft.question = last_question.strip()[:QUESTION_MAX]
        return draft

    def prefilled_fields(self) -> list[DraftField]:
        """The questions an eligibility check already answered (they are skipped)."""
        names: tuple[DraftField, ...] = ("establishment_type", "province", "support_items")
        return [name for name in names if getattr(self, name)]

    def to_lead_create(
        self, *, telegram_user_id: int | None, telegram_username: str | None
    ) -> LeadCreate:
        """The validated registration.

        Raises:
            pydantic.ValidationError: If an answer is missing or invalid (e.g. no consent).
        """
        return LeadCreate.model_validate(
            {
                **self.model_dump(exclude={"support_selection", "skipped", "touched_at"}),
                "support_items": list(self.support_items or []),
                "telegram_user_id": telegram_user_id,
                "telegram_username": telegram_username,
            }
        )

    @classmethod
    def from_stored(cls, raw: object) -> LeadDraft:
        """Reads a draft kept in user_data, including the plain dicts of earlier versions.

        Earlier versions stored a dict in which a present key meant "answered", so a present
        district of None means the owner skipped it.
        """
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, dict):
            return cls()
        values = {key: value for key, value in raw.items() if key in cls.model_fields}
        draft = cls.model_validate(values)
        if "district" in raw and raw["district"] is None:
            draft.skipped.add("district")
        return draft

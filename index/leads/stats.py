"""Usage statistics for staff: leads by status/province/need and how well questions go.

Grouping by normalised question text is done in Python, so it behaves the same on
SQLite and PostgreSQL (their Unicode case folding differs); the volumes are small.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from index.dates import VN_TZ, vn_day_bounds, vn_today
from index.leads.models import Lead, LeadStatus, QuestionLog, utcnow
from index.leads.provinces import province_by_id, province_key, resolve_province
from index.textnorm import compare_key, fold_key

TOP_UNANSWERED = 10
_TRAILING_PUNCTUATION = re.compile(r"[\s?？!.。…,;:]+$")


def normalize_question(text: str) -> str:
    """Normalises a question for grouping: NFC, casefold, single spaces, no end punctuation.

    Args:
        text: The question as asked.

    Returns:
        The grouping key; ``"Vay vốn  thế nào ??"`` and ``"vay vốn thế nào"`` agree.
    """
    return _TRAILING_PUNCTUATION.sub("", compare_key(text))


@dataclass(frozen=True)
class Stats:
    """A snapshot of the leads store for the `stats` command and the admin menu.

    Lead counts cover every stored lead (the current pipeline); question figures cover
    the last ``days`` days in Vietnam time, ending today.
    """

    days: int
    start: datetime
    end: datetime
    total_leads: int
    leads_in_period: int
    leads_by_status: dict[LeadStatus, int]
    leads_by_province: dict[str, int]
    leads_by_support_item: dict[str, int]
    questions_per_day: list[tuple[date, int]]
    total_questions: int
    confident_questions: int
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)

    @property
    def confident_share(self) -> float | None:
        """The share of questions answered confidently, or None if nobody asked."""
        if self.total_questions == 0:
            return None
        return self.confident_questions / self.total_questions


def _most_common_spelling(spellings: Counter[str]) -> str:
    # Counter.most_common keeps first-seen order on ties, so the result is stable.
    return spellings.most_common(1)[0][0]


def _province_name(key: str, spellings: Counter[str]) -> str:
    # Leads typed "Quảng Nam" and "Đà Nẵng" share one key since 2025: a group of one old name
    # shows as "Đà Nẵng (Quảng Nam cũ)", a mixed group under today's name.
    province = province_by_id(key)
    if province is None:
        return _most_common_spelling(spellings)
    if len(spellings) == 1:
        return resolve_province(_most_common_spelling(spellings)).label
    return province.name


def compute_stats(*, session: Session, days: int = 30, now: datetime | None = None) -> Stats:
    """Computes the staff statistics.

    Args:
        session: An open session.
        days: How many days of questions to cover, today included (Vietnam time).
        now: The current time (aware); tests pass a fixed value.

    Returns:
        The statistics.

    Raises:
        ValueError: If ``days`` is not positive or ``now`` is naive.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or utcnow()
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    first_day = vn_today(now) - timedelta(days=days - 1)
    start, _ = vn_day_bounds(first_day)
    end = now

    # Whole rows: the volumes are small and the JSON support items are needed anyway.
    leads = session.exec(select(Lead).order_by(col(Lead.id))).all()
    by_status: dict[LeadStatus, int] = dict.fromkeys(LeadStatus, 0)
    province_counts: Counter[str] = Counter()
    province_spellings: dict[str, Counter[str]] = {}
    item_counts: Counter[str] = Counter()
    item_spellings: dict[str, Counter[str]] = {}
    leads_in_period = 0
    for lead in leads:
        by_status[LeadStatus(lead.status)] += 1
        key = lead.province_key or province_key(lead.province)
        province_counts[key] += 1
        province_spellings.setdefault(key, Counter())[lead.province] += 1
        for item in lead.support_items or []:
            item_key = fold_key(item)
            item_counts[item_key] += 1
            item_spellings.setdefault(item_key, Counter())[item] += 1
        if start <= lead.created_at <= end:
            leads_in_period += 1

    questions = session.exec(
        select(QuestionLog.question, QuestionLog.confident, QuestionLog.created_at)
        .where(col(QuestionLog.created_at) >= start, col(QuestionLog.created_at) <= end)
        # Oldest first, so a group is shown in the spelling that was asked first.
        .order_by(col(QuestionLog.created_at), col(QuestionLog.id))
    ).all()
    per_day: Counter[date] = Counter()
    unanswered: Counter[str] = Counter()
    unanswered_spellings: dict[str, Counter[str]] = {}
    confident_count = 0
    for question, confident, created_at in questions:
        per_day[created_at.astimezone(VN_TZ).date()] += 1
        if confident:
            confident_count += 1
            continue
        key = normalize_question(question)
        if not key:
            continue
        unanswered[key] += 1
        unanswered_spellings.setdefault(key, Counter())[" ".join(question.split())] += 1

    return Stats(
        days=days,
        start=start,
        end=end,
        total_leads=len(leads),
        leads_in_period=leads_in_period,
        leads_by_status=by_status,
        leads_by_province={
            _province_name(key, province_spellings[key]): count
            for key, count in province_counts.most_common()
        },
        leads_by_support_item={
            _most_common_spelling(item_spellings[key]): count
            for key, count in item_counts.most_common()
        },
        questions_per_day=[
            (first_day + timedelta(days=offset), per_day[first_day + timedelta(days=offset)])
            for offset in range(days)
        ],
        total_questions=len(questions),
        confident_questions=confident_count,
        top_unanswered=[
            (_most_common_spelling(unanswered_spellings[key]), count)
            for key, count in unanswered.most_common(TOP_UNANSWERED)
        ],
    )

"""Texts that name the core's codes cover every code; each text lives in one section module."""

from __future__ import annotations

from bot import texts
from bot.answer_views import doc_status_label
from bot.texts import admin, common, eligibility, leads, staff
from index.leads.models import STATUS_LABELS, LeadStatus
from index.schema import DOC_STATUSES


def test_every_document_status_has_one_label() -> None:
    assert set(texts.DOC_STATUS_LABELS) == set(DOC_STATUSES)
    assert doc_status_label("superseded") == texts.DOC_STATUS_LABELS["superseded"]
    assert doc_status_label("draft") == "draft"  # an unknown code is shown, not hidden


def test_every_lead_status_has_a_distinct_label() -> None:
    assert set(STATUS_LABELS) == set(LeadStatus)
    assert len(set(STATUS_LABELS.values())) == len(LeadStatus)


def test_each_text_belongs_to_one_section() -> None:
    sections = [admin, common, eligibility, leads, staff]
    names = [name for module in sections for name in vars(module) if _is_text(name)]
    assert len(names) == len(set(names))  # a name in two sections would shadow one of them
    assert {name for name in vars(texts) if _is_text(name)} == set(names)


def _is_text(name: str) -> bool:
    return name.isupper() and not name.startswith("_")

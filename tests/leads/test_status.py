"""Lead statuses as staff type them, the same in the CLI and Telegram."""

from __future__ import annotations

import pytest

from index.leads.models import STATUS_LABELS, LeadStatus
from index.leads.status import parse_status, split_status_prefix, status_label


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("new", LeadStatus.new),
        ("moi", LeadStatus.new),
        ("MỚI", LeadStatus.new),
        ("Đã liên hệ", LeadStatus.contacted),
        ("da lien he", LeadStatus.contacted),
        ("da_lien_he", LeadStatus.contacted),
        ("not_eligible", LeadStatus.not_eligible),
        ("not eligible", LeadStatus.not_eligible),
        ("khong du dieu kien", LeadStatus.not_eligible),
        ("đủ điều kiện", LeadStatus.qualified),
    ],
)
def test_values_and_labels_are_read_accent_insensitively(typed: str, status: LeadStatus) -> None:
    assert parse_status(typed) is status


@pytest.mark.parametrize("typed", ["", "quang nam", "bogus", "da"])
def test_other_words_are_no_status(typed: str) -> None:
    assert parse_status(typed) is None


def test_every_status_has_a_label_that_reads_back() -> None:
    for status in LeadStatus:
        assert status_label(status) == STATUS_LABELS[status]
        assert parse_status(status_label(status)) is status
    assert status_label("archived") == "archived"


def test_split_status_prefix_leaves_the_province() -> None:
    assert split_status_prefix(["da", "lien", "he", "Quảng", "Nam"]) == (
        LeadStatus.contacted,
        ["Quảng", "Nam"],
    )
    assert split_status_prefix(["Quang", "Nam"]) == (None, ["Quang", "Nam"])
    assert split_status_prefix([]) == (None, [])

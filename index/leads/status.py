"""Lead statuses as staff type and read them, the same in the CLI and in Telegram."""

from __future__ import annotations

from collections.abc import Sequence

from index.leads.models import STATUS_LABELS, LeadStatus
from index.textnorm import fold_words


def status_label(status: LeadStatus | str) -> str:
    """The Vietnamese label of a lead status ("Đã liên hệ"); unknown values as they are."""
    try:
        return STATUS_LABELS[LeadStatus(status)]
    except ValueError:
        return str(status)


def parse_status(text: str) -> LeadStatus | None:
    """Reads a status from its value or its Vietnamese label, ignoring accents, case and "_".

    Args:
        text: E.g. "contacted", "not_eligible", "Đã liên hệ", "da lien he", "MỚI".

    Returns:
        The status, or None when the text names none.
    """
    wanted = fold_words(text)
    if not wanted:
        return None
    for status in LeadStatus:
        if wanted in (fold_words(status.value), fold_words(STATUS_LABELS[status])):
            return status
    return None


def split_status_prefix(words: Sequence[str]) -> tuple[LeadStatus | None, list[str]]:
    """Takes the longest leading words that name a status; the rest stays (a province).

    Args:
        words: Command arguments, e.g. ["da", "lien", "he", "Quảng", "Nam"].

    Returns:
        The status (or None) and the remaining words.
    """
    for size in range(len(words), 0, -1):
        status = parse_status(" ".join(words[:size]))
        if status is not None:
            return status, list(words[size:])
    return None, list(words)

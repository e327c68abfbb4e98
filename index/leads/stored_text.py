"""Text as the leads store keeps it: stripped and cut to its column's limit."""

from __future__ import annotations

from index.leads.models import ACTOR_MAX


def truncate(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_actor(actor: str | None) -> str | None:
    if actor is None:
        return None
    return truncate(actor, ACTOR_MAX) or None

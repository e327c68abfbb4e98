"""What a registration load run left behind: the leads stored and the ones staff were told of.

`scripts.loadtest` and its tests compare them with what the simulated users were confirmed
(`scripts.load_scenarios.run_register`): a lead confirmed but not stored is lost.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot import texts

if TYPE_CHECKING:
    from scripts.fake_bot_api import FakeBotApi
    from scripts.load_scenarios import RegisterResult


def template_regex(template: str) -> re.Pattern[str]:
    """Turns a texts template with {lead_id} into a regex capturing the id."""
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{lead_id}"), r"(?P<lead_id>\d+)")
    return re.compile(re.sub(r"\\\{\w+\\\}", ".*", pattern), re.DOTALL)


STAFF_LEAD_RES = (
    template_regex(texts.STAFF_NEW_LEAD),
    template_regex(texts.STAFF_UPDATED_LEAD),
)
#: The first line of a digest of many leads; its ids follow as "#12, #13, …".
STAFF_DIGEST_RE = re.compile(
    re.sub(r"\\\{\w+\\\}", ".*", re.escape(texts.STAFF_DIGEST.split("\n", 1)[0]))
)
_DIGEST_ID_RE = re.compile(
    re.escape(texts.STAFF_DIGEST_LEAD_ID).replace(re.escape("{lead_id}"), r"(\d+)")
)


def announced_leads(api: FakeBotApi, staff_chat_id: int) -> set[int]:
    """Lead ids the staff chat was told about (new or updated), one by one or in digests."""
    found: set[int] = set()
    for call in api.calls_to(staff_chat_id):
        if STAFF_DIGEST_RE.search(call.text):
            found.update(int(number) for number in _DIGEST_ID_RE.findall(call.text))
            continue
        for regex in STAFF_LEAD_RES:
            match = regex.search(call.text)
            if match:
                found.add(int(match["lead_id"]))
    return found


def lead_counts(database_url: str, user_ids: Sequence[int]) -> dict[int, list[int]]:
    """Maps each user id to the ids of the leads stored for it."""
    from sqlmodel import col, select

    from index.leads.db import create_db_engine, session_scope
    from index.leads.models import Lead

    engine = create_db_engine(database_url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(
                select(Lead.telegram_user_id, Lead.id).where(
                    col(Lead.telegram_user_id).in_(list(user_ids))
                )
            ).all()
    finally:
        engine.dispose()
    stored: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
    for user_id, lead_id in rows:
        if user_id is not None and lead_id is not None:
            stored[int(user_id)].append(int(lead_id))
    return stored


def lead_report(
    result: RegisterResult, stored: dict[int, list[int]], announced: set[int]
) -> dict[str, int]:
    """Leads saved vs confirmed: lost, duplicated, announced."""
    confirmed_ids = {r.user_id: r.lead_id for r in result.confirmed}
    return {
        "leads_confirmed": len(confirmed_ids),
        "leads_saved": sum(1 for ids in stored.values() if ids),
        "leads_lost": sum(
            1 for user_id, lead_id in confirmed_ids.items() if lead_id not in stored[user_id]
        ),
        "leads_duplicated": sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1),
        "leads_announced": len(announced & {i for ids in stored.values() for i in ids}),
    }


def wait_for_announcements(
    api: FakeBotApi, database_url: str, result: RegisterResult, staff_chat_id: int, wait: float
) -> None:
    """Gives the staff announcements up to `wait` seconds to catch up with the stored leads."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        stored = lead_counts(database_url, [r.user_id for r in result.registrations])
        wanted = {i for ids in stored.values() for i in ids}
        if wanted <= announced_leads(api, staff_chat_id):
            return
        time.sleep(0.5)

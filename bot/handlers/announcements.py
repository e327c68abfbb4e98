"""Staff-chat announcements of new leads, sent from the outbox by a repeating job.

The registration handler only commits the lead together with its outbox row
(`crud.upsert_lead(..., announce=True)`) and answers the user; Telegram's ~20 messages a
minute into a group can then never make a user wait. Every `STAFF_ANNOUNCE_SECONDS` the job
sends what is due: one message per lead when there are at most `STAFF_DIGEST_THRESHOLD`,
else one digest ("12 hồ sơ mới trong 5 phút qua") with a button to the lead list. A failed
send is retried with a doubling backoff (or Telegram's retry_after), and after
`STAFF_ANNOUNCE_ATTEMPTS` recorded as lost and logged: the lead stays in /leads.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter, TelegramError

from bot.context import BotApplication, BotContext
from bot.lead_views import announcement, digest
from bot.rate_limit import NO_RETRIES
from index.leads import outbox
from index.leads.db import session_scope
from index.leads.models import utcnow

if TYPE_CHECKING:
    import sqlalchemy
    from telegram.ext import ExtBot

    from index.leads.outbox import DueAnnouncement
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Pause before the first retry; it doubles with each further attempt (outbox.mark_failed).
RETRY_BACKOFF = timedelta(seconds=30)
#: Leads taken per drain; a digest lists their ids (about 8 characters each, far under
#: Telegram's 4,096 per message), and more wait for the next run.
BATCH_LIMIT = 200
JOB_NAME = "staff-announcements"


def _due(db: sqlalchemy.Engine, now: datetime) -> list[DueAnnouncement]:
    with session_scope(db) as session:
        return outbox.due_announcements(session=session, now=now, limit=BATCH_LIMIT)


def _sent(db: sqlalchemy.Engine, ids: list[int], now: datetime) -> None:
    with session_scope(db) as session:
        outbox.mark_sent(session=session, ids=ids, now=now)


def _failed(
    db: sqlalchemy.Engine,
    ids: list[int],
    settings: Settings,
    retry_after: timedelta | None,
    now: datetime,
) -> list[int]:
    with session_scope(db) as session:
        return outbox.mark_failed(
            session=session,
            ids=ids,
            max_attempts=settings.staff_announce_attempts,
            backoff=RETRY_BACKOFF,
            retry_after=retry_after,
            now=now,
        )


def _retry_after(exc: TelegramError) -> timedelta | None:
    if isinstance(exc, RetryAfter):
        delay = exc.retry_after
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        return timedelta(seconds=seconds)
    return None


async def _send(
    bot: ExtBot[Any],
    db: sqlalchemy.Engine,
    settings: Settings,
    chat_id: int,
    items: list[DueAnnouncement],
    now: datetime,
) -> int:
    """Sends one message for `items` (a single lead or a digest); returns leads announced."""
    ids = [item.id for item in items]
    try:
        if len(items) == 1 and items[0].lead is not None:
            rendered = announcement(items[0].lead, updated=items[0].updated)
        else:
            oldest = min(item.created_at for item in items)
            minutes = math.ceil((now - oldest).total_seconds() / 60)
            rendered = digest(
                [item.lead_id for item in items],
                updated=sum(1 for item in items if item.updated),
                minutes=minutes,
            )
        # No retry inside the rate limiter: the outbox retries a 429 after its retry_after
        # itself, without holding this job for that long.
        await bot.send_message(
            chat_id, rendered.text, reply_markup=rendered.markup, rate_limit_args=NO_RETRIES
        )
    except TelegramError as exc:
        lost = await asyncio.to_thread(_failed, db, ids, settings, _retry_after(exc), now)
        logger.warning(
            "Could not announce %s lead(s) to the staff chat (%s); will retry",
            len(items),
            type(exc).__name__,
        )
        for lead_id in lost:
            logger.error(
                "Announcement of lead %s lost after %s attempts; the lead is saved",
                lead_id,
                settings.staff_announce_attempts,
            )
        return 0
    await asyncio.to_thread(_sent, db, ids, now)
    return len(items)


async def drain_outbox(
    bot: ExtBot[Any], db: sqlalchemy.Engine, settings: Settings, *, now: datetime | None = None
) -> int:
    """Sends the due announcements (one each, or a digest); returns how many leads went out."""
    chat_id = settings.staff_chat_id
    if chat_id is None:
        return 0
    now = now or utcnow()
    due = await asyncio.to_thread(_due, db, now)
    # Deleted on request since they were queued: nothing to say about them.
    gone = [item.id for item in due if item.lead is None]
    if gone:
        await asyncio.to_thread(_sent, db, gone, now)
    due = [item for item in due if item.lead is not None]
    if not due:
        return 0
    if len(due) > settings.staff_digest_threshold:
        return await _send(bot, db, settings, chat_id, due, now)
    announced = 0
    for item in due:
        announced += await _send(bot, db, settings, chat_id, [item], now)
    return announced


async def announce_job(context: BotContext) -> None:
    """The repeating job: drains the outbox; a database outage waits for the next run."""
    settings = context.bot_data.settings
    db = context.bot_data.db
    if settings is None or db is None:
        return
    try:
        await drain_outbox(context.bot, db, settings)
    except Exception as exc:
        # The rows stay pending, so nothing is lost; the next run tries again.
        logger.warning("Could not read the announcement outbox: %s", type(exc).__name__)


def register(app: BotApplication) -> None:
    """Schedules the outbox drain when a staff chat is configured."""
    settings = app.bot_data.settings
    if settings is None or settings.staff_chat_id is None or app.job_queue is None:
        return
    interval = timedelta(seconds=settings.staff_announce_seconds)
    app.job_queue.run_repeating(announce_job, interval=interval, first=interval, name=JOB_NAME)

"""Staff announcements from the outbox: one per lead, a digest in a burst, retry, lost."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from telegram.error import NetworkError, RetryAfter

from bot import texts
from bot.handlers.announcements import JOB_NAME, drain_outbox
from bot.lead_views import DEFAULT_PAGE
from index.leads import crud, erasure, lead_queries
from index.leads.db import create_db_engine, session_scope
from index.leads.models import AnnouncementState, LeadAnnouncement, LeadCreate, utcnow
from tests.bot.conftest import STAFF_CHAT_ID, STAFF_ID

_phones = itertools.count(1)


def queue_lead(db_engine: Any, *, user_id: int | None = None, **overrides: Any) -> int:
    """Stores a lead with its announcement, as the registration handler does."""
    number = next(_phones)
    data: dict[str, Any] = {
        "telegram_user_id": user_id or 5_560_000 + number,
        "full_name": "Nguyễn Văn An",
        "phone": f"+8492{number:07d}",
        "establishment_name": "Cơ sở mộc An Phát",
        "province": "Quảng Nam",
        "support_items": ["Máy móc thiết bị"],
        "consent_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    data.update(overrides)
    with session_scope(db_engine) as session:
        lead, _ = crud.upsert_lead(
            session=session, lead_in=LeadCreate.model_validate(data), announce=True
        )
        assert lead.id is not None
        return lead.id


def rows(db_engine: Any) -> list[LeadAnnouncement]:
    with session_scope(db_engine) as session:
        return list(session.exec(select(LeadAnnouncement)).all())


def staff_messages(sent: Any) -> list[Any]:
    return [c for c in sent.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT_ID]


async def test_few_leads_get_one_message_each_then_nothing_more(app, sent, db_engine) -> None:
    first, second = queue_lead(db_engine), queue_lead(db_engine, full_name="Võ <b>Tám</b>")
    settings = app.bot_data.settings

    assert await drain_outbox(app.bot, db_engine, settings) == 2

    calls = staff_messages(sent)
    assert len(calls) == 2
    for call, lead_id in zip(calls, (first, second), strict=True):
        assert texts.STAFF_NEW_LEAD.format(lead_id=lead_id) in call.params["text"]
    assert "Võ &lt;b&gt;Tám&lt;/b&gt;" in calls[1].params["text"]
    assert sent.callback_data() == [f"staff:lead:{first}", f"staff:lead:{second}"]
    assert {row.state for row in rows(db_engine)} == {AnnouncementState.sent.value}
    sent.clear()
    assert await drain_outbox(app.bot, db_engine, settings) == 0
    assert not sent


async def test_a_burst_becomes_one_digest_whose_button_opens_the_list(
    app, sent, db_engine, make_callback_update
) -> None:
    settings = app.bot_data.settings
    lead_ids = [queue_lead(db_engine) for _ in range(settings.staff_digest_threshold + 2)]

    assert await drain_outbox(app.bot, db_engine, settings) == len(lead_ids)

    (digest,) = staff_messages(sent)
    assert f"{len(lead_ids)} hồ sơ mới" in digest.params["text"]
    assert all(f"#{lead_id}" in digest.params["text"] for lead_id in lead_ids)
    assert sent.buttons() == [(texts.STAFF_BUTTON_LIST, DEFAULT_PAGE)]
    # The button is the lead list's own callback: pressed by staff in the staff chat it pages.
    sent.clear()
    await app.process_update(
        make_callback_update(DEFAULT_PAGE, user_id=STAFF_ID, chat_id=STAFF_CHAT_ID)
    )
    listed = [d for d in sent.callback_data() if d.startswith("staff:lead:")]
    assert listed and set(listed) <= {f"staff:lead:{i}" for i in lead_ids}


async def test_retry_after_is_respected_then_the_lead_goes_out(
    app, sent, recording, db_engine
) -> None:
    lead_id = queue_lead(db_engine)
    settings = app.bot_data.settings
    now = utcnow()
    recording.fail_methods["sendMessage"] = RetryAfter(120)

    assert await drain_outbox(app.bot, db_engine, settings, now=now) == 0
    (row,) = rows(db_engine)
    assert row.state == AnnouncementState.pending.value and row.attempts == 1
    assert row.next_attempt_at >= now + timedelta(seconds=119)
    # The rate limiter paused the staff group's gate for the retry_after, in real time;
    # this test fakes the outbox's clock only, so it ends that pause by hand.
    limiter = app.bot.rate_limiter
    assert limiter.groups[settings.staff_chat_id].floods == 1
    limiter.groups.clear()

    del recording.fail_methods["sendMessage"]
    sent.clear()
    assert await drain_outbox(app.bot, db_engine, settings, now=now + timedelta(seconds=60)) == 0
    assert not sent, "retried before Telegram's retry_after"
    assert await drain_outbox(app.bot, db_engine, settings, now=now + timedelta(minutes=3)) == 1
    assert f"#{lead_id}" in staff_messages(sent)[0].params["text"]


async def test_an_announcement_failing_every_attempt_is_logged_lost_and_the_lead_kept(
    app, recording, db_engine, caplog
) -> None:
    lead_id = queue_lead(db_engine)
    settings = app.bot_data.settings.model_copy(update={"staff_announce_attempts": 2})
    recording.fail_methods["sendMessage"] = NetworkError("staff group unreachable")
    now = utcnow()

    with caplog.at_level(logging.WARNING):
        await drain_outbox(app.bot, db_engine, settings, now=now)
        assert rows(db_engine)[0].state == AnnouncementState.pending.value
        await drain_outbox(app.bot, db_engine, settings, now=now + timedelta(hours=1))

    (row,) = rows(db_engine)
    assert row.state == AnnouncementState.lost.value and row.attempts == 2
    assert f"lead {lead_id} lost after 2 attempts" in caplog.text
    with session_scope(db_engine) as session:
        assert lead_queries.get_lead(session=session, lead_id=lead_id) is not None
    # Nothing more is tried for a lost announcement.
    assert await drain_outbox(app.bot, db_engine, settings, now=now + timedelta(days=1)) == 0


async def test_erasure_removes_the_users_pending_announcements(app, sent, db_engine) -> None:
    queue_lead(db_engine, user_id=777)
    kept = queue_lead(db_engine, user_id=778)
    with session_scope(db_engine) as session:
        erasure.delete_user_data(session=session, telegram_user_id=777)

    assert [row.lead_id for row in rows(db_engine)] == [kept]
    assert await drain_outbox(app.bot, db_engine, app.bot_data.settings) == 1


@pytest.mark.job_queue
async def test_the_repeating_job_survives_a_vanished_database(app, sent, tmp_path, caplog) -> None:
    (job,) = app.job_queue.get_jobs_by_name(JOB_NAME)
    broken = create_db_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    # A directory where the file should be: every connection fails.
    (tmp_path / "missing" / "dir" / "x.db").mkdir(parents=True)
    app.bot_data.db = broken
    try:
        with caplog.at_level(logging.WARNING):
            await job.run(app)
    finally:
        broken.dispose()
    assert "Could not read the announcement outbox" in caplog.text
    assert not staff_messages(sent)


async def test_without_a_staff_chat_nothing_is_queued_or_scheduled(
    bot_settings, bot_engine, db_engine, recording
) -> None:
    from bot.app import build_application

    settings = bot_settings.model_copy(update={"staff_chat_id": None})
    application = build_application(
        settings, engine=bot_engine, db_engine=db_engine, request=recording, persistence=False
    )
    assert application.job_queue is not None
    assert not application.job_queue.get_jobs_by_name(JOB_NAME)


async def test_doctor_warns_about_lost_announcements(
    app, recording, bot_settings, db_engine
) -> None:
    from scripts.doctor import _check_announcements

    queue_lead(db_engine)
    assert _check_announcements(bot_settings).level == "ok"
    settings = app.bot_data.settings.model_copy(update={"staff_announce_attempts": 1})
    recording.fail_methods["sendMessage"] = NetworkError("staff group unreachable")
    await drain_outbox(app.bot, db_engine, settings)

    check = _check_announcements(bot_settings)
    assert check.level == "warn" and check.message.startswith("1 thông báo")

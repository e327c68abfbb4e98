"""Concurrent writers: no lost leads, and identical registrations collapse into one lead."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func
from sqlmodel import select

from index.leads import crud
from index.leads.db import session_scope
from index.leads.models import Lead, LeadCreate, LeadEvent
from tests.leads.factories import make_lead_in

LEADS = 200
BURST = 40


def _register(engine: Engine, lead_in: LeadCreate) -> tuple[int, bool]:
    """Registers in its own session, as a bot handler does inside asyncio.to_thread."""
    with session_scope(engine) as session:
        lead, created = crud.upsert_lead(session=session, lead_in=lead_in)
        assert lead.id is not None
        return lead.id, created


def _count(engine: Engine, model: type[Lead] | type[LeadEvent]) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def test_asyncio_tasks_lose_no_lead(db_engine: Engine) -> None:
    lead_ins = [make_lead_in(telegram_user_id=i) for i in range(LEADS)]

    results = await asyncio.gather(
        *(asyncio.to_thread(_register, db_engine, lead_in) for lead_in in lead_ins)
    )

    assert all(created for _, created in results)
    assert len({lead_id for lead_id, _ in results}) == LEADS
    assert _count(db_engine, Lead) == LEADS
    assert _count(db_engine, LeadEvent) == LEADS


def test_threads_lose_no_lead(db_engine: Engine) -> None:
    lead_ins = [make_lead_in(telegram_user_id=i) for i in range(LEADS)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda lead_in: _register(db_engine, lead_in), lead_ins))

    assert len({lead_id for lead_id, _ in results}) == LEADS
    assert _count(db_engine, Lead) == LEADS
    with session_scope(db_engine) as session:
        phones = session.exec(select(Lead.phone)).all()
    assert sorted(phones) == sorted(lead_in.phone for lead_in in lead_ins)


def test_thread_burst_of_identical_registrations_makes_one_lead(db_engine: Engine) -> None:
    lead_in = make_lead_in()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: _register(db_engine, lead_in), range(BURST)))

    assert len({lead_id for lead_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert _count(db_engine, Lead) == 1
    with session_scope(db_engine) as session:
        kinds = session.exec(select(LeadEvent.kind)).all()
    assert sorted(kinds) == ["created"] + ["updated"] * (BURST - 1)


async def test_asyncio_burst_of_identical_registrations_makes_one_lead(db_engine: Engine) -> None:
    lead_in = make_lead_in()

    results = await asyncio.gather(
        *(asyncio.to_thread(_register, db_engine, lead_in) for _ in range(BURST))
    )

    assert len({lead_id for lead_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert _count(db_engine, Lead) == 1

"""Alembic migrations: up from nothing, idempotent, down and up again, same schema as the models."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from index.leads.db import create_db_engine, current_revision, downgrade, head_revision, migrate

TABLES = {"leads", "lead_events", "feedback", "question_logs", "lead_announcements"}


@pytest.fixture
def empty_engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def _schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_head_is_the_announcement_outbox_revision() -> None:
    assert head_revision() == "0004"


def test_upgrade_downgrade_upgrade(empty_engine: Engine, db_url: str) -> None:
    assert current_revision(empty_engine) is None
    assert _tables(empty_engine) == set()

    migrate(db_url)  # by URL, as `scripts migrate` does
    assert current_revision(empty_engine) == head_revision()
    assert _tables(empty_engine) == TABLES

    migrate(empty_engine)  # again, by engine: nothing to do
    assert current_revision(empty_engine) == head_revision()

    downgrade(empty_engine, "base")
    assert current_revision(empty_engine) is None
    assert _tables(empty_engine) == set()

    migrate(empty_engine)
    assert _tables(empty_engine) == TABLES
    assert _schema_diff(empty_engine) == []


def test_migrated_schema_matches_models(empty_engine: Engine) -> None:
    migrate(empty_engine)
    assert _schema_diff(empty_engine) == []


def test_create_all_schema_matches_models(empty_engine: Engine) -> None:
    SQLModel.metadata.create_all(empty_engine)
    assert _schema_diff(empty_engine) == []


def test_migration_creates_the_partial_unique_index(empty_engine: Engine) -> None:
    migrate(empty_engine)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    insert = text(
        "INSERT INTO leads (full_name, phone, establishment_name, province, province_key,"
        " support_items, need_key, eligibility_answers, consent_at, status, created_at,"
        " updated_at) VALUES ('A', '+84912345678', 'B', 'C', 'c', '[]', 'may moc', '{}',"
        " :now, :status, :now, :now)"
    )
    with empty_engine.begin() as connection:
        # Closed leads do not count: a new open lead for the same need is allowed.
        connection.execute(insert, {"now": now, "status": "closed"})
        connection.execute(insert, {"now": now, "status": "closed"})
        connection.execute(insert, {"now": now, "status": "new"})
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        connection.execute(insert, {"now": now, "status": "contacted"})


def test_migrate_leaves_app_logging_alone(empty_engine: Engine) -> None:
    app_logger = logging.getLogger("index.leads.test_app")
    root_handlers = list(logging.getLogger().handlers)
    root_level = logging.getLogger().level

    migrate(empty_engine)

    assert app_logger.disabled is False
    assert logging.getLogger().handlers == root_handlers
    assert logging.getLogger().level == root_level


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/nested/dir/leads.db")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2_000
    finally:
        engine.dispose()


def test_in_memory_engine_is_shared_across_threads() -> None:
    import threading

    engine = create_db_engine("sqlite://")
    try:
        migrate(engine)
        seen: list[set[str]] = []
        thread = threading.Thread(target=lambda: seen.append(_tables(engine)))
        thread.start()
        thread.join()
        assert seen == [TABLES]
    finally:
        engine.dispose()


def test_0003_keys_leads_by_their_province_of_today(empty_engine: Engine) -> None:
    migrate(empty_engine, "0001")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    insert = text(
        "INSERT INTO leads (full_name, phone, establishment_name, province, province_key,"
        " support_items, need_key, eligibility_answers, consent_at, status, created_at,"
        " updated_at) VALUES ('A', :phone, 'B', :province, :key, '[]', '', '{}',"
        " :now, 'new', :now, :now)"
    )
    rows = [("Quảng Nam", "quang nam"), ("Đà Nẵng", "da nang"), ("Xã Đông", "xa dong")]
    with empty_engine.begin() as connection:
        for number, (province, key) in enumerate(rows):
            connection.execute(
                insert, {"phone": f"+8491234567{number}", "province": province, "key": key, "now": now}
            )

    def keys() -> list[str]:
        with empty_engine.connect() as connection:
            return list(connection.scalars(text("SELECT province_key FROM leads ORDER BY id")))

    migrate(empty_engine)
    assert keys() == ["da_nang", "da_nang", "xa dong"]
    downgrade(empty_engine, "0002")
    assert keys() == ["quang nam", "da nang", "xa dong"]

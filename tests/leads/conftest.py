"""Fixtures of the leads-store tests: every DB test runs on SQLite (a WAL file) and PostgreSQL.

PostgreSQL runs use the server on 127.0.0.1:5432 (database ``test``, trust auth) and
schemas selected through ``search_path``: a fresh one per migration test, and one migrated
schema per session, emptied before each test, for the others. Tests never see each other's
rows and a crashed run leaves nothing that breaks the next one.
"""

from __future__ import annotations

import functools
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from index.leads.db import create_db_engine, migrate

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DATABASE = "test"
PG_USERS = ("postgres", "root")


@functools.cache
def _postgres_user() -> str:
    """Returns the first role that can connect, or raises RuntimeError with every reason."""
    reasons = []
    for user in PG_USERS:
        try:
            with psycopg.connect(
                host=PG_HOST, port=PG_PORT, dbname=PG_DATABASE, user=user, connect_timeout=3
            ) as connection:
                connection.execute("SELECT 1")
            return user
        except psycopg.Error as exc:
            reasons.append(f"{user}: {str(exc).strip()}")
    raise RuntimeError("; ".join(reasons))


def _postgres_user_or_skip() -> str:
    try:
        return _postgres_user()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL on {PG_HOST}:{PG_PORT} is not reachable: {exc}")


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
#: Truncated between tests that share the migrated PostgreSQL schema (children first).
TABLES = ("lead_events", "feedback", "question_logs", "leads")


def _pg_conninfo(user: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} dbname={PG_DATABASE} user={user}"


@contextmanager
def _pg_schema(user: str) -> Iterator[str]:
    """A fresh, empty schema; yields the SQLAlchemy URL that selects it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_conninfo(user), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(_pg_conninfo(user), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables) on each backend (for migration tests)."""
    if request.param == "sqlite":
        # WAL needs a real file; an in-memory database cannot share a WAL between connections.
        yield f"sqlite:///{(tmp_path / 'data' / 'leads.db').as_posix()}"
        return
    with _pg_schema(_postgres_user_or_skip()) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    """One schema migrated to head for the session; tests truncate it instead of migrating."""
    with _pg_schema(_postgres_user_or_skip()) as url:
        migrate(url)
        yield url


@pytest.fixture(params=BACKENDS)
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine over an empty database migrated to head with Alembic, on each backend.

    Migrations are run once per session (test_migrations covers them on fresh databases):
    SQLite tests get a copy of the migrated file, PostgreSQL tests the migrated schema with
    every table emptied and its ids restarted, which is what a fresh migration gives.
    """
    if request.param == "sqlite":
        path = tmp_path / "data" / "leads.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        engine = create_db_engine(f"sqlite:///{path.as_posix()}")
    else:
        engine = create_db_engine(request.getfixturevalue("postgres_migrated"))
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; objects stay readable after commits."""
    with Session(db_engine, expire_on_commit=False) as session:
        yield session

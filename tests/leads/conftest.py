"""Fixtures of the leads-store tests: every DB test runs on SQLite (a WAL file) and PostgreSQL.

PostgreSQL runs use the server on 127.0.0.1:5432 (database ``test``, trust auth) and a
fresh schema per test selected through ``search_path``, so tests never see each
other's rows and a crashed run leaves nothing that breaks the next one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables) on each backend."""
    if request.param == "sqlite":
        # WAL needs a real file; an in-memory database cannot share a WAL between connections.
        yield f"sqlite:///{(tmp_path / 'data' / 'leads.db').as_posix()}"
        return
    user = _postgres_user_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = f"host={PG_HOST} port={PG_PORT} dbname={PG_DATABASE} user={user}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine over a database migrated to head with Alembic."""
    engine = create_db_engine(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; objects stay readable after commits."""
    with Session(db_engine, expire_on_commit=False) as session:
        yield session

"""Database engine, sessions and programmatic Alembic migrations for the leads store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for another writer's lock before giving up. A write here
# holds the lock for milliseconds (WAL, synchronous=NORMAL), and at most a handful of worker
# threads write at once, so 2 s is ample for contention; a lock held longer is a stuck
# writer, and the user should hear "not saved, try again" quickly rather than wait.
SQLITE_BUSY_TIMEOUT_MS = 2_000
# How long a PostgreSQL connection attempt may take: a vanished server otherwise hangs each
# request for the operating system's TCP timeout (minutes).
POSTGRES_CONNECT_TIMEOUT_S = 5


def _is_memory_sqlite(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Tunes every new SQLite connection for a bot with concurrent writers."""
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers proceed while one writer commits; busy_timeout makes writers
        # queue instead of failing at once with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite ignores ON DELETE CASCADE unless foreign keys are enabled per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Creates a SQLAlchemy engine configured for the leads store.

    SQLite gets WAL mode, foreign keys and a short busy timeout on every connection, may
    be used from several threads (``asyncio.to_thread``), and its parent directory is
    created. An in-memory SQLite URL uses one shared connection (``StaticPool``) so every
    thread sees the same database. PostgreSQL (``postgresql+psycopg://``) gets
    ``pool_pre_ping`` so a restarted server does not break the first query after it, and a
    connect timeout. SQL parameters (names, phone numbers) never appear in error messages
    or logs (``hide_parameters``).

    Args:
        url: A SQLAlchemy URL, e.g. ``settings.database_url``.
        **kwargs: Extra keyword arguments for ``sqlalchemy.create_engine``.

    Returns:
        The engine; dispose of it on shutdown.
    """
    parsed = make_url(url)
    # Exceptions quote the statement; without this they quote the personal data too.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        connect_args.update(kwargs.pop("connect_args", {}))
        database = parsed.database
        if _is_memory_sqlite(database):
            kwargs.setdefault("poolclass", StaticPool)
        elif database and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
        connect_args.update(kwargs.pop("connect_args", {}))
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Opens a session that is rolled back on error and always closed.

    CRUD functions commit their own work, so the scope does not commit: a caller that
    only reads never writes, and a failed call leaves nothing half-done.

    Args:
        engine: The engine from ``create_db_engine``.

    Yields:
        A SQLModel session.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine_or_url: Engine | str | None = None) -> Config:
    """Builds an Alembic config pointing at the packaged migrations, with no alembic.ini.

    Args:
        engine_or_url: The target database; read by ``migrations/env.py`` from the
            config attributes (never from an ini file, so ``%`` in passwords is safe).

    Returns:
        The Alembic config.
    """
    # Alembic is imported where it is used (~0.3 CPU-s): a bot that fails before migrating
    # (a wrong token) and processes that only read or write leads never need it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py checks this and skips logging.fileConfig, which would reset app logging.
    config.attributes["configure_logger"] = False
    if isinstance(engine_or_url, Engine):
        config.attributes["engine"] = engine_or_url
    elif engine_or_url is not None:
        config.attributes["url"] = engine_or_url
    return config


def migrate(url: Engine | str, revision: str = "head") -> None:
    """Upgrades the database to ``revision`` (``alembic upgrade head``); idempotent.

    Args:
        url: A database URL or an engine from ``create_db_engine``.
        revision: The target revision; ``"head"`` unless a test needs another one.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: Engine | str, revision: str = "base") -> None:
    """Downgrades the database to ``revision`` (``base`` drops every leads table).

    Args:
        url: A database URL or an engine from ``create_db_engine``.
        revision: The target revision.
    """
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """Returns the revision the database is at, or None if it was never migrated.

    Args:
        engine: The engine from ``create_db_engine``.
    """
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """Returns the newest revision shipped with the code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

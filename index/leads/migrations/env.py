"""Alembic environment of the leads store, driven programmatically by index.leads.db.

The target database comes from the config attributes ("engine" or "url") set by
``index.leads.db.alembic_config``; there is no alembic.ini and no logging.fileConfig,
so running migrations from the bot or the CLI never resets the application's logging.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from index.leads import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from index.leads.db import create_db_engine

config = context.config
target_metadata = SQLModel.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emits SQL for `alembic upgrade --sql` without a live connection."""
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Runs the migrations on the engine or URL given by index.leads.db."""
    engine: Engine | None = config.attributes.get("engine")
    owns_engine = engine is None
    if engine is None:
        url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no database URL: call index.leads.db.migrate(url)")
        engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            _configure_and_run(connection)
    finally:
        if owns_engine:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

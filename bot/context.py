"""Named keys and typed getters for the resources the bot keeps in `bot_data`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import sqlalchemy
    from telegram.ext import CallbackContext

    from index.engine import Engine
    from index.settings import Settings

ENGINE_KEY = "engine"
DB_KEY = "db_engine"
SETTINGS_KEY = "settings"


def get_engine(context: CallbackContext[Any, Any, Any, Any]) -> Engine:
    """Returns the retrieval engine loaded in post_init."""
    return cast("Engine", context.bot_data[ENGINE_KEY])


def get_db(context: CallbackContext[Any, Any, Any, Any]) -> sqlalchemy.Engine:
    """Returns the SQLAlchemy engine of the leads store."""
    return cast("sqlalchemy.Engine", context.bot_data[DB_KEY])


def get_settings(context: CallbackContext[Any, Any, Any, Any]) -> Settings:
    """Returns the settings the application was built with."""
    return cast("Settings", context.bot_data[SETTINGS_KEY])

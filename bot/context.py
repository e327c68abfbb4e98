"""The typed context of every handler: `BotData` instead of string keys in `bot_data`.

As in python-telegram-bot's `contexttypesbot.py`, the Application is built with
`CONTEXT_TYPES`, so `context.bot_data` is a `BotData` and mypy checks every access.
`user_data` and `chat_data` stay plain dicts: they are persisted, and a dict keeps old state
files loadable whatever the code becomes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

if TYPE_CHECKING:
    import sqlalchemy

    from index.build import BuildReport
    from index.engine import Engine
    from index.settings import Settings


class ResourceMissingError(RuntimeError):
    """A handler needs a resource that post_init has not loaded (or failed to load)."""


@dataclass
class BotData:
    """What the application holds for all handlers; never persisted (see bot.app)."""

    settings: Settings | None = None
    engine: Engine | None = None
    db: sqlalchemy.Engine | None = None
    #: True when setup_application created `db` (and so release_resources disposes it).
    owns_db: bool = False
    #: Keeps two index builds from overlapping.
    reindex_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: The latest background re-index (tests await it); resolves to its report or None.
    reindex_task: asyncio.Task[BuildReport | None] | None = None
    #: intent -> (conversation, its RoutedFilter): the flows a free-text request starts
    #: (see bot.routing).
    routes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


BotContext = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
# The bot's and job queue's own type parameters depend on the rate limiter; Any keeps them out.
BotApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def get_settings(context: BotContext) -> Settings:
    """Returns the settings the application was built with."""
    settings = context.bot_data.settings
    if settings is None:
        raise ResourceMissingError("settings are set by build_application")
    return settings


def get_engine(context: BotContext) -> Engine:
    """Returns the retrieval engine loaded in post_init."""
    engine = context.bot_data.engine
    if engine is None:
        raise ResourceMissingError("the retrieval engine is not loaded")
    return engine


def get_db(context: BotContext) -> sqlalchemy.Engine:
    """Returns the SQLAlchemy engine of the leads store."""
    db = context.bot_data.db
    if db is None:
        raise ResourceMissingError("the leads database is not connected")
    return db


def user_state(context: BotContext) -> dict[Any, Any]:
    """The user's persisted dict; an empty throwaway one for updates without a user."""
    return context.user_data if context.user_data is not None else {}


def app_settings(app: BotApplication) -> Settings:
    """The settings of an application being wired (handlers read their options from it)."""
    settings = app.bot_data.settings
    if settings is None:
        raise ResourceMissingError("build_application sets the settings before registering")
    return settings

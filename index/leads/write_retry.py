"""Writes of the leads store that survive a locked SQLite: one bounded retry, then fail."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

logger = logging.getLogger(__name__)

T = TypeVar("T")

# One retry after SQLite's busy timeout (index.leads.db): a lock held that long is an outage
# or a stuck writer, not contention, and the user must hear "not saved" within seconds.
_WRITE_ATTEMPTS = 2


def _is_sqlite_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def retry_locked(session: Session, write: Callable[[], T]) -> T:
    """Runs a write, retrying when SQLite stays locked past its busy_timeout."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            return write()
        except OperationalError as exc:
            session.rollback()
            if not _is_sqlite_locked(exc) or attempt == _WRITE_ATTEMPTS:
                raise
            logger.warning("SQLite is locked, retrying write (attempt %s)", attempt)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def store_row(session: Session, row: T) -> T:
    """Adds and commits one row (retrying a locked SQLite) and returns it refreshed."""

    def write() -> T:
        session.add(row)
        session.commit()
        session.refresh(row)
        return row

    return retry_locked(session, write)

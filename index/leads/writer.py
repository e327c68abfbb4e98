"""Writes that must never delay or replace a reply: question logs and answer ratings.

The statistics want every question and rating, but a user must not wait for them, and a
locked or vanished database must not turn an answer into an apology. `BackgroundWriter`
takes such writes from any thread without blocking, and stores them from one daemon thread
with a short bounded retry; what still fails is logged (without its content) and dropped.
`writer_for(engine)` gives the one writer of an engine, stopped when the engine is disposed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from index.leads import crud
from index.leads.db import session_scope

logger = logging.getLogger(__name__)

#: Writes waiting at most; beyond this (a long outage) new ones are dropped, not queued.
MAX_PENDING = 10_000
#: Attempts per write, and the pause before the second and later ones (seconds, × attempt).
ATTEMPTS = 3
BACKOFF_S = 0.5


@dataclass(frozen=True, slots=True)
class _Write:
    kind: str
    run: Callable[[Session], object]


class BackgroundWriter:
    """Stores fire-and-forget writes from a daemon thread, with bounded retry.

    Args:
        engine: The leads store engine.
        max_pending: Writes that may wait; further ones are dropped and counted.
        attempts: Tries per write before it is dropped.
        backoff: Seconds to wait before a retry, times the attempt number.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_pending: int = MAX_PENDING,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_S,
    ) -> None:
        self.engine = engine
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.written = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[_Write | None] = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name="leads-writer", daemon=True)
        self._thread.start()

    def submit(self, kind: str, run: Callable[[Session], object]) -> bool:
        """Queues a write; returns False (and counts it) when the queue is full or closed.

        Args:
            kind: What is written, for the log ("question", "feedback").
            run: Called with a fresh session in the writer thread; commits itself.
        """
        if not self._thread.is_alive():
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(_Write(kind, run))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("The database is not keeping up: %s writes dropped", self.dropped)
            return False
        return True

    def log_question(self, **values: Any) -> bool:
        """Queues `crud.log_question(**values)`; returns False if it was dropped."""
        return self.submit("question", lambda session: crud.log_question(session=session, **values))

    def record_feedback(self, **values: Any) -> bool:
        """Queues `crud.record_feedback(**values)`; returns False if it was dropped."""
        return self.submit(
            "feedback", lambda session: crud.record_feedback(session=session, **values)
        )

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every queued write is done; returns False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline or not self._thread.is_alive():
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Stores what is queued (up to `timeout`), then stops the thread."""
        if not self._thread.is_alive():
            return
        self.flush(timeout)
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            logger.warning("Stopping the database writer with %s writes unsaved", self.pending)
            return
        self._thread.join(timeout)

    @property
    def pending(self) -> int:
        """Writes queued and not yet done."""
        return self._queue.unfinished_tasks

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._store(job)
            finally:
                self._queue.task_done()

    def _store(self, job: _Write) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                with session_scope(self.engine) as session:
                    job.run(session)
            except DBAPIError as exc:
                # Locked, read-only, disk full or connection lost: worth a short retry.
                if attempt == self.attempts:
                    self.failed += 1
                    logger.warning(
                        "Could not store a %s after %s attempt(s) (%s); dropped",
                        job.kind,
                        attempt,
                        type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
                    )
                    return
                time.sleep(self.backoff * attempt)
            except Exception:
                # A bug, not an outage: retrying would fail the same way.
                self.failed += 1
                logger.exception("Storing a %s failed; dropped", job.kind)
                return
            else:
                self.written += 1
                return


_writers: dict[int, BackgroundWriter] = {}
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> BackgroundWriter:
    """Returns the background writer of `engine`, started on first use.

    The writer is closed (after storing what is queued) when the engine is disposed.
    """
    key = id(engine)
    with _writers_lock:
        writer = _writers.get(key)
        if writer is not None and writer.engine is engine:
            return writer
        writer = _writers[key] = BackgroundWriter(engine)

    def on_dispose(_engine: Engine) -> None:
        with _writers_lock:
            stopped = _writers.pop(key, None)
        if stopped is not None:
            stopped.close()

    event.listen(engine, "engine_disposed", on_dispose, once=True)
    return writer


def close_writer(engine: Engine, timeout: float = 10.0) -> None:
    """Stores what the engine's writer has queued (up to `timeout`) and stops it, if any."""
    with _writers_lock:
        writer = _writers.get(id(engine))
        if writer is None or writer.engine is not engine:
            return
        del _writers[id(engine)]
    writer.close(timeout)

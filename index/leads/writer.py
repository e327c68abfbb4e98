"""Writes that must never delay or replace a reply: question logs and answer ratings.

The statistics want every question and rating, but a user must not wait for them, and a
locked or vanished database must not turn an answer into an apology. `BackgroundWriter`
takes such writes from any thread without blocking, and stores them from one daemon thread
with a short bounded retry; what still fails is logged (without its content) and dropped.
Rows queued together (a burst of questions) are stored in one transaction: the writer thread
shares the interpreter with the event loop, and a session plus a commit per row cost a load
test (50 users) about 9 % of the bot's interpreter time.
`writer_for(engine)` gives the one writer of an engine, stopped when the engine is disposed.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from index.leads import answer_log
from index.leads.db import session_scope

logger = logging.getLogger(__name__)

#: Writes waiting at most; beyond this (a long outage) new ones are dropped, not queued.
MAX_PENDING = 10_000
#: Attempts per write, and the pause before the second and later ones (seconds, × attempt).
ATTEMPTS = 3
BACKOFF_S = 0.5
#: Rows stored in one transaction at most (one commit for a burst, bounded in size).
BATCH_ROWS = 500
#: After the first write of a batch the writer waits this long for more, so questions
#: answered a few milliseconds apart share one commit instead of taking one each: in the
#: load test (50 users × 20 questions, ~250 answers/s) the writer thread's CPU per answer
#: went 0.27–0.29 → 0.13–0.14 ms (0.25 s: 0.10–0.12). A log row lands 50 ms later.
BATCH_LINGER_S = 0.05


@dataclass(frozen=True, slots=True)
class _Write:
    kind: str
    #: Stores the write and commits (a write of its own); None for a row.
    run: Callable[[Session], object] | None = None
    #: Builds one row, stored together with the rows queued beside it.
    row: Callable[[], SQLModel] | None = None


class BackgroundWriter:
    """Stores fire-and-forget writes from a daemon thread, with bounded retry.

    Args:
        engine: The leads store engine.
        max_pending: Writes that may wait; further ones are dropped and counted.
        attempts: Tries per write before it is dropped.
        backoff: Seconds to wait before a retry, times the attempt number.
        linger: Seconds to wait after a batch's first write for more to join it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_pending: int = MAX_PENDING,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_S,
        linger: float = BATCH_LINGER_S,
    ) -> None:
        self.engine = engine
        self.linger = linger
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
        return self._put(_Write(kind, run=run))

    def submit_row(self, kind: str, row: Callable[[], SQLModel]) -> bool:
        """Queues one row to insert (built in the writer thread); False when dropped.

        Args:
            kind: What is written, for the log ("question", "feedback").
            row: Builds the row; it is committed with the rows queued beside it.
        """
        return self._put(_Write(kind, row=row))

    def _put(self, job: _Write) -> bool:
        if not self._thread.is_alive():
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("The database is not keeping up: %s writes dropped", self.dropped)
            return False
        return True

    def log_question(self, **values: Any) -> bool:
        """Queues `answer_log.log_question(**values)`; returns False if it was dropped."""
        return self.submit_row("question", lambda: answer_log.new_question_log(**values))

    def record_feedback(self, **values: Any) -> bool:
        """Queues `answer_log.record_feedback(**values)`; returns False if it was dropped."""
        return self.submit_row("feedback", lambda: answer_log.new_feedback(**values))

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
            jobs = self._next_jobs()
            try:
                rows = [job for job in jobs if job is not None and job.row is not None]
                if rows:
                    self._store_rows(rows)
                for job in jobs:
                    if job is not None and job.run is not None:
                        self._store(job.kind, job.run)
                if None in jobs:
                    return
            finally:
                for _ in jobs:
                    self._queue.task_done()

    def _next_jobs(self) -> list[_Write | None]:
        """Waits for a write, then takes what else is queued (up to BATCH_ROWS, or the stop)."""
        jobs = [self._queue.get()]
        if jobs[0] is not None and self.linger > 0:
            # One pause per batch, not a wake-up per write: the thread shares the GIL.
            time.sleep(self.linger)
        while jobs[-1] is not None and len(jobs) < BATCH_ROWS:
            try:
                jobs.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _store_rows(self, jobs: list[_Write]) -> None:
        builders = [job.row for job in jobs if job.row is not None]

        def add_all(session: Session) -> None:
            session.add_all([build() for build in builders])
            session.commit()

        kinds = {job.kind for job in jobs}
        kind = kinds.pop() if len(kinds) == 1 else "row"
        if len(builders) > 1 and self._store(kind, add_all, count=len(builders), quiet=True):
            return
        # One row, or a batch that failed on something other than an outage (a bug in one
        # row): each row on its own, so the others are still stored.
        for job in jobs:
            if job.row is not None:
                self._store(job.kind, functools.partial(_add, build=job.row))

    def _store(
        self,
        kind: str,
        run: Callable[[Session], object],
        *,
        count: int = 1,
        quiet: bool = False,
    ) -> bool:
        """Runs one write with the bounded retry; True when stored or given up on an outage.

        With `quiet`, a failure that is not an outage is neither logged nor counted, and
        False is returned (the caller retries the rows one by one).
        """
        for attempt in range(1, self.attempts + 1):
            try:
                with session_scope(self.engine) as session:
                    run(session)
            except DBAPIError as exc:
                # Locked, read-only, disk full or connection lost: worth a short retry.
                if attempt == self.attempts:
                    self.failed += count
                    logger.warning(
                        "Could not store %s after %s attempt(s) (%s); dropped",
                        f"a {kind}" if count == 1 else f"{count} {kind}s",
                        attempt,
                        type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
                    )
                    return True
                time.sleep(self.backoff * attempt)
            except Exception:
                if quiet:
                    return False
                # A bug, not an outage: retrying would fail the same way.
                self.failed += count
                logger.exception("Storing a %s failed; dropped", kind)
                return True
            else:
                self.written += count
                return True
        return True  # pragma: no cover - the loop always returns


def _add(session: Session, *, build: Callable[[], SQLModel]) -> None:
    session.add(build())
    session.commit()


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

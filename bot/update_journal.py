"""A disk journal of updates fetched from Telegram but not yet covered by the saved state.

Telegram forgets an update as soon as the bot asks for the next offset, which PTB does right
after fetching; a `kill -9` then drops every update still queued or running. So each update
is appended here when it enters the update queue, and the journal is made durable before
the next `getUpdates` (by `PollingRequest`) or, for webhooks, before the update is accepted.

An update leaves the journal only when a state snapshot covers it: it was processed before
the snapshot's data was copied (a user with another update unfinished at that moment is
saved as staged right after their last processed update, see `StatePersistence`). After a crash
the bot replays what the snapshot lists as pending plus the segments written since: nothing
fetched is dropped, and nothing the saved state already reflects is applied twice.

Layout: `<dir>/<segment>.jsonl`, one `Update.to_dict()` per line. A snapshot starts a new
segment; segments older than the snapshot's first segment are deleted once it is on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from telegram import Update

from bot.update_processor import update_keys
from index.atomic_write import fsync_directory

logger = logging.getLogger(__name__)

#: Update ids remembered after they leave the journal, to drop Telegram's re-deliveries of
#: the last batch before a crash. Ids are not compared by order: Telegram may restart the
#: sequence at random after a week without updates.
RECENT_IDS = 10_000
SEGMENT_SUFFIX = ".jsonl"


@dataclass(slots=True)
class _Entry:
    raw: dict[str, Any]
    keys: tuple[int, ...]
    done: bool = False


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What the journal looked like when a state snapshot's data was copied."""

    busy: frozenset[int]
    covered: tuple[int, ...]
    pending: tuple[dict[str, Any], ...]
    first_segment: int
    recent: tuple[int, ...]

    def section(self) -> dict[str, Any]:
        """The journal part of the snapshot file."""
        return {
            "pending": list(self.pending),
            "first_segment": self.first_segment,
            "recent": list(self.recent),
        }


class UpdateJournal:
    """Fetched updates, on disk until a snapshot covers them.

    Args:
        directory: Where the segments live (created when needed).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._entries: dict[int, _Entry] = {}
        self._recent: deque[int] = deque(maxlen=RECENT_IDS)
        self._recent_set: set[int] = set()
        self._segment = 0
        self._file: IO[bytes] | None = None
        self._unsynced = False
        self._write_failed = False
        # The last getUpdates batch as Telegram sent it, by update id (see `fetched`).
        self._fetched: dict[int, dict[str, Any]] = {}

    # --- start-up ------------------------------------------------------------------------------

    def restore(self, section: dict[str, Any] | None) -> None:
        """Loads what a crash left: the snapshot's pending updates plus newer segments.

        Args:
            section: The journal part of the last snapshot; None without one.
        """
        section = section or {}
        first = int(section.get("first_segment", 0))
        for update_id in section.get("recent", []):
            self._remember(int(update_id))
        raws: list[dict[str, Any]] = list(section.get("pending", []))
        segments = self._segments()
        for number, path in segments:
            if number >= first:
                raws.extend(self._read_segment(path))
        for raw in raws:
            update_id = raw.get("update_id")
            if isinstance(update_id, int) and update_id not in self._entries:
                self._entries[update_id] = _Entry(raw, self._keys_of(raw))
                self._remember(update_id)
        self._segment = max([first - 1, *(number for number, _ in segments)]) + 1

    def replay(self) -> list[dict[str, Any]]:
        """The updates to process again after a restart, oldest first."""
        return [self._entries[i].raw for i in sorted(self._entries) if not self._entries[i].done]

    def _segments(self) -> list[tuple[int, Path]]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            try:
                found.append((int(path.stem), path))
            except ValueError:
                continue
        return sorted(found)

    @staticmethod
    def _read_segment(path: Path) -> list[dict[str, Any]]:
        raws = []
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            logger.warning("Could not read the update journal %s: %s", path.name, exc)
            return []
        for line in lines:
            try:
                raw = json.loads(line)
            except ValueError:
                # The tail of a write cut short by the crash; Telegram still has that update.
                logger.warning("Skipping a damaged line of the update journal %s", path.name)
                continue
            if isinstance(raw, dict):
                raws.append(raw)
        return raws

    @staticmethod
    def _keys_of(raw: dict[str, Any]) -> tuple[int, ...]:
        try:
            return update_keys(Update.de_json(raw, None))
        except Exception:  # a line we cannot parse still replays as what Telegram sent
            return ()

    # --- while running -------------------------------------------------------------------------

    def fetched(self, raws: list[dict[str, Any]]) -> None:
        """Keeps a getUpdates batch as received, so `record` writes it without re-encoding.

        PTB queues a batch before it polls again, so each batch replaces the previous one.
        `Update.to_dict()` cost ~2 % of the bot's interpreter time in the load test.
        """
        self._fetched = {
            raw["update_id"]: raw for raw in raws if isinstance(raw.get("update_id"), int)
        }

    def record(self, update: Update) -> bool:
        """Appends a fetched update; returns False for an update seen before (a re-delivery)."""
        update_id = update.update_id
        if update_id in self._entries or update_id in self._recent_set:
            return False
        raw = self._fetched.pop(update_id, None) or update.to_dict()
        self._entries[update_id] = _Entry(raw, update_keys(update))
        self._remember(update_id)
        try:
            handle = self._open()
            handle.write(json.dumps(raw, ensure_ascii=False).encode() + b"\n")
            self._unsynced = True
            self._write_failed = False
        except OSError as exc:
            # A full disk must not stop the bot from answering; say so once per outage.
            if not self._write_failed:
                logger.error("Could not write the update journal (%s); a crash now loses it", exc)
            self._write_failed = True
        return True

    def mark_done(self, update: object) -> None:
        """Notes that an update has been processed (it stays until a snapshot covers it)."""
        if isinstance(update, Update):
            entry = self._entries.get(update.update_id)
            if entry is not None:
                entry.done = True

    async def sync(self) -> None:
        """Makes every recorded update durable (one fsync for all since the last call)."""
        if not self._unsynced or self._file is None:
            return
        try:
            self._file.flush()
            # Our own descriptor: a snapshot may close the segment while the fsync runs.
            fd = os.dup(self._file.fileno())
        except (OSError, ValueError) as exc:
            logger.error("Could not sync the update journal: %s", exc)
            return
        # Lines written from here on are synced by the next call (or by closing the segment).
        self._unsynced = False
        try:
            await asyncio.to_thread(os.fsync, fd)
        except OSError as exc:
            logger.error("Could not sync the update journal: %s", exc)
        finally:
            os.close(fd)

    def busy_keys(self) -> frozenset[int]:
        """Chat and user ids with a fetched update not yet processed."""
        return frozenset(key for e in self._entries.values() if not e.done for key in e.keys)

    def checkpoint(self) -> Checkpoint:
        """Freezes what a snapshot taken now covers, and starts a new segment for later updates.

        Must run right before the state is copied, with no await in between.
        """
        busy = self.busy_keys()
        # A processed update is in the state copied now: in the live data of an idle user or
        # chat, or in the copy staged when it finished (see StatePersistence.stage).
        covered = tuple(update_id for update_id, entry in self._entries.items() if entry.done)
        skip = set(covered)
        pending = tuple(e.raw for i, e in self._entries.items() if i not in skip)
        self._close()
        self._segment += 1
        return Checkpoint(busy, covered, pending, self._segment, tuple(self._recent))

    def commit(self, checkpoint: Checkpoint) -> None:
        """Forgets what a snapshot now on disk covers, and deletes the segments it replaces."""
        for update_id in checkpoint.covered:
            self._entries.pop(update_id, None)
        removed = False
        for number, path in self._segments():
            if number < checkpoint.first_segment:
                path.unlink(missing_ok=True)
                removed = True
        if removed:
            fsync_directory(self.directory)

    @property
    def size(self) -> int:
        """How many updates the journal holds."""
        return len(self._entries)

    def close(self) -> None:
        """Closes the current segment (synced, not deleted)."""
        self._close()

    def _remember(self, update_id: int) -> None:
        if update_id in self._recent_set:
            return
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(update_id)
        self._recent_set.add(update_id)

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._file = (self.directory / f"{self._segment:08d}{SEGMENT_SUFFIX}").open("ab")
        return self._file

    def _close(self) -> None:
        handle, self._file = self._file, None
        if handle is None:
            return
        try:
            handle.flush()
            # Unsynced lines are updates Telegram will forget at the next getUpdates.
            if self._unsynced:
                os.fsync(handle.fileno())
        except OSError as exc:
            logger.error("Could not sync the update journal: %s", exc)
        finally:
            self._unsynced = False
            handle.close()

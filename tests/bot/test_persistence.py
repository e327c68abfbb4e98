"""Crash-safe state: atomic snapshots, damaged files set aside, the update journal's rules."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import PersistenceInput, PicklePersistence

from bot.persistence import StatePersistence, read_state_file
from bot.update_journal import UpdateJournal
from index import atomic_write

from .conftest import OWNER_ID


def _update(update_id: int, user_id: int = 7, text: str = "xin chào") -> Update:
    user = User(id=user_id, is_bot=False, first_name="An")
    chat = Chat(id=user_id, type=Chat.PRIVATE)
    message = Message(
        message_id=update_id,
        date=None,  # type: ignore[arg-type]
        chat=chat,
        from_user=user,
        text=text,
    )
    return Update(update_id=update_id, message=message)


def _persistence(tmp_path: Path) -> StatePersistence:
    journal = UpdateJournal(tmp_path / "journal")
    return StatePersistence(tmp_path / "state.pickle", journal, save_interval=1)


async def _snapshot(persistence: StatePersistence, **users: dict[str, Any]) -> None:
    """One snapshot cycle as CheckpointedApplication runs it."""
    persistence.begin(persistence.journal.checkpoint())
    for user_id, data in users.items():
        await persistence.update_user_data(int(user_id.removeprefix("u")), data)
    await persistence.end()


# --- the state file ------------------------------------------------------------------------


async def test_snapshot_round_trips(tmp_path: Path) -> None:
    persistence = _persistence(tmp_path)
    assert await persistence.get_user_data() == {}
    persistence.begin(persistence.journal.checkpoint())
    await persistence.update_user_data(7, {"lead_draft": {"full_name": "An"}})
    await persistence.update_conversation("registration", (7, 7), 1)
    await persistence.end()

    again = _persistence(tmp_path)
    assert await again.get_user_data() == {7: {"lead_draft": {"full_name": "An"}}}
    assert await again.get_conversations("registration") == {(7, 7): 1}


async def test_a_failed_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    persistence = _persistence(tmp_path)
    await persistence.get_user_data()
    await _snapshot(persistence, u7={"step": 1})
    before = (tmp_path / "state.pickle").read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", disk_full)
    with caplog.at_level(logging.ERROR):
        await _snapshot(persistence, u7={"step": 2})
    monkeypatch.undo()

    assert (tmp_path / "state.pickle").read_bytes() == before
    assert not list(tmp_path.glob(".state.pickle.*.tmp"))
    assert "Could not save the conversation state" in caplog.text
    assert await _persistence(tmp_path).get_user_data() == {7: {"step": 1}}


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shape"])
async def test_a_damaged_file_is_moved_aside_and_the_bot_starts_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    persistence = _persistence(tmp_path)
    await persistence.get_user_data()
    await _snapshot(persistence, u7={"step": 1})
    path = tmp_path / "state.pickle"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "garbage":
        path.write_bytes(os.urandom(64))
    else:
        path.write_bytes(pickle.dumps(["not", "a", "state"]))

    with caplog.at_level(logging.WARNING):
        restarted = _persistence(tmp_path)
        assert await restarted.get_user_data() == {}
    assert "damaged" in caplog.text
    moved = list(tmp_path.glob("state.pickle.damaged-*"))
    assert len(moved) == 1 and not path.exists()


async def test_the_old_pickle_persistence_file_still_loads(tmp_path: Path) -> None:
    old = PicklePersistence(
        tmp_path / "state.pickle", store_data=PersistenceInput(bot_data=False, callback_data=False)
    )
    await old.update_user_data(7, {"last_question": "Hỏi gì?"})
    await old.update_conversation("registration", (7, 7), 3)
    await old.flush()

    persistence = _persistence(tmp_path)
    assert await persistence.get_user_data() == {7: {"last_question": "Hỏi gì?"}}
    assert await persistence.get_conversations("registration") == {(7, 7): 3}


async def test_a_busy_user_is_saved_as_of_their_last_finished_update(tmp_path: Path) -> None:
    persistence = _persistence(tmp_path)
    journal = persistence.journal
    await persistence.get_user_data()
    await _snapshot(persistence, u7={"step": 1})

    # Update 1 of user 7 finished (its data staged then); update 2 is still running.
    journal.record(_update(1))
    persistence.stage(user_id=7, user_data={"step": 2}, chat_id=7, chat_data={})
    journal.mark_done(_update(1))
    journal.record(_update(2))
    persistence.begin(journal.checkpoint())
    # The live copy PTB hands over may hold update 2 half-way: not saved.
    await persistence.update_user_data(7, {"step": "half"})
    await persistence.update_conversation("registration", (7, 7), 4)
    await persistence.end()

    assert persistence.skipped_users == {7}
    data = read_state_file(tmp_path / "state.pickle")
    assert data["user_data"] == {7: {"step": 2}}
    assert data["conversations"] == {"registration": {(7, 7): 4}}
    assert [raw["update_id"] for raw in data["journal"]["pending"]] == [2]
    # A crash now replays update 2, and only it, on top of that state.
    crashed = _persistence(tmp_path)
    assert await crashed.get_user_data() == {7: {"step": 2}}
    assert [raw["update_id"] for raw in crashed.journal.replay()] == [2]

    # Once it is done, the next snapshot saves the live data and empties the journal.
    journal.mark_done(_update(2))
    persistence.begin(journal.checkpoint())
    await persistence.update_user_data(7, {"step": 3})
    await persistence.end()
    data = read_state_file(tmp_path / "state.pickle")
    assert data["user_data"] == {7: {"step": 3}}
    assert data["journal"]["pending"] == []
    assert journal.size == 0


async def test_erased_data_is_not_brought_back_by_a_staged_copy(tmp_path: Path) -> None:
    persistence = _persistence(tmp_path)
    await persistence.get_user_data()
    draft = {"lead_draft": {"full_name": "Nguyễn Văn An", "phone": "+84912345678"}}
    persistence.stage(user_id=7, user_data=draft, chat_id=7, chat_data={})
    await _snapshot(persistence)
    assert b"Nguy" in (tmp_path / "state.pickle").read_bytes()
    # A later step staged the draft again; then /xoadulieu drops the data, and its update
    # finishes with nothing left to stage.
    persistence.stage(user_id=7, user_data=draft, chat_id=7, chat_data={})
    persistence.stage(user_id=7, user_data=None, chat_id=7, chat_data=None)
    await persistence.drop_user_data(7)
    await _snapshot(persistence)

    assert 7 not in read_state_file(tmp_path / "state.pickle")["user_data"]
    assert b"Nguy" not in (tmp_path / "state.pickle").read_bytes()


# --- the journal ---------------------------------------------------------------------------


async def test_journal_replays_what_a_crash_left(tmp_path: Path) -> None:
    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    assert journal.record(_update(1, text="câu một"))
    assert journal.record(_update(2, text="câu hai"))
    await journal.sync()
    # kill -9: no snapshot, no close. A new process reads the segment back.
    restarted = UpdateJournal(tmp_path)
    restarted.restore(None)
    assert [raw["message"]["text"] for raw in restarted.replay()] == ["câu một", "câu hai"]
    # Telegram re-delivers the unconfirmed tail: recognised, not processed twice.
    assert restarted.record(_update(2)) is False
    assert restarted.record(_update(3)) is True


async def test_journal_skips_a_torn_last_line(tmp_path: Path) -> None:
    journal = UpdateJournal(tmp_path)
    journal.restore(None)
    journal.record(_update(1))
    await journal.sync()
    journal.close()
    segment = next(tmp_path.glob("*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b'{"update_id": 2, "mess')

    restarted = UpdateJournal(tmp_path)
    restarted.restore(None)
    assert [raw["update_id"] for raw in restarted.replay()] == [1]


async def test_a_snapshot_covers_processed_updates_and_deletes_old_segments(
    tmp_path: Path,
) -> None:
    persistence = _persistence(tmp_path)
    journal = persistence.journal
    await persistence.get_user_data()
    for update_id, user in ((1, 7), (2, 8), (3, 8)):
        journal.record(_update(update_id, user_id=user))
    await journal.sync()
    journal.mark_done(_update(1, user_id=7))
    journal.mark_done(_update(2, user_id=8))  # user 8 still has update 3 in flight

    await _snapshot(persistence, u7={"done": True})

    assert journal.size == 1
    pending = read_state_file(tmp_path / "state.pickle")["journal"]["pending"]
    assert [raw["update_id"] for raw in pending] == [3]
    assert list((tmp_path / "journal").glob("*.jsonl")) == []
    # After a crash now, exactly the unfinished update comes back.
    restarted = _persistence(tmp_path)
    await restarted.get_user_data()
    assert [raw["update_id"] for raw in restarted.journal.replay()] == [3]


async def test_a_staged_copy_is_not_changed_by_the_next_update(tmp_path: Path) -> None:
    persistence = _persistence(tmp_path)
    journal = persistence.journal
    await persistence.get_user_data()
    live: dict[str, Any] = {"answers": {5001: {"passages": [{"text": "Điều 5"}], "rated": False}}}
    journal.record(_update(1))
    persistence.stage(user_id=7, user_data=live, chat_id=7, chat_data={})
    journal.mark_done(_update(1))
    # The user's next update changes the live data deep inside before the snapshot.
    live["answers"][5001]["rated"] = True
    live["answers"][5001]["passages"].append({"text": "Điều 6"})
    journal.record(_update(2))
    persistence.begin(journal.checkpoint())
    await persistence.update_user_data(7, live)
    await persistence.end()
    saved = read_state_file(tmp_path / "state.pickle")["user_data"][7]
    assert saved == {"answers": {5001: {"passages": [{"text": "Điều 5"}], "rated": False}}}


# --- the application -----------------------------------------------------------------------


@pytest.mark.persistent
async def test_an_updates_data_is_copied_once_for_the_snapshot(
    app: Any,
    bot_settings: Any,
    make_command_update: Any,
    make_message_update: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from telegram.ext import _application

    deep_copies: list[object] = []
    real_deepcopy = _application.deepcopy

    def counting_deepcopy(value: Any, *args: Any) -> Any:
        deep_copies.append(value)
        return real_deepcopy(value, *args)

    monkeypatch.setattr(_application, "deepcopy", counting_deepcopy)
    await app.process_update(make_command_update("/dangky"))
    await app.process_update(make_message_update("Nguyễn Văn An"))
    await app.update_persistence()
    assert "lead_draft" in read_state_file(bot_settings.persistence_path)["user_data"][OWNER_ID]
    # The copy staged as each update finished is what was saved; PTB copied nothing again.
    assert deep_copies == []

    # Data changed outside an update (a job) is still saved through PTB's own mark.
    app.user_data[OWNER_ID]["swept"] = True
    app.mark_data_for_update_persistence(user_ids=OWNER_ID)
    await app.update_persistence()
    assert read_state_file(bot_settings.persistence_path)["user_data"][OWNER_ID]["swept"] is True
    assert len(deep_copies) == 1

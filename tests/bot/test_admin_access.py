"""Admin tools refuse everyone else: commands, buttons and documents from non-admins.

Permission tests: nothing is indexed or answered, so they run on the stub engine (the
upload and re-index tests, which need the real one, are in test_admin.py).
"""

from __future__ import annotations

import logging

import pytest

from bot import texts
from index.settings import Settings
from tests.bot.conftest import OWNER_ID, STAFF_ID


def uploads(settings: Settings) -> list[str]:
    folder = settings.uploads_dir
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("user_id", [OWNER_ID, STAFF_ID])
@pytest.mark.parametrize("command", ["/reindex", "/reindex full", "/sources", "/remove quyet-dinh"])
async def test_non_admin_commands_are_refused(
    app, sent, make_command_update, caplog, user_id, command
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.handlers.staff")

    await app.process_update(make_command_update(command, user_id=user_id))

    assert sent.texts() == [texts.ADMIN_REFUSAL]
    assert app.bot_data.reindex_task is None
    assert any(str(user_id) in r.getMessage() and "admin" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("data", ["admin:rm:yes:abcd1234", "admin:rm:no", "admin:meta:file"])
async def test_non_admin_buttons_are_refused(app, sent, make_callback_update, data) -> None:
    await app.process_update(make_callback_update(data, user_id=STAFF_ID))

    assert sent.answered_callbacks() == [texts.ADMIN_REFUSAL]
    assert not sent.of("sendMessage", "editMessageText")
    assert app.bot_data.reindex_task is None


@pytest.mark.parametrize("user_id", [OWNER_ID, STAFF_ID])
async def test_documents_from_non_admins_fall_through(
    app, sent, recording, make_document_update, bot_settings, user_id
) -> None:
    update = make_document_update("ke-hoach.txt", "text/plain", "f-1", user_id=user_id)

    await app.process_update(update)

    assert not sent.of("getFile")
    assert sent.texts() == [texts.UNSUPPORTED_DOCUMENT]
    assert uploads(bot_settings) == []

"""Whatever no feature handles gets a polite Vietnamese reply, never an exception."""

from __future__ import annotations

import pytest

from bot import texts


@pytest.mark.parametrize(
    ("kind", "reply"),
    [
        ("sticker", texts.UNSUPPORTED_MEDIA),
        ("photo", texts.UNSUPPORTED_MEDIA),
        ("voice", texts.UNSUPPORTED_MEDIA),
        ("video", texts.UNSUPPORTED_MEDIA),
        ("location", texts.UNSUPPORTED_LOCATION),
        ("contact", texts.UNSUPPORTED_CONTACT),
    ],
)
async def test_media_gets_a_polite_reply(app, sent, make_media_update, kind, reply) -> None:
    await app.process_update(make_media_update(kind))

    assert sent.methods() == ["sendMessage"]
    assert sent.texts() == [reply]


async def test_document_from_an_owner_is_declined(app, sent, make_document_update) -> None:
    await app.process_update(
        make_document_update("hoso.pdf", "application/pdf", "doc-1", user_id=111)
    )

    assert sent.texts() == [texts.UNSUPPORTED_DOCUMENT]


async def test_edited_message_asks_to_send_again(app, sent, make_edited_message_update) -> None:
    await app.process_update(make_edited_message_update("Mức hỗ trợ là bao nhiêu?"))

    assert sent.texts() == [texts.EDITED_MESSAGE]


async def test_unknown_command_points_to_help(app, sent, make_command_update) -> None:
    await app.process_update(make_command_update("/khongcolenhnay"))

    assert sent.texts() == [texts.UNKNOWN_COMMAND]


@pytest.mark.parametrize("data", ["old:button", "menu:gone", "ask:something", "x" * 64])
async def test_stale_button_is_answered_politely(app, sent, make_callback_update, data) -> None:
    await app.process_update(make_callback_update(data))

    assert sent.methods() == ["answerCallbackQuery"]
    assert sent.answered_callbacks() == [texts.STALE_BUTTON]


async def test_group_chatter_and_foreign_commands_are_ignored(
    app, sent, make_message_update, make_command_update, make_media_update
) -> None:
    await app.process_update(make_message_update("chào cả nhà", user_id=1001, chat_id=-100500))
    await app.process_update(make_command_update("/poll@otherbot", user_id=1001, chat_id=-100500))
    await app.process_update(make_media_update("sticker", user_id=1001, chat_id=-100500))

    assert sent == []

"""Personal data only in private chats, staff tools only in staff chats, channels ignored.

Every command the Application registers is sent in a group, a supergroup, a channel post and
the staff chat, by an owner, a staff member and an admin.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot import texts
from bot.chat_policy import PRIVATE_COMMANDS
from bot.handlers import admin, staff
from index.leads import crud, lead_queries
from index.leads.db import session_scope
from index.leads.models import LeadCreate
from tests.bot.conftest import ADMIN_ID, BOT_USERNAME, OWNER_ID, STAFF_CHAT_ID, STAFF_ID

GROUP_ID = -4242
SUPERGROUP_ID = -1004242
CHANNEL_ID = -1009999
SECRET_NAME = "Bí Mật Nguyễn"
SECRET_PHONE = "+84987654321"
PLACES = {
    "group": Chat(id=GROUP_ID, type=Chat.GROUP, title="Nhóm bà con"),
    "supergroup": Chat(id=SUPERGROUP_ID, type=Chat.SUPERGROUP, title="Hội cơ sở"),
    "staff chat": Chat(id=STAFF_CHAT_ID, type=Chat.SUPERGROUP, title="Nhóm cán bộ"),
}
CHANNEL = Chat(id=CHANNEL_ID, type=Chat.CHANNEL, title="Kênh tin")
STAFF_COMMANDS = {name for name, _ in (*staff.COMMANDS, *admin.COMMANDS)}
_ids = itertools.count(50_000)


def all_commands(app: Any) -> set[str]:
    """Every command a handler of the Application answers, conversations included."""
    found: set[str] = set()

    def visit(handler: BaseHandler[Any, Any, Any]) -> None:
        if isinstance(handler, CommandHandler):
            found.update(handler.commands)
        elif isinstance(handler, ConversationHandler):
            for inner in handler.entry_points + handler.fallbacks:
                visit(inner)
            for handlers in handler.states.values():
                for inner in handlers:
                    visit(inner)

    for handlers in app.handlers.values():
        for handler in handlers:
            visit(handler)
    return found


def _user(user_id: int) -> User:
    return User(id=user_id, is_bot=False, first_name=f"User{user_id}", username=f"u{user_id}")


def command(app: Any, text: str, chat: Chat, user_id: int | None) -> Update:
    length = len(text.split(maxsplit=1)[0])
    message = Message(
        message_id=next(_ids),
        date=dt.datetime.now(dt.UTC),
        chat=chat,
        from_user=_user(user_id) if user_id is not None else None,
        sender_chat=chat if user_id is None else None,
        text=text,
        entities=[MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=length)],
    )
    update = (
        Update(update_id=next(_ids), channel_post=message)
        if chat.type == Chat.CHANNEL
        else Update(update_id=next(_ids), message=message)
    )
    update.set_bot(app.bot)
    message.set_bot(app.bot)
    return update


def press(app: Any, data: str, chat: Chat, user_id: int) -> Update:
    message = Message(
        message_id=next(_ids),
        date=dt.datetime.now(dt.UTC),
        chat=chat,
        from_user=User(id=1, is_bot=True, first_name="Bot", username=BOT_USERNAME),
        text="…",
    )
    query = CallbackQuery(
        id=str(next(_ids)), from_user=_user(user_id), chat_instance="c", data=data, message=message
    )
    update = Update(update_id=next(_ids), callback_query=query)
    for obj in (update, query, message):
        obj.set_bot(app.bot)
    return update


@pytest.fixture
def bot_settings(bot_settings: Any) -> Any:
    """The usual settings without Telegram's 20-a-minute group pacing (dozens of replies)."""
    return bot_settings.model_copy(update={"telegram_group_messages_per_minute": 1000.0})


@pytest.fixture
def secret_lead(db_engine: Any) -> int:
    with session_scope(db_engine) as session:
        lead, _ = crud.upsert_lead(
            session=session,
            lead_in=LeadCreate(
                telegram_user_id=OWNER_ID,
                full_name=SECRET_NAME,
                phone=SECRET_PHONE,
                establishment_name="Cơ sở Bí Mật",
                province="Huế",
                support_items=["Máy móc"],
                consent_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            ),
        )
        assert lead.id is not None
        return lead.id


def everything_sent(sent: Any) -> str:
    parts = [str(call.params.get("text", "")) for call in sent]
    parts += [text for text, _ in sent.buttons()]
    return "\n".join(parts)


def test_the_command_list_covers_the_features(app) -> None:
    commands = all_commands(app)
    assert set(PRIVATE_COMMANDS) | STAFF_COMMANDS | {"start", "huy", "trogiup"} <= commands


@pytest.mark.parametrize("place", ["group", "supergroup", "staff chat"])
async def test_every_command_in_a_group_keeps_personal_data_private(
    app, sent, secret_lead, place
) -> None:
    chat = PLACES[place]
    for name in sorted(all_commands(app)):
        for user_id in (OWNER_ID, STAFF_ID, ADMIN_ID):
            if (name, user_id, place) == ("reindex", ADMIN_ID, "staff chat"):
                continue  # allowed there, and it would rebuild the index (test_admin covers it)
            sent.clear()
            await app.process_update(command(app, f"/{name}", chat, user_id))
            shown = everything_sent(sent)
            where = f"/{name} by {user_id} in the {place}"
            assert texts.ERROR_REPLY not in shown, where
            assert texts.LEAD_ASK_NAME not in shown and texts.PRIVACY_EXPLAIN not in shown, where
            assert all(c.params.get("chat_id") == chat.id for c in sent.of("sendMessage")), where
            if name in PRIVATE_COMMANDS:
                assert sent.texts() == [texts.PRIVATE_ONLY], where
                link = f"https://t.me/{BOT_USERNAME}?start={PRIVATE_COMMANDS[name]}"
                assert sent.buttons() == [(texts.PRIVATE_ONLY_BUTTON, link)], where
            elif name in STAFF_COMMANDS and place != "staff chat":
                assert sent.texts() == [texts.WRONG_CHAT], where
            staff_here = place == "staff chat" and user_id in (STAFF_ID, ADMIN_ID)
            if not (staff_here and name in STAFF_COMMANDS):
                assert SECRET_NAME not in shown and SECRET_PHONE not in shown, where


async def test_staff_tools_work_in_the_staff_chat(app, sent, secret_lead) -> None:
    await app.process_update(command(app, "/leads", PLACES["staff chat"], STAFF_ID))
    assert f"staff:lead:{secret_lead}" in sent.callback_data()
    sent.clear()
    await app.process_update(
        press(app, f"staff:lead:{secret_lead}", PLACES["staff chat"], STAFF_ID)
    )
    assert SECRET_NAME in sent.text()
    sent.clear()
    # An owner in the staff chat is still refused by the user check.
    await app.process_update(command(app, "/leads", PLACES["staff chat"], OWNER_ID))
    assert sent.texts() == [texts.STAFF_REFUSAL]


async def test_channel_posts_are_never_answered(app, sent, secret_lead) -> None:
    for name in sorted(all_commands(app)):
        await app.process_update(command(app, f"/{name}", CHANNEL, None))
        await app.process_update(command(app, f"/{name} {SECRET_PHONE}", CHANNEL, None))
    assert sent.methods() == []


@pytest.mark.parametrize(
    ("data", "payload"),
    [
        ("lead:start", "dangky"),
        ("menu:register", "dangky"),
        ("lead:confirm", "dangky"),
        ("menu:check", "kiemtra"),
        ("elig:type:0", "kiemtra"),
        ("privacy:confirm", "xoadulieu"),
    ],
)
@pytest.mark.parametrize("place", ["group", "staff chat"])
async def test_personal_data_buttons_in_a_group_open_the_private_chat(
    app, sent, db_engine, secret_lead, data, payload, place
) -> None:
    await app.process_update(press(app, data, PLACES[place], OWNER_ID))
    assert sent.answered_callbacks() == [texts.PRIVATE_ONLY_SHORT]
    assert sent.texts() == [texts.PRIVATE_ONLY]
    link = f"https://t.me/{BOT_USERNAME}?start={payload}"
    assert (texts.PRIVATE_ONLY_BUTTON, link) in sent.buttons()
    # The erasure button in a group deleted nothing.
    with session_scope(db_engine) as session:
        assert lead_queries.get_lead(session=session, lead_id=secret_lead) is not None


@pytest.mark.parametrize(
    "data", ["staff:lead:{id}", "staff:page:0:-:-", "staff:st:{id}:contacted", "staff:note:{id}"]
)
@pytest.mark.parametrize("place", ["group", "supergroup"])
async def test_staff_buttons_outside_staff_chats_reveal_nothing(
    app, sent, secret_lead, data, place
) -> None:
    await app.process_update(
        press(app, data.format(id=secret_lead), PLACES[place], STAFF_ID)
    )
    assert sent.answered_callbacks() == [texts.WRONG_CHAT]
    assert sent.of("sendMessage", "editMessageText") == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("dangky", texts.LEAD_ASK_NAME),
        ("xoadulieu", texts.PRIVACY_EXPLAIN),
    ],
)
async def test_deep_links_start_the_flow_in_the_private_chat(
    app, sent, make_command_update, payload, expected
) -> None:
    await app.process_update(make_command_update(f"/start {payload}"))
    assert expected in sent.text()
    assert texts.WELCOME.split("{")[0] not in sent.text()


async def test_the_check_deep_link_starts_the_check(app, sent, make_command_update) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    by_command = sent.texts()
    sent.clear()
    await app.process_update(make_command_update("/start kiemtra"))
    assert sent.texts() == by_command

"""Requests for an action start the existing flows; refusals are worded as in the console."""

from __future__ import annotations

from typing import Any

import pytest

from bot import texts
from bot.answer_views import to_plain
from bot.console import run_console
from index.schema import Answer

pytestmark = pytest.mark.real_engine


class _RoutedEngine:
    """Returns a routed answer, as the engine does for an action request."""

    def __init__(self, intent: str) -> None:
        self.intent = intent

    def answer(self, question: str, **kwargs: Any) -> Answer:
        return Answer(question=question, text="", confident=False, outcome="routed",
                      intent=self.intent, resolved=question)  # fmt: skip


async def test_register_request_starts_the_registration_flow(
    app, sent, make_message_update
) -> None:
    await app.process_update(make_message_update("Tôi muốn đăng ký tư vấn"))

    replies = sent.texts()
    assert replies[0] == texts.ROUTED["register"]
    assert texts.LEAD_ASK_NAME in replies[1]
    sent.clear()
    # The conversation is now in its first state: the next message is the name.
    await app.process_update(make_message_update("Nguyễn Văn An"))
    assert texts.LEAD_ASK_PHONE in sent.text()


async def test_talk_to_staff_request_starts_the_registration_flow(
    app, sent, make_message_update
) -> None:
    await app.process_update(make_message_update("Cho tôi gặp cán bộ"))

    replies = sent.texts()
    assert replies[0] == texts.ROUTED["talk_to_staff"]
    assert texts.LEAD_ASK_NAME in replies[1]


async def test_eligibility_request_starts_the_check(app, sent, make_message_update) -> None:
    await app.process_update(make_message_update("kiểm tra giúp tôi có đủ điều kiện không"))

    assert texts.ELIG_STEP_TYPE in sent.text()
    assert any(data.startswith("elig:type:") for data in sent.callback_data())


async def test_delete_request_asks_for_confirmation(app, sent, make_message_update) -> None:
    await app.process_update(make_message_update("Tôi muốn xóa dữ liệu cá nhân của tôi"))

    assert texts.PRIVACY_EXPLAIN in sent.text()
    assert "privacy:confirm" in sent.callback_data()


@pytest.mark.parametrize(
    ("intent", "expected"), [("help", texts.HELP), ("greeting", texts.ROUTED["greeting"])]
)
async def test_help_and_greetings_are_answered_with_the_menu(
    app, sent, make_message_update, intent, expected
) -> None:
    app.bot_data.engine = _RoutedEngine(intent)  # type: ignore[assignment]

    await app.process_update(make_message_update("..."))

    (reply,) = sent.texts()
    assert reply == expected
    assert "menu:register" in sent.callback_data()


async def test_a_running_registration_is_not_rerouted(app, sent, make_message_update) -> None:
    await app.process_update(make_message_update("Tôi muốn đăng ký tư vấn"))
    sent.clear()

    # Typed as a name, "kiểm tra điều kiện" must stay the registration's answer.
    await app.process_update(make_message_update("Kiểm tra Điều Kiện"))

    assert texts.LEAD_ASK_PHONE in sent.text()
    assert texts.ELIG_STEP_TYPE not in sent.text()


def test_console_starts_the_registration_for_a_routed_action(kb_settings, engine, tmp_path) -> None:
    """The console runs the Telegram handlers, so a routed request starts the real flow."""
    out: list[str] = []
    lines = iter(["Tôi muốn đăng ký tư vấn"])

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    settings = kb_settings.model_copy(update={"data_dir": tmp_path})
    run_console(settings, input_fn=fake_input, output=out.append, engine=engine)

    text = "\n".join(out)
    assert to_plain(texts.ROUTED["register"]) in text
    assert to_plain(texts.LEAD_ASK_NAME) in text

"""/start, /help, /trogiup and the menu buttons of the Q&A."""

from __future__ import annotations

from bot import texts


async def test_start_shows_welcome_and_menu(app, sent, make_command_update) -> None:
    await app.process_update(make_command_update("/start"))

    assert sent.methods() == ["sendMessage"]
    assert "Trợ lý Khuyến công" in sent.texts()[0]
    assert sent.callback_data() == ["menu:ask", "menu:check", "menu:register", "menu:help"]
    assert [text for text, _ in sent.buttons()] == [
        texts.MENU_ASK,
        texts.MENU_CHECK,
        texts.MENU_REGISTER,
        texts.MENU_HELP,
    ]
    assert sent[0].params["parse_mode"] == "HTML"


async def test_start_escapes_the_user_name(app, sent, make_command_update) -> None:
    update = make_command_update("/start")
    update.message.from_user._unfreeze()
    update.message.from_user.first_name = "<b>An & Co</b>"

    await app.process_update(update)

    assert "&lt;b&gt;An &amp; Co&lt;/b&gt;" in sent.texts()[0]


async def test_help_and_trogiup_show_commands_examples_and_privacy(
    app, sent, make_command_update
) -> None:
    await app.process_update(make_command_update("/help"))
    await app.process_update(make_command_update("/trogiup"))

    help_text, trogiup_text = sent.texts()
    assert help_text == trogiup_text == texts.HELP
    for command in ("/kiemtra", "/dangky", "/huy", "/xoadulieu"):
        assert command in help_text
    assert "Ví dụ câu hỏi" in help_text
    assert "/xoadulieu" in help_text and "Lưu ý" in help_text


async def test_menu_ask_prompts_for_a_question(app, sent, make_callback_update) -> None:
    await app.process_update(make_callback_update("menu:ask"))

    assert sent.methods() == ["answerCallbackQuery", "sendMessage"]
    assert sent.texts() == [texts.ASK_PROMPT]


async def test_menu_help_shows_help(app, sent, make_callback_update) -> None:
    await app.process_update(make_callback_update("menu:help"))

    assert sent.methods() == ["answerCallbackQuery", "sendMessage"]
    assert sent.texts() == [texts.HELP]

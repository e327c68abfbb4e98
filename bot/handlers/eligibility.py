"""/kiemtra: a guided eligibility check with inline buttons, one step per question.

Callback data is "elig:<step>:<index>" (indices into the criteria lists, so it stays far below
Telegram's 64-byte limit), "elig:<step>:u" for "Không rõ", "elig:support:done",
"elig:back:<step>" and "elig:cancel". Answers are kept by id in user_data, so a criteria edit
between two presses cannot shift an answer onto another option.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.chat_policy import deep_link_filter
from bot.context import BotApplication, BotContext, app_settings, get_settings
from bot.conversations import build_conversation, forget_on_timeout
from bot.eligibility_views import (
    STEPS,
    answer_label_fields,
    describe_result,
    step_keyboard,
    step_options,
)
from bot.routing import RoutedFilter, add_route
from index.criteria import Criteria, CriteriaError, load_criteria
from index.eligibility import UNKNOWN, evaluate_eligibility

logger = logging.getLogger(__name__)

TYPE, AREA, SECTOR, SUPPORT, PROVINCE = range(5)
STATE_OF = dict(zip(STEPS, (TYPE, AREA, SECTOR, SUPPORT, PROVINCE), strict=True))
#: user_data key of the answers given so far (ids, not indices).
ANSWERS_KEY = "elig_answers"
#: user_data key of the finished check, prefilled into /dangky (shared contract).
RESULT_KEY = "eligibility"
CONVERSATION_NAME = "eligibility"
_ANSWER_FIELD = {
    "type": "establishment_type",
    "area": "area",
    "sector": "sector",
    "province": "province",
}
_PROMPTS = {
    "type": texts.ELIG_STEP_TYPE,
    "area": texts.ELIG_STEP_AREA,
    "sector": texts.ELIG_STEP_SECTOR,
    "support": texts.ELIG_STEP_SUPPORT,
    "province": texts.ELIG_STEP_PROVINCE,
}


def criteria_for(context: BotContext) -> Criteria:
    """Loads the criteria of the configured knowledge directory (cached by mtime)."""
    return load_criteria(Path(get_settings(context).knowledge_dir) / "criteria.yaml")


def _answers(context: BotContext) -> dict[str, Any]:
    user_data = context.user_data if context.user_data is not None else {}
    answers = user_data.setdefault(ANSWERS_KEY, {})
    return answers  # type: ignore[no-any-return]


async def _show_step(update: Update, context: BotContext, step: str) -> int:
    """Shows a step, editing the check's message when a button was pressed."""
    criteria = criteria_for(context)
    markup = step_keyboard(criteria, step, _answers(context))
    query = update.callback_query
    if query is not None and query.data and query.data.startswith("elig:"):
        await query.edit_message_text(_PROMPTS[step], reply_markup=markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(_PROMPTS[step], reply_markup=markup)
    return STATE_OF[step]


async def start_check(update: Update, context: BotContext) -> int:
    """Starts a fresh check and asks for the type of establishment."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if context.user_data is not None:
        context.user_data[ANSWERS_KEY] = {"support_items": []}
    try:
        criteria_for(context)
    except CriteriaError:
        logger.exception("The eligibility criteria cannot be loaded")
        if update.effective_message is not None:
            await update.effective_message.reply_text(texts.ELIG_UNAVAILABLE)
        return ConversationHandler.END
    return await _show_step(update, context, "type")


async def choose_option(update: Update, context: BotContext) -> int | None:
    """Stores a single-choice answer and shows the next step (or the result)."""
    query = update.callback_query
    assert query is not None and query.data is not None  # the pattern guarantees both
    _, step, raw = query.data.split(":", 2)
    criteria = criteria_for(context)
    options = step_options(criteria, step)
    if raw == "u":
        value = UNKNOWN
    elif raw.isdigit() and int(raw) < len(options):
        value = options[int(raw)][0]
    else:
        await query.answer(texts.ELIG_OLD_BUTTON)
        return None
    await query.answer()
    _answers(context)[_ANSWER_FIELD[step]] = value
    if step == "province":
        return await show_result(update, context)
    return await _show_step(update, context, STEPS[STEPS.index(step) + 1])


async def toggle_support(update: Update, context: BotContext) -> int | None:
    """Toggles a wanted support item, or moves on when the user is done."""
    query = update.callback_query
    assert query is not None and query.data is not None
    raw = query.data.rsplit(":", 1)[1]
    answers = _answers(context)
    chosen: list[str] = [item for item in answers.get("support_items", []) if item != UNKNOWN]
    if raw == "done":
        await query.answer()
        answers["support_items"] = chosen
        return await _show_step(update, context, "province")
    if raw == "u":
        await query.answer()
        answers["support_items"] = [UNKNOWN]
        return await _show_step(update, context, "province")
    options = step_options(criteria_for(context), "support")
    if not raw.isdigit() or int(raw) >= len(options):
        await query.answer(texts.ELIG_OLD_BUTTON)
        return None
    await query.answer()
    item_id = options[int(raw)][0]
    if item_id in chosen:
        chosen.remove(item_id)
    else:
        chosen.append(item_id)
    answers["support_items"] = chosen
    return await _show_step(update, context, "support")


async def go_back(update: Update, context: BotContext) -> int | None:
    """Shows the previous step again, keeping the answers given so far."""
    query = update.callback_query
    assert query is not None and query.data is not None
    step = query.data.rsplit(":", 1)[1]
    if step not in STATE_OF:
        await query.answer(texts.ELIG_OLD_BUTTON)
        return None
    await query.answer()
    return await _show_step(update, context, step)


async def cancel_check(update: Update, context: BotContext) -> int:
    """Ends the check without a result."""
    if context.user_data is not None:
        context.user_data.pop(ANSWERS_KEY, None)
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(texts.ELIG_CANCELLED)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.ELIG_CANCELLED)
    return ConversationHandler.END


async def old_button(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Answers a press on a button of an earlier step's message without changing state."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.ELIG_OLD_BUTTON)


async def show_result(update: Update, context: BotContext) -> int:
    """Evaluates the answers, shows the verdict and offers registration."""
    criteria = criteria_for(context)
    answers = _answers(context)
    result = evaluate_eligibility(
        criteria,
        establishment_type=answers.get("establishment_type"),
        area=answers.get("area"),
        sector=answers.get("sector"),
        support_items=answers.get("support_items", []),
        province=answers.get("province"),
    )
    stored = {**result.to_dict(), **answer_label_fields(criteria, answers)}
    if context.user_data is not None:
        context.user_data[RESULT_KEY] = stored
        context.user_data.pop(ANSWERS_KEY, None)
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.ELIG_BTN_REGISTER, callback_data="lead:start")]]
    )
    engine = context.bot_data.engine
    text = describe_result(criteria, result, engine.sources() if engine is not None else ())
    query = update.callback_query
    if query is not None:
        await query.edit_message_text(text, reply_markup=markup)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)
    return ConversationHandler.END


async def stale_button(update: Update, context: BotContext) -> None:
    """Answers a check button pressed after the check ended (or after a restart)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer(texts.ELIG_STALE)
    if update.effective_chat is not None:
        await context.bot.send_message(
            chat_id=update.effective_chat.id,
            text=texts.ELIG_STALE_MESSAGE,
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(texts.ELIG_BTN_RESTART, callback_data="menu:check")]]
            ),
        )


async def nothing_to_cancel(update: Update, context: BotContext) -> None:  # noqa: ARG001
    """Answers /huy when no conversation is running."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.LEAD_NOTHING_TO_CANCEL)


async def timed_out(update: Update, context: BotContext) -> None:
    """Ends a check left unanswered and says how to start again."""
    await forget_on_timeout(update, context, keys=(ANSWERS_KEY,), text=texts.ELIG_TIMED_OUT)


#: Free text the answer handler routed here (see bot/routing.py).
_ROUTED_TEXT = filters.TEXT & ~filters.COMMAND


def build_check(
    *, persistent: bool, timeout_minutes: float, routed: RoutedFilter | None = None
) -> ConversationHandler[Any]:
    """Builds the /kiemtra conversation (`routed`: entered from a routed free-text request)."""
    single = r"^elig:{step}:(\d+|u)$"
    return build_conversation(
        name=CONVERSATION_NAME,
        entry_points=[
            CommandHandler("kiemtra", start_check),
            # The deep link a group's /kiemtra answers with (bot.chat_policy).
            CommandHandler("start", start_check, filters=deep_link_filter("kiemtra")),
            CallbackQueryHandler(start_check, pattern=r"^menu:check$"),
            *([MessageHandler(_ROUTED_TEXT & routed, start_check)] if routed else []),
        ],
        states={
            TYPE: [CallbackQueryHandler(choose_option, pattern=single.format(step="type"))],
            AREA: [CallbackQueryHandler(choose_option, pattern=single.format(step="area"))],
            SECTOR: [CallbackQueryHandler(choose_option, pattern=single.format(step="sector"))],
            SUPPORT: [
                CallbackQueryHandler(toggle_support, pattern=r"^elig:support:(\d+|u|done)$")
            ],
            PROVINCE: [
                CallbackQueryHandler(choose_option, pattern=single.format(step="province"))
            ],
        },
        fallbacks=[
            CallbackQueryHandler(go_back, pattern=r"^elig:back:"),
            CallbackQueryHandler(cancel_check, pattern=r"^elig:cancel$"),
            CommandHandler("huy", cancel_check),
            CallbackQueryHandler(old_button, pattern=r"^elig:"),
        ],
        persistent=persistent,
        timeout_minutes=timeout_minutes,
        on_timeout=timed_out,
    )


def register(app: BotApplication) -> None:
    """Registers /kiemtra, its buttons, and the answers for stale buttons and idle /huy.

    Group 0, not the conversation group: the check takes only buttons, so it never competes
    with the question handler, and a /kiemtra that ends a registration reaches it here.
    """
    settings = app_settings(app)
    routed = RoutedFilter()
    conversation = build_check(
        persistent=app.persistence is not None,
        timeout_minutes=settings.conversation_timeout_minutes,
        routed=routed,
    )
    app.add_handler(conversation)
    add_route(app, ("check_eligibility",), conversation, routed)
    # After the conversation: only presses it did not claim (check over, bot restarted).
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^elig:"))
    # After the conversation, so that a running /kiemtra gets /huy before this idle answer
    # (a running /dangky gets it even earlier, in the conversation group).
    app.add_handler(CommandHandler("huy", nothing_to_cancel))

"""The eligibility check as an owner sees it in Telegram: step buttons and the result.

Pure rendering from the criteria and `bot.texts`; the conversation that asks the steps and
stores the answers is `bot.handlers.eligibility`. Every label is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot import texts
from bot.answer_views import status_notice
from index.criteria import Criteria
from index.eligibility import UNKNOWN, EligibilityResult, basis_citations
from index.schema import DocumentMeta

#: The steps of the check, in order (callback data "elig:<step>:…").
STEPS = ("type", "area", "sector", "support", "province")
# Leave room for the keyboard-free tail (next step, notice) when trimming long results.
_RESULT_BUDGET = MessageLimit.MAX_TEXT_LENGTH - 200


def step_options(criteria: Criteria, step: str) -> list[tuple[str, str]]:
    """Returns (id, label) of the choices of a step."""
    if step == "type":
        return [(o.id, o.label) for o in criteria.beneficiary_types]
    if step == "area":
        return [(o.id, o.label) for o in criteria.area_rules]
    if step == "sector":
        return [(o.id, o.label) for o in criteria.sectors]
    if step == "support":
        return [(o.id, o.label) for o in criteria.support_items]
    return [(province.id, province.label) for province in criteria.provinces]


def step_keyboard(criteria: Criteria, step: str, answers: dict[str, Any]) -> InlineKeyboardMarkup:
    """Builds the buttons of one step: choices, "Không rõ", back and cancel."""
    rows: list[list[InlineKeyboardButton]] = []
    options = step_options(criteria, step)
    if step == "support":
        chosen = set(answers.get("support_items", []))
        for index, (option_id, label) in enumerate(options):
            mark = "✅ " if option_id in chosen else ""
            rows.append([InlineKeyboardButton(mark + label, callback_data=f"elig:support:{index}")])
        rows.append([InlineKeyboardButton(texts.ELIG_BTN_DONE, callback_data="elig:support:done")])
    elif step == "province":
        buttons = [
            InlineKeyboardButton(label, callback_data=f"elig:province:{index}")
            for index, (_, label) in enumerate(options)
        ]
        rows.extend(buttons[i : i + 2] for i in range(0, len(buttons), 2))
    else:
        rows.extend(
            [InlineKeyboardButton(label, callback_data=f"elig:{step}:{index}")]
            for index, (_, label) in enumerate(options)
        )
    rows.append([InlineKeyboardButton(texts.ELIG_BTN_UNKNOWN, callback_data=f"elig:{step}:u")])
    position = STEPS.index(step)
    nav = []
    if position > 0:
        nav.append(
            InlineKeyboardButton(
                texts.ELIG_BTN_BACK, callback_data=f"elig:back:{STEPS[position - 1]}"
            )
        )
    nav.append(InlineKeyboardButton(texts.ELIG_BTN_CANCEL, callback_data="elig:cancel"))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def describe_result(
    criteria: Criteria, result: EligibilityResult, docs: Sequence[DocumentMeta] = ()
) -> str:
    """Renders the result as escaped HTML that fits one Telegram message.

    `docs` are the indexed documents: a legal basis naming one that is amended or no longer
    in force gets its status notice, as a cited passage would.
    """
    esc = html.escape
    answers = result.answers
    labels = _answer_labels(criteria, answers)
    head = [texts.ELIG_RESULT_TITLE, ""]
    verdict_text = {
        "likely_eligible": texts.ELIG_VERDICT_LIKELY,
        "not_eligible": texts.ELIG_VERDICT_NOT,
        "needs_verification": texts.ELIG_VERDICT_VERIFY,
    }[result.verdict]
    head.append(verdict_text)
    head.extend(f"• {esc(reason)}" for reason in result.reasons)
    head.extend(f"ℹ️ {esc(note)}" for note in result.notes)
    head.append("")
    head.append(texts.ELIG_ANSWERS.format(answers=esc(" · ".join(labels))))
    province = criteria.province(answers.get("province"))
    tail = []
    if province is not None and province.note and not province.is_other:
        tail += ["", f"📍 <b>{esc(province.label)}:</b> {esc(province.note)}"]
    notices = list(
        dict.fromkeys(
            notice
            for notice in map(status_notice, basis_citations(criteria, result, docs))
            if notice
        )
    )
    if notices:
        tail += ["", texts.ELIG_BASIS_STATUS, *(esc(notice) for notice in notices)]
    tail += [
        "",
        texts.ELIG_NEXT_STEP.format(text=esc(result.next_step)),
        "",
        texts.ELIG_NOTICE.format(text=esc(result.legal_notice)),
    ]
    if result.verdict != "not_eligible":
        tail += ["", texts.ELIG_REGISTER_HINT]
    budget = _RESULT_BUDGET - len("\n".join(head + tail))
    blocks: list[str] = []
    shown_documents: list[list[str]] = []
    for position, item in enumerate(result.support_items):
        # Neighbouring items often share a document list; repeating it crowds out other items.
        repeated = bool(shown_documents) and item.required_documents == shown_documents[-1]
        shown_documents.append(item.required_documents)
        block = _item_block(item, documents_as_above=repeated)
        if len("\n\n".join([*blocks, block])) > budget - 120:
            blocks.append(texts.ELIG_ITEMS_MORE.format(count=len(result.support_items) - position))
            break
        blocks.append(block)
    middle = ["", texts.ELIG_ITEMS_TITLE, "\n\n".join(blocks)] if blocks else []
    return "\n".join(head + middle + tail)


def _item_block(item: Any, *, documents_as_above: bool = False) -> str:
    esc = html.escape
    lines = [f"▪️ <b>{esc(item.label)}</b>"]
    if item.level:
        lines.append(texts.ELIG_ITEM_LEVEL.format(level=esc(item.level)))
    if item.cap:
        lines.append(texts.ELIG_ITEM_CAP.format(cap=esc(item.cap)))
    if item.legal_basis:
        lines.append(texts.ELIG_ITEM_BASIS.format(basis=esc(item.legal_basis)))
    if item.required_documents:
        documents = (
            texts.ELIG_DOCS_AS_ABOVE
            if documents_as_above
            else esc("; ".join(item.required_documents))
        )
        lines.append(texts.ELIG_ITEM_DOCS.format(documents=documents))
    if item.note:
        lines.append(texts.ELIG_ITEM_NOTE.format(note=esc(item.note)))
    if item.confidence and str(item.confidence).strip().upper() in {"L", "LOW", "M", "MEDIUM"}:
        lines.append(texts.ELIG_ITEM_UNCONFIRMED)
    return "\n".join(lines)


def _label(options: list[tuple[str, str]], option_id: str | None) -> str:
    if option_id is None or option_id == UNKNOWN:
        return texts.ELIG_BTN_UNKNOWN
    return next((label for oid, label in options if oid == option_id), option_id)


def _answer_labels(criteria: Criteria, answers: dict[str, Any]) -> list[str]:
    support = [
        _label(step_options(criteria, "support"), item) for item in answers.get("support_items", [])
    ]
    return [
        _label(step_options(criteria, "type"), answers.get("establishment_type")),
        _label(step_options(criteria, "area"), answers.get("area")),
        _label(step_options(criteria, "sector"), answers.get("sector")),
        ", ".join(support) if support else "Tất cả nội dung",
        _label(step_options(criteria, "province"), answers.get("province")),
    ]


def answer_label_fields(criteria: Criteria, answers: dict[str, Any]) -> dict[str, Any]:
    """The labels of the known answers, stored with the result for /dangky to prefill."""
    support_options = step_options(criteria, "support")
    return {
        "establishment_type_label": _known_label(
            step_options(criteria, "type"), answers.get("establishment_type")
        ),
        "sector_label": _known_label(step_options(criteria, "sector"), answers.get("sector")),
        "area_label": _known_label(step_options(criteria, "area"), answers.get("area")),
        "province_label": _province_label(criteria, answers.get("province")),
        "support_item_labels": [
            _label(support_options, item)
            for item in answers.get("support_items", [])
            if item != UNKNOWN
        ],
    }


def _province_label(criteria: Criteria, province_id: str | None) -> str | None:
    """Returns the province's name, or None when unknown or "Tỉnh khác"."""
    province = criteria.province(province_id)
    return None if province is None or province.is_other else province.label


def _known_label(options: list[tuple[str, str]], option_id: str | None) -> str | None:
    if option_id is None or option_id == UNKNOWN:
        return None
    return _label(options, option_id)

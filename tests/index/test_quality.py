"""Answer quality: the tuning sets through the real engine (the glossary: test_glossary.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scripts.eval_questions import load_questions, make_variant
from scripts.evaluate import evaluate
from tests.index.test_answering import assert_extractive

if TYPE_CHECKING:
    from index.engine import Engine

DATA = Path(__file__).resolve().parent.parent / "data"
PARAPHRASES = DATA / "tuning_paraphrases.jsonl"
TUNING = DATA / "tuning_questions.jsonl"
FOLLOWUPS = DATA / "tuning_followups.jsonl"


# --- the real knowledge base ------------------------------------------------------------


@pytest.mark.slow
def test_paraphrase_set_quality(engine: Engine) -> None:
    questions = load_questions(PARAPHRASES)
    assert sum(q.expect_abstain for q in questions) >= 8
    for variant in (None, "accentless"):
        metrics = evaluate(engine, make_variant(questions, variant))
        assert metrics["hit@5"] >= 0.9, (variant, metrics)
        assert metrics["answer_hit"] >= 0.8, (variant, metrics)
        assert metrics["abstain_accuracy"] >= 0.8, (variant, metrics)


@pytest.mark.slow
def test_tuning_set_outcomes(engine: Engine) -> None:
    metrics = evaluate(engine, load_questions(TUNING))
    assert metrics["intent_accuracy"] >= 0.8, metrics
    assert metrics["unknown_honesty"] >= 0.8, metrics
    assert metrics["abstain_accuracy"] >= 0.8, metrics
    assert metrics["answer_first"] >= 0.8, metrics


@pytest.mark.slow
def test_follow_ups_replace_the_province_or_item(engine: Engine) -> None:
    from scripts.eval_questions import load_followups
    from scripts.evaluate import ask_dialogues

    judged = ask_dialogues(engine, load_followups(FOLLOWUPS))
    resolved = {j.item.id: j.answer.resolved for j in judged}
    assert resolved["f01"].startswith("Tổng kinh phí khuyến công của Đắk Nông")
    assert "Quảng Nam" not in resolved["f01"]
    assert "máy đóng gói" in resolved["f02"] and "bao bì" not in resolved["f02"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("What support is there for trade fairs abroad?", "hội chợ triển lãm ở nước ngoài"),
        # Two items of one list can both be shown: the base cap next to the whole-line cap.
        ("How much can I get for machinery?", "300 triệu"),
        (
            "What did the national industrial promotion programme achieve in vocational training?",
            "18.000",
        ),
    ],
)
def test_english_questions_are_answered_from_vietnamese_text(
    engine: Engine, question: str, key: str
) -> None:
    answer = engine.answer(question)
    assert answer.outcome == "answered", question
    assert key in answer.text
    assert_extractive(answer.text, answer.passages)


@pytest.mark.slow
def test_paraphrase_answers_are_extractive(engine: Engine) -> None:
    for item in load_questions(PARAPHRASES):
        answer = engine.answer(item.question)
        if answer.confident:
            assert_extractive(answer.text, answer.passages)

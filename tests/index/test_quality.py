"""Answer quality: English glossary, and the tuning sets through the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.glossary import GLOSSARY, english_terms, render_english, synonym_text
from index.retrieval import lexical_query
from scripts.evaluate import evaluate, load_questions, make_variant
from tests.index.test_answering import assert_extractive

if TYPE_CHECKING:
    from index.engine import Engine

DATA = Path(__file__).resolve().parent.parent / "data"
PARAPHRASES = DATA / "tuning_paraphrases.jsonl"
TUNING = DATA / "tuning_questions.jsonl"
FOLLOWUPS = DATA / "tuning_followups.jsonl"


# --- glossary ---------------------------------------------------------------------------


def test_english_question_gets_vietnamese_domain_terms() -> None:
    rendering = english_terms("What support is there for trade fairs abroad?")
    assert rendering is not None
    assert "hội chợ triển lãm" in rendering.terms and "nước ngoài" in rendering.terms
    assert rendering.covered == 1.0
    # The longest key wins: "vocational training" is one term, not "đào tạo" alone.
    training = english_terms("Is there vocational training for workers?")
    assert training is not None and "đào tạo nghề" in training.terms


@pytest.mark.parametrize(
    "question",
    [
        "Recommend a good laptop for programming",
        "How much is a laptop?",  # only a generic key
        "What is the weather in the province tomorrow?",  # only a generic key
        "hihi",
    ],
)
def test_off_topic_english_gets_no_rendering(question: str) -> None:
    assert english_terms(question) is None


def test_generic_keys_are_matched_but_do_not_make_a_question_on_topic() -> None:
    rendering = render_english("What is the weather in the province tomorrow?")
    assert rendering is not None and rendering.keys == ("province",)
    assert not rendering.on_topic
    assert rendering.covered < 0.5  # "weather", "tomorrow" are not covered


@pytest.mark.parametrize(
    "question",
    [
        "ho kinh doanh co duoc ho tro khuyen cong khong",
        "muc ho tro mo hinh trinh dien toi da bao nhieu",
        "Quang Nam to chuc bao nhieu hoi cho cap tinh",
        "Hộ kinh doanh có được hỗ trợ không?",
    ],
)
def test_vietnamese_questions_are_not_rendered(question: str) -> None:
    assert render_english(question) is None
    assert lexical_query(question) == question


def test_glossary_values_are_vietnamese_and_keys_lower_case() -> None:
    assert 40 <= len(GLOSSARY) <= 200
    for key, value in GLOSSARY.items():
        assert key == key.casefold() and value.strip()


def test_lexical_query_appends_terms_and_synonyms() -> None:
    english = lexical_query("How much can I get for machinery?")
    assert english.startswith("How much can I get for machinery?")
    assert "máy móc thiết bị" in english
    vietnamese = lexical_query("Khuyến công đang gặp khó khăn gì?")
    assert "hạn chế" in vietnamese
    assert synonym_text("kho khan gi") == synonym_text("khó khăn gì")


def test_english_question_is_read_through_its_glossary_terms() -> None:
    from index.lexicon import load_lexicon
    from index.question import analyse

    lexicon = load_lexicon(Path(__file__).resolve().parents[2] / "knowledge")
    query = analyse("What did the national programme achieve in vocational training?", lexicon)
    assert query.english is not None
    assert {"dao", "tao", "nghe"} <= set(query.tokens)
    assert "vocational" not in query.tokens
    assert query.dense_text.endswith(f"({query.english.text})")


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
    from scripts.evaluate import ask_dialogues, load_followups

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

"""Answer quality: English glossary, sentence choice, intents, and a paraphrase regression set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.answering import (
    INTENT_BONUS,
    compose_answer,
    intent_bonus,
    is_near_duplicate,
    query_terms,
    question_intents,
    select_sentences,
)
from index.glossary import GLOSSARY, english_terms, render_english, synonym_text
from index.retrieval import lexical_query
from index.schema import Chunk, DocumentMeta, Passage
from scripts.evaluate import evaluate, load_questions, make_variant
from tests.index.test_answering import assert_extractive

if TYPE_CHECKING:
    from index.engine import Engine

PARAPHRASES = Path(__file__).resolve().parent.parent / "data" / "tuning_paraphrases.jsonl"


def _passage(cid: int, text: str, *, score: float = 1.0, doc_id: str = "d1") -> Passage:
    doc = DocumentMeta(doc_id=doc_id, title=f"Tài liệu {doc_id}")
    return Passage(chunk=Chunk(chunk_id=cid, doc_id=doc_id, text=text), doc=doc, score=score)


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


def test_english_query_terms_use_the_rendering() -> None:
    terms = query_terms("What did the national programme achieve in vocational training?")
    assert terms.english is not None
    assert {"dao", "tao", "nghe"} <= terms.words
    assert "vocational" not in terms.words
    # Pairs stay inside one term: no pair across "quốc gia" + "đào tạo nghề".
    assert ("dao", "tao") in terms.pairs and ("gia", "dao") not in terms.pairs


def test_english_answer_is_confident_only_with_domain_terms() -> None:
    passages = [
        _passage(1, "Hỗ trợ tham gia hội chợ triển lãm ở nước ngoài: hỗ trợ 100% chi phí."),
    ]
    on_topic = compose_answer(
        "What support is there for trade fairs abroad?", passages, top_dense=0.8, threshold=0.5
    )
    assert on_topic.confident and "100% chi phí" in on_topic.text
    off_topic = compose_answer(
        "Recommend a good laptop for programming", passages, top_dense=0.8, threshold=0.5
    )
    assert not off_topic.confident


# --- intents ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "intents"),
    [
        ("Bao giờ phải nộp đăng ký?", {"date"}),
        ("han chot nop ho so la khi nao", {"date"}),
        ("When is the deadline?", {"date"}),
        ("Mức hỗ trợ tối đa bao nhiêu?", {"quantity"}),
        ("Quyết định số mấy?", {"quantity"}),
        ("How much can I get?", {"quantity"}),
        ("Nộp hồ sơ ở đâu?", {"contact"}),
        ("lien he ai de duoc ho tro", {"contact"}),
        ("Có được hỗ trợ mua máy móc không?", set()),  # "máy" is not "mấy"
        ("Mục tiêu của chương trình là gì?", {"list"}),  # "mục" is not "mức"
        ("Hồ sơ gồm những gì?", {"list"}),
        ("Nghị định nào quy định đối tượng?", set()),  # "which" wants one thing
    ],
)
def test_question_intents(question: str, intents: set[str]) -> None:
    assert set(question_intents(question)) == intents


def test_intent_bonus_rewards_what_the_question_word_asks_for() -> None:
    date = frozenset({"date"})
    assert intent_bonus("Hạn đăng ký: trước ngày 20/6 hằng năm.", date) == INTENT_BONUS
    assert intent_bonus("Hồ sơ gồm đề án khuyến công.", date) == 0.0
    amount = frozenset({"quantity"})
    assert intent_bonus("Tối đa 50% chi phí, không quá 300 triệu đồng.", amount) == INTENT_BONUS
    assert 0 < intent_bonus("Giai đoạn 2021-2025.", amount) < INTENT_BONUS
    contact = frozenset({"contact"})
    assert intent_bonus("Hỏi Trung tâm Khuyến công tỉnh.", contact) == INTENT_BONUS
    assert intent_bonus("Tối đa 50% chi phí.", frozenset()) == 0.0


def test_date_question_leads_with_the_dated_sentence() -> None:
    passage = _passage(
        1,
        "Hồ sơ đăng ký đề án khuyến công quốc gia gồm đề án và văn bản đề nghị.\n"
        "Sở Công Thương gửi đăng ký đề án khuyến công quốc gia trước ngày 20/6 hằng năm.",
    )
    selection = select_sentences("Bao giờ phải nộp đăng ký đề án khuyến công quốc gia?", [passage])
    assert "20/6" in selection[0][1][0]


# --- sentence choice --------------------------------------------------------------------


def test_near_duplicates_are_detected_by_word_overlap() -> None:
    chosen = [frozenset({"nghi", "dinh", "235", "sua", "doi", "45", "hieu", "luc"})]
    assert is_near_duplicate(
        frozenset({"nghi", "dinh", "235", "sua", "doi", "45", "hieu", "luc", "ngay"}), chosen
    )
    assert not is_near_duplicate(frozenset({"nghi", "dinh", "235", "tham", "quyen"}), chosen)
    assert not is_near_duplicate(frozenset({"a"}), [])


def test_repeated_fact_is_stated_once() -> None:
    passages = [
        _passage(
            1, "Nghị định 235/2025/NĐ-CP sửa đổi, bổ sung Nghị định 45/2012/NĐ-CP về khuyến công."
        ),
        _passage(
            2,
            "Theo báo chí, Nghị định 235/2025/NĐ-CP sửa đổi, bổ sung Nghị định 45/2012/NĐ-CP "
            "về khuyến công.",
            doc_id="d2",
        ),
    ]
    selection = select_sentences("Nghị định 235 sửa đổi gì?", passages)
    sentences = [s for _, group in selection for s in group]
    assert len(sentences) == 1


def test_sentences_are_ordered_by_relevance_across_passages() -> None:
    passages = [
        _passage(1, "Khuyến công hỗ trợ nhiều nội dung cho cơ sở công nghiệp nông thôn."),
        _passage(
            2,
            "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến: tối đa 50% chi phí, "
            "không quá 300 triệu đồng/cơ sở.",
            score=0.95,
            doc_id="d2",
        ),
    ]
    selection = select_sentences("Mức hỗ trợ máy móc thiết bị tối đa bao nhiêu?", passages)
    assert "300 triệu" in selection[0][1][0]


def test_weak_passages_give_no_sentence() -> None:
    passages = [
        _passage(1, "Phường thuộc thành phố loại 2 được tính là địa bàn hỗ trợ khuyến công."),
        _passage(
            2,
            "Hòa Bình hỗ trợ thành lập cơ sở ở phường không quá 10 triệu đồng.",
            score=0.3,
            doc_id="d2",
        ),
    ]
    selection = select_sentences("Cơ sở ở phường có được hỗ trợ không?", passages)
    assert [p.doc.doc_id for p, _ in selection] == ["d1"]


def test_label_sentence_brings_its_content() -> None:
    passage = _passage(
        1,
        "Theo đó, mục tiêu cụ thể của chương trình khuyến công tỉnh là:\n"
        "Tập trung phát triển mới ít nhất 100 sản phẩm.\n"
        "Thời tiết không liên quan đến câu hỏi này.",
    )
    answer = compose_answer(
        "Mục tiêu của chương trình khuyến công tỉnh là gì?",
        [passage],
        top_dense=0.9,
        threshold=0.5,
    )
    assert "100 sản phẩm" in answer.text and "Thời tiết" not in answer.text
    assert_extractive(answer.text, [passage])


def test_list_item_brings_the_line_announcing_its_list() -> None:
    passage = _passage(
        1,
        "Hạn đăng ký: Sở Công Thương gửi hồ sơ trước ngày 20/6.\n"
        "Nghị định 235/2025/NĐ-CP mở rộng đối tượng hỗ trợ khuyến công:\n"
        "- Doanh nghiệp đầu tư hạ tầng cụm công nghiệp.\n"
        "- Nghệ nhân nhân dân, nghệ nhân ưu tú.",
    )
    selection = select_sentences("Nghệ nhân ưu tú có được hỗ trợ không?", [passage])
    sentences = selection[0][1]
    assert sentences[0].endswith("mở rộng đối tượng hỗ trợ khuyến công:")
    assert sentences[1] == "Nghệ nhân nhân dân, nghệ nhân ưu tú."
    # "Hạn đăng ký:" introduces its own line's content, not the list below.
    assert all(not s.startswith("Hạn đăng ký") for s in sentences)


def test_section_matching_a_list_question_is_given_in_order() -> None:
    section = Passage(
        chunk=Chunk(
            chunk_id=1,
            doc_id="d1",
            text="- Giấy chứng nhận đăng ký kinh doanh.\n"
            "- Giấy tờ chứng minh cơ sở đã đầu tư phần vốn.\n"
            "- Báo giá máy móc thiết bị khi đề nghị hỗ trợ.",
            heading_path=("Cơ sở cần chuẩn bị gì khi đề nghị hỗ trợ khuyến công",),
        ),
        doc=DocumentMeta(doc_id="d1", title="Thủ tục"),
        score=1.0,
    )
    other = _passage(2, "Giấy tờ đề nghị hỗ trợ khuyến công được nộp cho cơ sở.", doc_id="d2")
    selection = select_sentences(
        "Cơ sở cần chuẩn bị giấy tờ gì khi đề nghị hỗ trợ khuyến công?", [section, other]
    )
    assert selection[0][0] is section
    assert selection[0][1][0].startswith("Giấy chứng nhận")
    assert selection[0][1][1].startswith("Giấy tờ chứng minh")


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
@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("What support is there for trade fairs abroad?", "hội chợ triển lãm ở nước ngoài"),
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
    assert answer.confident, question
    assert key in answer.text
    assert_extractive(answer.text, answer.passages)


@pytest.mark.slow
def test_paraphrase_answers_are_extractive(engine: Engine) -> None:
    for item in load_questions(PARAPHRASES):
        answer = engine.answer(item.question)
        if answer.confident:
            assert_extractive(answer.text, answer.passages)

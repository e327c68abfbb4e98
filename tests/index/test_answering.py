"""Question cleaning, sentence selection, abstaining and citations."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import pytest

from index.answering import (
    NO_MATCH_MESSAGE,
    compose_answer,
    content_tokens,
    gather_evidence,
    prepare_question,
    split_sentences,
    trim_sentence,
)
from index.schema import Chunk, DocumentMeta, Passage

if TYPE_CHECKING:
    from index.engine import Engine


def _passage(cid: int, text: str, doc_id: str = "d1", **meta: str) -> Passage:
    doc = DocumentMeta(doc_id=doc_id, title=meta.pop("title", f"Tài liệu {doc_id}"), **meta)
    return Passage(chunk=Chunk(chunk_id=cid, doc_id=doc_id, text=text), doc=doc, score=1.0)


def _plain(text: str) -> str:
    """Text as split_sentences shows it: markdown markers and repeated spaces removed."""
    text = re.sub(r"[*_`#|]", " ", unicodedata.normalize("NFC", text))
    return re.sub(r"\s+", " ", text)


def assert_extractive(answer_text: str, passages: list[Passage]) -> None:
    """Every sentence of the answer is copied from some passage (modulo an ellipsis cut)."""
    sources = [_plain(p.chunk.text) for p in passages]
    for paragraph in answer_text.split("\n\n"):
        for sentence in split_sentences(paragraph):
            body = _plain(sentence.removesuffix("…")).strip()
            assert any(body in source for source in sources), sentence


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("😀😀🎉", "empty"),
        ("?!... ---", "empty"),
        ("\x00\x07\u200b", "empty"),
        ("Khuyến công là gì?", None),
        ("x" * 10_001, "too_long"),
    ],
)
def test_prepare_question_reasons(raw: str, reason: str | None) -> None:
    assert prepare_question(raw, max_chars=2000).reason == reason


def test_prepare_question_cleans_control_characters_and_nfd() -> None:
    raw = unicodedata.normalize("NFD", "Hỗ\x00 trợ\u200b   gì?\r\n")
    prepared = prepare_question(raw, max_chars=100)
    assert prepared.text == "Hỗ trợ gì?"
    assert prepared.text == unicodedata.normalize("NFC", prepared.text)


def test_content_tokens_drop_question_words_but_keep_homographs() -> None:
    assert content_tokens("Quảng Nam tổ chức bao nhiêu hội chợ?") == [
        "quang",
        "nam",
        "to",
        "chuc",
        "hoi",
        "cho",
    ]
    # "cho" (for) and "hỏi" (ask) are stopwords; "chợ" and "hội" are not.
    assert content_tokens("Cho tôi hỏi") == []


def test_split_sentences_strips_markdown_and_splits_lists() -> None:
    text = (
        "## Mức hỗ trợ\n\n- **Máy móc** tiên tiến: tối đa 50%; hội chợ: 100% chi phí.\n"
        "| Nội dung | Mức |\n|---|---|\n| Mô hình | 30% |\nTP. nhỏ. Câu tiếp theo."
    )
    assert split_sentences(text) == [
        "Mức hỗ trợ",
        "Máy móc tiên tiến: tối đa 50%;",
        "hội chợ: 100% chi phí.",
        "Nội dung | Mức",
        "Mô hình | 30%",
        "TP. nhỏ.",
        "Câu tiếp theo.",
    ]


def test_trim_sentence_cuts_at_a_word() -> None:
    cut = trim_sentence("một hai ba bốn năm sáu", limit=12)
    assert cut == "một hai ba…"
    assert trim_sentence("ngắn", limit=12) == "ngắn"


PASSAGES = [
    _passage(
        1,
        "Quảng Nam tổ chức 5 hội chợ cấp tỉnh trong giai đoạn. Tỉnh cũng xây dựng 5 mô hình "
        "trình diễn kỹ thuật. Thời tiết không liên quan.",
        doc_id="qn",
        title="Chương trình khuyến công Quảng Nam",
        number="2665/QĐ-UBND",
        issued="2021-09-16",
        url="https://example.gov.vn/qn",
    ),
    _passage(2, "Hội chợ cấp tỉnh được hỗ trợ kinh phí từ ngân sách địa phương.", doc_id="qn"),
    _passage(
        3,
        "Nghị định 45/2012/NĐ-CP quy định về khuyến công.",
        doc_id="nd45",
        title="Nghị định khuyến công",
        number="45/2012/NĐ-CP",
    ),
]


def test_confident_answer_is_extractive_and_cited() -> None:
    answer = compose_answer(
        "Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?", PASSAGES, top_dense=0.9, threshold=0.5
    )
    assert answer.confident and answer.reason is None
    assert "5 hội chợ cấp tỉnh" in answer.text
    assert "Thời tiết" not in answer.text  # irrelevant sentences are left out
    assert_extractive(answer.text, PASSAGES)
    assert len(answer.text) <= 700
    # One citation per document, with its number, date and link.
    assert [c.doc_id for c in answer.citations] == ["qn"]
    citation = answer.citations[0]
    assert (citation.number, citation.issued, citation.url) == (
        "2665/QĐ-UBND",
        "2021-09-16",
        "https://example.gov.vn/qn",
    )
    assert answer.chunk_ids == [1, 2, 3]


def test_abstains_without_quoting_passages() -> None:
    answer = compose_answer("Giá vàng hôm nay bao nhiêu?", PASSAGES, top_dense=0.76, threshold=0.5)
    assert not answer.confident and answer.reason == "no_match"
    assert answer.text == NO_MATCH_MESSAGE
    assert "Trung tâm Khuyến công" in answer.text
    assert answer.citations == []
    for passage in PASSAGES:
        for sentence in split_sentences(passage.chunk.text):
            assert sentence not in answer.text


def test_abstains_when_nothing_was_retrieved() -> None:
    answer = compose_answer("hội chợ", [], top_dense=None, threshold=0.5)
    assert not answer.confident and answer.reason == "no_match"


def test_evidence_measures_word_and_pair_coverage() -> None:
    evidence = gather_evidence("hội chợ cấp tỉnh", PASSAGES, top_dense=None)
    assert evidence.word_coverage == 1.0 and evidence.pair_coverage == 1.0
    evidence = gather_evidence("tỷ giá đô la", PASSAGES, top_dense=None)
    assert evidence.word_coverage == 0.0 and evidence.confidence == 0.0


# --- the real knowledge base -------------------------------------------------------------

OFF_TOPIC = [
    "Thời tiết Hà Nội ngày mai thế nào?",
    "Giá vàng SJC hôm nay bao nhiêu?",
    "Tỷ giá euro hôm nay",
    "hihi",
    "asdfgh qwerty",
    "Mua laptop nào tốt để lập trình?",
    "Thủ tục cấp đổi giấy phép lái xe ô tô",
]


@pytest.mark.slow
@pytest.mark.parametrize("question", OFF_TOPIC)
def test_real_off_topic_questions_abstain(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.confident and answer.reason == "no_match"
    assert answer.text == NO_MATCH_MESSAGE
    for passage in answer.passages:
        for sentence in split_sentences(passage.chunk.text):
            assert len(sentence) < 20 or sentence not in answer.text


ON_TOPIC = [
    "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?",
    "Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh trong giai đoạn 2021-2025?",
    "Cơ sở công nghiệp nông thôn được hỗ trợ máy móc thiết bị tối đa bao nhiêu?",
    "ho tro dao tao nghe cho lao dong nong thon",
]


@pytest.mark.slow
@pytest.mark.parametrize("question", ON_TOPIC)
def test_real_answers_are_extractive_and_cited(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.confident, question
    assert answer.citations and all(c.title for c in answer.citations)
    assert_extractive(answer.text, answer.passages)

"""Tests for index.chunking: structure, sentence splitting, limits, overlap and stable ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from index.chunking import (
    PASSAGE_PREFIX,
    chunk_document,
    chunk_id_for,
    heading_prefix,
    make_token_counter,
    split_sentences,
)
from index.schema import DocumentMeta

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# A guide: its "Điều" headings are structure for the generic chunker, not a legal text's
# articles (tests/index/test_legal_chunking.py covers those).
META = DocumentMeta(doc_id="guides/quy-che.md", title="Quy chế khuyến công", doc_type="guide")

STRUCTURED = """# Quy chế khuyến công

## Điều 1. Phạm vi điều chỉnh

Quy chế này quy định về quản lý kinh phí khuyến công địa phương.

## Điều 2. Đối tượng áp dụng

- Cơ sở công nghiệp nông thôn đang sản xuất trên địa bàn tỉnh.
- Hợp tác xã, tổ hợp tác sản xuất công nghiệp.
- Doanh nghiệp nhỏ và vừa
  đầu tư sản xuất tại huyện, xã.

### Khoản 3. Ngoại lệ

Không áp dụng với doanh nghiệp có vốn nhà nước.
"""


def _long_paragraph(sentences: int) -> str:
    return " ".join(
        f"Câu số {i} nói về hỗ trợ kinh phí khuyến công cho cơ sở công nghiệp nông thôn tại tỉnh."
        for i in range(sentences)
    )


def test_heading_path_is_tracked() -> None:
    chunks = chunk_document(META, STRUCTURED)
    paths = [c.heading_path for c in chunks]
    assert ("Quy chế khuyến công", "Điều 1. Phạm vi điều chỉnh") in paths
    assert ("Quy chế khuyến công", "Điều 2. Đối tượng áp dụng", "Khoản 3. Ngoại lệ") in paths
    exception = next(c for c in chunks if "vốn nhà nước" in c.text)
    assert exception.heading_path[-1] == "Khoản 3. Ngoại lệ"
    # No chunk crosses a heading.
    assert not any("Phạm vi" in c.text and "Hợp tác xã" in c.text for c in chunks)


def test_index_text_has_title_and_headings_prefix() -> None:
    chunk = next(c for c in chunk_document(META, STRUCTURED) if "kinh phí khuyến công" in c.text)
    first_line, body = chunk.index_text.split("\n", 1)
    assert first_line == "Quy chế khuyến công > Điều 1. Phạm vi điều chỉnh"  # title not repeated
    assert body == chunk.text
    assert "#" not in chunk.text


def test_a_heading_holding_the_title_stands_for_it() -> None:
    meta = DocumentMeta(doc_id="c/tt.md", title="Thông tư bình chọn", number="26/2014/TT-BCT")
    headings = ("26/2014/TT-BCT — Thông tư bình chọn", "Điều 12. Hồ sơ")
    assert heading_prefix(meta, headings) == "26/2014/TT-BCT — Thông tư bình chọn > Điều 12. Hồ sơ"
    # A heading equal to the title is the title: it is named once.
    assert heading_prefix(meta, ("Thông tư bình chọn", "Điều 1"), number=meta.number) == (
        "Thông tư bình chọn > 26/2014/TT-BCT > Điều 1"
    )


def test_list_items_stay_whole() -> None:
    chunks = chunk_document(META, STRUCTURED, max_tokens=60, target_tokens=None)
    items = [
        "- Cơ sở công nghiệp nông thôn đang sản xuất trên địa bàn tỉnh.",
        "- Hợp tác xã, tổ hợp tác sản xuất công nghiệp.",
        "- Doanh nghiệp nhỏ và vừa\n  đầu tư sản xuất tại huyện, xã.",
    ]
    for item in items:
        assert any(item in c.text for c in chunks), item


def test_short_list_items_are_grouped() -> None:
    chunks = chunk_document(META, STRUCTURED)
    grouped = [c for c in chunks if "Hợp tác xã" in c.text]
    assert len(grouped) == 1 and "Cơ sở công nghiệp" in grouped[0].text


def test_split_sentences_keeps_decimals_dates_and_abbreviations() -> None:
    text = (
        "Hội nghị tại TP. Hồ Chí Minh ngày 16/8/2016 do ThS. Lê Văn An chủ trì. "
        "Kinh phí 1.000 triệu đồng; còn lại 2,5 tỷ! Có được hỗ trợ không?\nDòng mới ở đây."
    )
    assert split_sentences(text) == [
        "Hội nghị tại TP. Hồ Chí Minh ngày 16/8/2016 do ThS. Lê Văn An chủ trì.",
        "Kinh phí 1.000 triệu đồng;",
        "còn lại 2,5 tỷ!",
        "Có được hỗ trợ không?",
        "Dòng mới ở đây.",
    ]


def test_long_paragraph_split_with_one_sentence_overlap() -> None:
    text = _long_paragraph(30)
    chunks = chunk_document(META, text, max_tokens=120, overlap_sentences=1)
    assert len(chunks) > 2
    count = make_token_counter(None)
    for chunk in chunks:
        assert count(PASSAGE_PREFIX + chunk.index_text) <= 120
    for first, second in zip(chunks, chunks[1:], strict=False):
        last_sentence = split_sentences(first.text)[-1]
        assert second.text.startswith(last_sentence)
    # Every sentence survives.
    joined = " ".join(c.text for c in chunks)
    assert all(f"Câu số {i} " in joined for i in range(30))


def test_no_overlap_when_disabled() -> None:
    chunks = chunk_document(META, _long_paragraph(30), max_tokens=120, overlap_sentences=0)
    sentences = [s for c in chunks for s in split_sentences(c.text)]
    assert len(sentences) == 30


def test_single_huge_sentence_is_cut_to_fit() -> None:
    text = " ".join(["khuyến"] * 1000)
    chunks = chunk_document(META, text, max_tokens=100)
    count = make_token_counter(None)
    assert len(chunks) > 5
    assert all(count(PASSAGE_PREFIX + c.index_text) <= 100 for c in chunks)


def test_chunk_ids_are_stable_positive_63_bit() -> None:
    first = chunk_document(META, STRUCTURED)
    second = chunk_document(META, STRUCTURED)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert all(0 <= c.chunk_id < 2**63 for c in first)
    assert len({c.chunk_id for c in first}) == len(first)
    assert [c.ordinal for c in first] == list(range(len(first)))
    assert chunk_id_for("a", 0, "x") != chunk_id_for("b", 0, "x")
    other = DocumentMeta(doc_id="other.md", title=META.title)
    assert {c.chunk_id for c in chunk_document(other, STRUCTURED)}.isdisjoint(
        c.chunk_id for c in first
    )


def test_empty_text_gives_no_chunks() -> None:
    assert chunk_document(META, "# Chỉ có tiêu đề\n\n") == []


@pytest.mark.slow
def test_no_chunk_exceeds_limit_with_real_tokenizer(
    embedding_model: SentenceTransformer,
) -> None:
    tokenizer = embedding_model.tokenizer
    long_title = DocumentMeta(doc_id="x.md", title="Kế hoạch " + "khuyến công địa phương " * 8)
    text = STRUCTURED + "\n## Phụ lục\n\n" + _long_paragraph(80) + "\n\n" + "2665/QĐ-UBND;" * 300
    chunks = chunk_document(long_title, text, tokenizer=tokenizer, max_tokens=400)
    count = make_token_counter(tokenizer)
    lengths = [count(PASSAGE_PREFIX + c.index_text) for c in chunks]
    assert max(lengths) <= 400
    assert len(chunks) > 3

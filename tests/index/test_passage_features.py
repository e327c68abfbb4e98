"""Head features of the passage ranker: the document type the question names."""

from __future__ import annotations

import numpy as np

from index.fusion import ScoredId
from index.passage_features import HeadFeatures
from index.passage_ranker import FEATURES
from index.schema import Chunk, DocumentMeta

DOCS = {
    d.doc_id: d
    for d in (
        DocumentMeta(doc_id="nd-45.md", title="Nghị định khuyến công", doc_type="decree",
                     number="45/2012/NĐ-CP"),
        DocumentMeta(doc_id="ttlt-26.md", title="Thông tư liên tịch kinh phí",
                     doc_type="circular", number="26/2014/TTLT-BTC-BCT"),
        DocumentMeta(doc_id="guides/de-an.md", title="Đề án", doc_type="guide",
                     based_on=("45/2012/NĐ-CP",)),
        DocumentMeta(doc_id="news/tin.md", title="Tin", doc_type="news"),
    )
}  # fmt: skip
CHUNKS = {
    1: Chunk(chunk_id=1, doc_id="nd-45.md", text="Điều 4. Đối tượng áp dụng."),
    2: Chunk(chunk_id=2, doc_id="ttlt-26.md", text="Mức chi theo Nghị định 45/2012/NĐ-CP."),
    3: Chunk(chunk_id=3, doc_id="guides/de-an.md", text="Hồ sơ đề án."),
    4: Chunk(chunk_id=4, doc_id="news/tin.md", text="Tỉnh hỗ trợ 8 cơ sở."),
}
HEAD = [ScoredId(cid, 1.0 - cid / 10) for cid in CHUNKS]


def _column(question: str, name: str) -> list[float]:
    rows = HeadFeatures(CHUNKS, DOCS, None, None).rows(question, HEAD)
    assert rows.shape == (len(HEAD), len(FEATURES))
    return list(rows[:, FEATURES.index(name)])


def test_type_named() -> None:
    # A thông tư: the joint circular is one; the decree, guide and news item are not.
    assert _column("Thông tư quy định mức chi thế nào?", "type_named") == [0, 1, 0, 0]
    assert _column("Theo NĐ 45 ai được hỗ trợ?", "type_named") == [1, 0, 0, 0]
    # English questions name the type through the glossary ("decree" -> "nghị định").
    assert _column("Who does the decree apply to?", "type_named") == [1, 0, 0, 0]
    assert not np.any(_column("Hồ sơ đề án gồm gì?", "type_named"))


def test_english_copies_are_their_feature_for_english_questions_only() -> None:
    english = "Which industrial promotion activities does Circular 26/2014 fund?"
    assert _column(english, "english_fused") == _column(english, "fused")
    assert _column(english, "english_article") == _column(english, "article")
    assert any(_column(english, "english_fused"))
    assert not np.any(_column("Khuyến công hỗ trợ những hoạt động nào?", "english_fused"))


def test_an_english_document_name_names_the_document() -> None:
    assert _column("What does Decree 45/2012 say about industrial promotion?", "named") == [
        1, 0, 0, 0,
    ]  # fmt: skip

"""Fitting the unit scorer: which units are positives, and which index each file is asked of."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.lexicon import Entities
from index.schema import Chunk, DocumentMeta, Passage
from index.unit_scorer import Candidate
from index.units import AnswerUnit
from scripts.eval_questions import Question
from scripts.fit_scorer import answers_row, index_plan


def _candidate(text: str, doc: DocumentMeta) -> Candidate:
    chunk = Chunk(chunk_id=1, doc_id=doc.doc_id, text=text)
    unit = AnswerUnit(chunk_id=1, position=0, kind="sentence", text=text)
    return Candidate(0, unit, Passage(chunk, doc, 1.0), 0, np.zeros(1), Entities())


def test_a_unit_answers_only_from_the_document_the_row_names() -> None:
    law = DocumentMeta(doc_id="corpus/nd-45.md", title="Nghị định", number="45/2012/NĐ-CP")
    guide = DocumentMeta(doc_id="guides/doi-tuong.md", title="Đối tượng", doc_type="guide")
    text = "Hỗ trợ khởi sự, thành lập doanh nghiệp sản xuất công nghiệp nông thôn."
    named = Question("q1", "?", answer_keys=("thành lập doanh nghiệp",), doc="45/2012/NĐ-CP")
    unnamed = Question("q2", "?", answer_keys=("thành lập doanh nghiệp",))
    assert answers_row(_candidate(text, law), named)
    assert not answers_row(_candidate(text, guide), named)  # the same words, another source
    assert answers_row(_candidate(text, guide), unnamed)
    assert not answers_row(_candidate("Chi đào tạo nghề.", law), named)


def test_each_index_is_asked_the_questions_after_it() -> None:
    raw = ["--questions", "a.jsonl", "--index", "k1:i1", "--questions", "b.jsonl",
           "--with-accentless", "--index", "k2:i2", "--questions", "c.jsonl"]  # fmt: skip
    assert index_plan(raw) == [
        ("", [Path("a.jsonl")]),  # before any --index: the index the settings name
        ("k1:i1", [Path("b.jsonl")]),
        ("k2:i2", [Path("c.jsonl")]),
    ]
    assert index_plan(["--index=k:i", "--questions=d.jsonl"]) == [("k:i", [Path("d.jsonl")])]

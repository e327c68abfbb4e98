"""The features of the fitted "value unknown" decision, on hand-built units."""

from __future__ import annotations

import numpy as np

from index.intents import IntentPrediction
from index.lexicon import Entities, Lexicon, Mention
from index.question import Query
from index.schema import Chunk, DocumentMeta, Passage
from index.unit_scorer import Candidate
from index.units import AnswerUnit
from index.unknown_model import unknown_features

_PHU_THO = Entities((Mention("province", "Phú Thọ", 0, 6, "Phú Thọ"),))


def _query() -> Query:
    text = "Phú Thọ hỗ trợ máy móc thiết bị tối đa bao nhiêu?"
    return Query(text, text, text, text, ("phu", "tho"), _PHU_THO)


def _candidate(text: str) -> Candidate:
    doc = DocumentMeta(doc_id="corpus/nq-23.md", title="Nghị quyết", number="23/2025/NQ-HĐND")
    chunk = Chunk(chunk_id=1, doc_id=doc.doc_id, text=text)
    unit = AnswerUnit(chunk_id=1, position=0, kind="sentence", text=text)
    return Candidate(0, unit, Passage(chunk, doc, 1.0), 0, np.zeros(1), _PHU_THO, score=0.3)


def _prediction(level: float) -> IntentPrediction:
    return IntentPrediction({"ask_level": level, "ask_info": 1.0 - level}, {"in_scope": 1.0})


def test_a_dated_header_states_a_value_but_no_level() -> None:
    header = [_candidate("Số: 23/2025/NQ-HĐND Phú Thọ, ngày 28 tháng 10 năm 2025")]
    features = unknown_features(_query(), header, _prediction(0.8), Lexicon())
    assert features["province_value"] == 1.0
    assert features["province_level"] == 0.0 and features["joint_level"] == 0.0


def test_an_amount_about_the_province_weighs_by_the_level_asked() -> None:
    cap = [_candidate("Phú Thọ hỗ trợ tối đa 50% chi phí, không quá 300 triệu đồng/cơ sở.")]
    features = unknown_features(_query(), cap, _prediction(0.8), Lexicon())
    assert features["province_level"] == features["joint_level"] == features["asks_level"] > 0.5
    low = unknown_features(_query(), cap, _prediction(0.1), Lexicon())
    assert low["province_level"] < features["province_level"]

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
from index.unknowns import known_units, partial_asked, partial_documents, tiers

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


def _tier_query(text: str) -> Query:
    return Query(text, text, text, text, (), Entities(()))


def test_a_tier_asked_is_answered_only_by_a_unit_about_that_tier() -> None:
    assert tiers("Hội đồng bình chọn cấp xã") == {"xa"} and tiers("cap khu vuc, cấp Quốc gia") == {
        "khu vuc", "quoc gia",
    }  # fmt: skip
    query = _tier_query("Thành lập hiệp hội ngành nghề cấp huyện được hỗ trợ tối đa bao nhiêu?")
    other = [
        _candidate(
            "Không quá 70 triệu đồng/hội, hiệp hội cấp vùng, 100 triệu đồng/hội cấp quốc gia."
        )
    ]
    features = unknown_features(query, other, _prediction(0.9), Lexicon())
    assert features["tier_asked"] == 1.0 and features["tier_value"] == 0.0
    own = [_candidate("Hiệp hội cấp huyện: không quá 50 triệu đồng/hội.")]
    assert unknown_features(query, own, _prediction(0.9), Lexicon())["tier_value"] == 1.0


def test_partial_texts_are_found_by_their_banner() -> None:
    chunks = [
        Chunk(
            chunk_id=1,
            doc_id="corpus/qd-29.md",
            text="PARTIAL TEXT — only the beginning …\nSố: 29/2014",
        ),
        Chunk(chunk_id=2, doc_id="corpus/qd-29.md", text="Điều 1. Ban hành kèm theo …"),
        Chunk(chunk_id=3, doc_id="corpus/nd-45.md", text="Điều 1. Phạm vi điều chỉnh"),
    ]
    partial = partial_documents(chunks)
    assert partial == {"corpus/qd-29.md"}
    header = [_candidate("Số: 23/2025/NQ-HĐND Phú Thọ, ngày 28 tháng 10 năm 2025")]
    assert partial_asked(_query(), header, frozenset({"corpus/nq-23.md"}))
    assert not partial_asked(_query(), header, partial)


def test_what_is_known_leaves_out_another_tiers_figure() -> None:
    text = "Phú Thọ: thành lập hiệp hội ngành nghề cấp huyện được hỗ trợ tối đa bao nhiêu?"
    query = Query(text, text, text, text, (), _PHU_THO)
    other = _candidate("Không quá 70 triệu đồng/hội, hiệp hội cấp vùng.")
    plain = _candidate("Hồ sơ gồm quyết định thành lập và điều lệ của hiệp hội.")
    assert known_units(query, [other, plain], Lexicon()) == [plain]


def test_partial_documents_from_metadata_or_banner() -> None:
    from index.schema import Chunk, DocumentMeta
    from index.unknowns import PARTIAL_BANNER, partial_documents

    chunks = [
        Chunk(chunk_id=1, doc_id="a", text="Điều 1. Phạm vi", path=()),
        Chunk(chunk_id=2, doc_id="b", text=f"> {PARTIAL_BANNER}: only the beginning", path=()),
        Chunk(chunk_id=3, doc_id="c", text="Điều 1. Phạm vi", path=()),
    ]
    docs = [
        DocumentMeta(doc_id="a", title="A", complete=False),
        DocumentMeta(doc_id="c", title="C"),
    ]
    assert partial_documents(chunks, docs) == {"a", "b"}

"""The passage ranker's score reaches the answer-unit scorer as `ranker_gap`."""

from __future__ import annotations

import numpy as np
import pytest

from index.engine import Engine
from index.schema import Chunk, DocumentMeta, Passage
from index.unit_scorer import FEATURES, ORDER_ONLY, UnitScorer, ranker_gaps


def _passage(cid: int, rank_score: float | None) -> Passage:
    doc = DocumentMeta(doc_id=f"d{cid}", title=f"Doc {cid}")
    return Passage(Chunk(chunk_id=cid, doc_id=doc.doc_id, text="x"), doc, 1.0, rank_score=rank_score)


def test_gaps_are_each_score_minus_the_best() -> None:
    gaps = ranker_gaps([_passage(1, 9.0), _passage(2, 10.0), _passage(3, 7.5)])
    assert gaps == pytest.approx([-1.0, 0.0, -2.5])


def test_an_unscored_passage_gets_the_worst_gap_and_none_scored_gives_zeros() -> None:
    assert ranker_gaps([_passage(1, 4.0), _passage(2, None), _passage(3, 3.0)]) == [0.0, -1.0, -1.0]
    assert ranker_gaps([_passage(1, None), _passage(2, None)]) == [0.0, 0.0]
    # Appended after the older features: older scorer files keep their meaning.
    assert FEATURES.index("ranker_gap") == FEATURES.index("counted_value") + 1


@pytest.mark.slow
def test_hybrid_passages_carry_the_ranker_score(engine: Engine) -> None:
    passages = engine.search("Hỗ trợ dây chuyền công nghệ tối đa bao nhiêu?", k=5)
    assert passages and all(isinstance(p.rank_score, float) for p in passages)
    assert engine.search("hội chợ", k=3, mode="bm25")[0].rank_score is None  # not reranked


def test_the_gap_orders_units_but_leaves_their_probability() -> None:
    row = np.zeros((1, len(FEATURES)))
    row[0, FEATURES.index("ranker_gap")] = -1.0
    row[0, FEATURES.index("cosine")] = 1.0
    scorer = UnitScorer({"cosine": 2.0, "ranker_gap": 1.5}, -1.0)
    assert "ranker_gap" in ORDER_ONLY
    assert scorer.probability(row)[0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert scorer.probability(row, ordering=True)[0] == pytest.approx(1 / (1 + np.exp(0.5)))


@pytest.mark.slow
def test_use_ranker_serves_another_ranker(engine: Engine) -> None:
    from index.passage_ranker import PassageRanker

    shipped = engine.ranker
    other = PassageRanker({"fused": 1.0}, 0.0)
    try:
        engine.use_ranker(other)
        assert engine.ranker is other
        passages = engine.search("Hỗ trợ dây chuyền công nghệ tối đa bao nhiêu?", k=5)
        assert passages and all(isinstance(p.rank_score, float) for p in passages)
    finally:
        engine.use_ranker(shipped)
    assert engine.ranker is shipped

"""English interaction copies of the answer-unit features (`english_label_match`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.engine import Engine
from index.unit_scorer import (
    ENGLISH_COPIES,
    FEATURES,
    ORDER_ONLY,
    SCORER_FILE,
    UnitScorer,
    with_english_copies,
)

BASE = [float(i) for i in range(len(FEATURES) - len(ENGLISH_COPIES))]


def test_a_copy_repeats_its_base_value_for_an_english_question_only() -> None:
    label = FEATURES.index("label_match")
    english = with_english_copies(BASE, english=True)
    assert len(english) == len(FEATURES)
    assert english[FEATURES.index("english_label_match")] == BASE[label]
    vietnamese = with_english_copies(BASE, english=False)
    assert vietnamese[FEATURES.index("english_label_match")] == 0.0
    assert vietnamese[: len(BASE)] == english[: len(BASE)] == BASE


def test_the_copies_come_last_and_only_order() -> None:
    assert FEATURES[-len(ENGLISH_COPIES) :] == tuple(ENGLISH_COPIES)
    assert set(ENGLISH_COPIES) <= ORDER_ONLY
    row = np.zeros((1, len(FEATURES)))
    row[0, FEATURES.index("english_label_match")] = 0.5
    scorer = UnitScorer({"english_label_match": 2.0}, 0.0)
    assert scorer.probability(row)[0] == pytest.approx(0.5)
    assert scorer.probability(row, ordering=True)[0] == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_the_shipped_scorer_weighs_the_copy_by_its_offset_fit() -> None:
    scorer = UnitScorer.load(Path(__file__).resolve().parents[2] / "knowledge" / SCORER_FILE)
    fits = {f["feature"]: f for f in scorer.info["offset_fits"]}
    assert scorer.weights["english_label_match"] == fits["english_label_match"]["weight"] > 0


@pytest.mark.slow
def test_units_of_an_english_question_carry_the_copy(engine: Engine) -> None:
    from scripts.fit_scorer import ranked_candidates

    label, copy = FEATURES.index("label_match"), FEATURES.index("english_label_match")
    english = ranked_candidates(engine, "Which areas get priority for industrial promotion?")
    assert english and any(c.features[label] > 0 for c in english)
    assert all(c.features[copy] == c.features[label] for c in english)
    vietnamese = ranked_candidates(engine, "Địa bàn nào được ưu tiên khuyến công?")
    assert vietnamese and all(c.features[copy] == 0.0 for c in vietnamese)

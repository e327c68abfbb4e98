"""The "value unknown" fit: feature selection, threshold, and the model file it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.unknown_model import FEATURES, SHIPPED, UnknownModel, shipped_model
from scripts.fit_unknowns import eliminate_features, operating_point, select_features


def _folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rows = np.arange(n)
    return [(rows[rows % 5 != k], rows[rows % 5 == k]) for k in range(5)]


def test_forward_selection_keeps_the_informative_feature_only() -> None:
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 40)
    informative = y + rng.normal(0.0, 0.3, len(y))
    noise = rng.normal(0.0, 1.0, len(y))
    x = np.column_stack([noise, informative])
    chosen, loss, _, probabilities = select_features(x, y, _folds(len(y)), ("noise", "signal"))
    assert chosen == ["signal"]
    assert loss < 0.4 and probabilities.shape == y.shape


def test_the_threshold_weighs_a_false_unknown_above_a_missed_one() -> None:
    y = np.asarray([1, 1, 0, 0, 0])
    p = np.asarray([0.9, 0.45, 0.5, 0.1, 0.2])
    point = operating_point(p, y)
    # At 0.45 one more unknown is said but an answerable row is lost: not worth it.
    assert point["threshold"] > 0.5 and point["false_unknowns"] == 0 and point["unknowns_said"] == 1


def test_the_model_round_trips_and_decides_at_its_threshold(tmp_path: Path) -> None:
    model = UnknownModel({"item_unknown": 4.0, "top_amount": -2.0}, -1.0, 0.6, {"command": "x"})
    path = tmp_path / "unknown_model.json"
    model.save(path)
    loaded = UnknownModel.load(path)
    assert loaded.weights == model.weights and loaded.threshold == 0.6
    assert loaded.info["command"] == "x"
    assert loaded.unknown({"item_unknown": 1.0}) and not loaded.unknown({"top_amount": 1.0})


def test_an_absent_file_gives_the_shipped_model(tmp_path: Path) -> None:
    assert UnknownModel.load(tmp_path / "none.json").weights == shipped_model().weights
    assert SHIPPED.exists() and set(shipped_model().weights) <= set(FEATURES)


def test_backward_elimination_drops_the_noise() -> None:
    rng = np.random.default_rng(1)
    y = np.tile([0, 1], 40)
    x = np.column_stack([rng.normal(0.0, 1.0, len(y)), y + rng.normal(0.0, 0.3, len(y))])
    chosen, _, _, _ = eliminate_features(x, y, _folds(len(y)), ("noise", "signal"))
    assert chosen == ["signal"]

"""The "value unknown" fit: feature selection, threshold, and the model file it writes."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np

from index.unknown_model import FEATURES, FIT_FEATURES, SHIPPED, UnknownModel, shipped_model
from scripts.fit_scorer import index_plan
from scripts.fit_unknowns import (
    build_parser,
    eliminate_features,
    fit_decision,
    operating_point,
    select_features,
)


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


def _rows(seed: int) -> list[tuple[str, dict[str, float], int]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(60):
        label = i % 2
        features = {name: float(rng.normal(0.0, 1.0)) for name in FEATURES}
        features["asks_level"] = label + float(rng.normal(0.0, 0.5))
        # A question and its unaccented copy share an id: one group.
        rows += [(f"q{i}", features, label), (f"q{i}", dict(features), label)]
    return rows


def test_a_refit_on_the_same_rows_writes_the_same_file(tmp_path: Path) -> None:
    first, info = fit_decision(_rows(2))
    second, _ = fit_decision(_rows(2))
    assert set(first.weights) == set(FIT_FEATURES) and info["selection"] == "fixed"
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    first.save(paths[0])
    second.save(paths[1])
    assert paths[0].read_text(encoding="utf-8") == paths[1].read_text(encoding="utf-8")


def test_the_stored_command_parses_and_names_tuning_files_only() -> None:
    info = shipped_model().info
    words = shlex.split(info["command"])
    assert words[:3] == ["python", "-m", "scripts.fit_unknowns"]
    args = build_parser().parse_args(words[3:])
    root = SHIPPED.parents[1]
    plan = index_plan(words[3:])
    assert plan and all(paths for _, paths in plan)
    for path in args.questions:
        assert path.name.startswith("tuning_") and (root / path).exists()
    # The fixed set is what the file weighs, so a refit moves weights, never the set.
    assert args.select == "fixed" and info["features_chosen"] == list(FIT_FEATURES)
    assert set(shipped_model().weights) == set(FIT_FEATURES)

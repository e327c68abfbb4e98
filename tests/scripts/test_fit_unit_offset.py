"""The offset fit of one unit-scorer weight: hits of the top unit and the grid choice."""

from __future__ import annotations

import numpy as np

from scripts.fit_unit_offset import GRID, choose, hits


def _rows() -> tuple[list[tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    # Question 1: the right unit (row 1) scores lower, and its feature is higher by 1.
    # Question 2: the right unit wins by 2, and its feature is lower by 1: above 2 it loses.
    rows = [
        (np.array([[0.0], [1.0]]), np.array([False, True])),
        (np.array([[0.0], [1.0]]), np.array([True, False])),
    ]
    logit = [np.array([1.0, 0.0]), np.array([0.0, -2.0])]
    return rows, logit


def test_hits_count_questions_whose_best_unit_is_right() -> None:
    rows, logit = _rows()
    assert hits(rows, logit, 0, 0.0) == 1
    assert hits(rows, logit, 0, 1.5) == 2
    assert hits(rows, logit, 0, 3.0) == 1


def test_choose_takes_the_most_hits_and_the_smaller_weight_on_ties() -> None:
    rows, logit = _rows()
    assert choose(rows, logit, 0, [0, 1]) == 1.5  # 2.0 hits both too: the smaller wins
    assert choose(rows, logit, 0, [1]) == 0.0  # nothing to gain: keep the kept weights
    assert 0.0 in GRID

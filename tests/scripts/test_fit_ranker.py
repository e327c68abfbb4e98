"""Fitting the passage ranker: document-grouped folds and the fit on synthetic heads."""

from __future__ import annotations

import numpy as np

from scripts.fit_ranker import answer_group, document_folds, fit


def test_group_is_the_document_of_the_first_positive() -> None:
    docs = ["guide.md", "tt-36.md", "tt-36.md"]
    assert answer_group(docs, [0, 1, 1], fallback="q1") == "doc:tt-36.md"
    assert answer_group(docs, [0, 0, 0], fallback="q1") == "question:q1"


def test_folds_keep_each_document_in_one_test_fold() -> None:
    groups = ["a", "a", "b", "c", "c", "c", "d", "e", "f", "g"]
    folds = document_folds(groups, n_splits=3)
    assert len(folds) == 3
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(groups)))  # every question is tested exactly once
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    assert document_folds(groups, n_splits=3) == folds  # the same on every run


def test_fit_learns_the_informative_feature() -> None:
    rng = np.random.RandomState(1)
    xs, ys, groups = [], [], []
    for q in range(40):
        x = rng.normal(size=(5, 2))
        y = np.zeros(5, dtype=int)
        y[rng.randint(5)] = 1
        x[y == 1, 0] += 2.0  # column 0 tells the answer; column 1 is noise
        xs.append(x)
        ys.append(y)
        groups.append(f"doc{q % 8}")
    model, c, report = fit(xs, ys, groups, names=("fused", "bm25"))
    weights = model.coef_[0]
    assert weights[0] > 3 * abs(weights[1])
    assert report["cv_hit@1"] > report["untuned_hit@1"] - 1e-9
    assert report["cv_hit@1"] >= 0.7
    assert c in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)

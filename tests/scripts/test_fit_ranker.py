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


def test_fit_with_kept_weights_fits_only_on_top_of_them() -> None:
    # The kept score (column 0 weighed 1) finds the answer of the first 20 questions; only the
    # "English" feature, present in the last 20, finds theirs: the fit weighs it and keeps
    # the first questions' ordering (the feature is 0 there).
    rng = np.random.RandomState(2)
    xs, ys, offsets, groups = [], [], [], []
    for q in range(40):
        kept = rng.normal(size=(5, 2))
        y = np.zeros(5, dtype=int)
        y[rng.randint(5)] = 1
        english = q >= 20
        if not english:
            kept[y == 1, 0] += 3.0
        x = np.zeros((5, 1))
        if english:
            x[:, 0] = rng.normal(size=5)
            x[y == 1, 0] += 2.0
        xs.append(x)
        ys.append(y)
        offsets.append(kept[:, 0])
        groups.append(f"doc{q % 8}")
    model, _, report = fit(xs, ys, groups, names=("english_fused",), offsets=offsets)
    assert model.coef_.shape == (1, 1) and model.coef_[0, 0] > 0.5
    assert report["cv_hit@1"] > report["untuned_hit@1"]

"""Fitting the intent classifier at an index build, with what does not depend on the index cached.

The classifier is a logistic regression over the e5 embedding, TF-IDF and knowledge-base
coverage of the examples of intents.yaml, its temperature fitted on grouped 5-fold held-out
scores: six fits. The coverage column depends on the index's IDF statistics, so any document
change refits; the fit took 20 of the 29 s of a knowledge/ build (cProfile, issue 10).

What depends only on intents.yaml, the lexicon and the model is kept in a cache beside the
converted model (`BaseCache`, keyed by all of it): the examples' query vectors, the fitted
TF-IDF vocabularies and the weights of the last build's six fits. A build with a cached base
embeds no example and starts each fit from those weights: the objective is convex, so a
warm start reaches the same optimum in a fifth of the iterations (8 against 40 after
dropping a third of the chunks from the statistics), within the solver's tolerance of a
cold fit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Bumped when what a base holds changes: cached bases of other code are never read.
BASE_VERSION = 2
#: Cached bases kept per cache directory (one per intents.yaml x model seen recently).
BASE_CACHE_KEEP = 16

Weights = tuple[np.ndarray, np.ndarray]  # (coef_, intercept_) of one logistic regression


@dataclass
class IntentBase:
    """What a fit of the classifier reuses from an earlier one on the same examples."""

    vectors: np.ndarray  # query embeddings of the examples
    words: Any  # fitted TfidfVectorizer over folded words
    chars: Any  # fitted TfidfVectorizer over folded character n-grams
    #: Weights of the fold fits and, last, of the final fit: the warm starts.
    weights: list[Weights] = field(default_factory=list)


@dataclass
class StackedModel:
    """The calibrated classifier as one linear model: softmax(X @ coef_.T + intercept_).

    X is `IntentClassifier.features`; the temperature is folded into the weights.
    """

    classes_: np.ndarray
    coef_: np.ndarray  # (classes, features)
    intercept_: np.ndarray  # (classes,)

    def predict_proba(self, rows: Any) -> np.ndarray:
        """Probabilities of every class for each row of a feature matrix."""
        z = np.asarray(rows @ self.coef_.T) + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


def base_key(parts: Sequence[Any]) -> str:
    """Content key of a base: the analysed examples, model, settings and code versions."""
    raw = json.dumps([BASE_VERSION, *parts], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _fit(estimator: Any, features: Any, labels: np.ndarray, start: Weights | None) -> Any:
    if start is not None and hasattr(estimator, "warm_start"):
        estimator.set_params(warm_start=True)
        estimator.coef_, estimator.intercept_ = start[0].copy(), start[1].copy()
    try:
        return estimator.fit(features, labels)
    except ValueError:
        if start is None:
            raise
        # Cached weights of another shape (classes changed in a fold): fit from scratch.
        estimator.set_params(warm_start=False)
        return estimator.fit(features, labels)


def temperature(scores: np.ndarray, targets: np.ndarray) -> float:
    """Inverse temperature minimising the log-loss of softmax(beta * scores).

    As scikit-learn's temperature scaling (`CalibratedClassifierCV(method="temperature")`):
    bounded search over log(beta) in [-10, 10].
    """
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(targets))

    def loss(log_beta: float) -> float:
        z = np.exp(log_beta) * scores
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, targets]))

    found = minimize_scalar(loss, bounds=(-10.0, 10.0), options={"xatol": 64 * np.finfo(np.float64).eps})
    return float(np.exp(found.x))


def fit_calibrated(
    features: Any,
    labels: np.ndarray,
    sources: Sequence[int],
    estimator: Callable[[], Any],
    folds: int,
    starts: Sequence[Weights] = (),
) -> tuple[StackedModel, list[Weights]]:
    """Fits the estimator on every row, its temperature on grouped held-out fold scores.

    The same as `CalibratedClassifierCV(estimator, method="temperature", cv=splits,
    ensemble=False)`, with warm starts.

    Args:
        features: One row per example.
        labels: The label of each row.
        sources: Fold group of each row (an example and its unaccented copy share one).
        estimator: Makes a fresh, unfitted logistic regression.
        folds: Grouped folds of the held-out scores.
        starts: Weights of an earlier fit to start from (folds, then final); may be empty.

    Returns:
        The calibrated model, and the weights of this fit (the next one's starts).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    split = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(split.split(features, labels, groups=list(sources)))
    start = list(starts) if len(starts) == len(splits) + 1 else [None] * (len(splits) + 1)
    classes = sorted(set(labels.tolist()))
    held_out = np.zeros((len(labels), len(classes)), dtype=np.float64)
    weights: list[Weights] = []
    for (train, test), begin in zip(splits, start, strict=False):
        fold = _fit(estimator(), features[train], labels[train], begin)
        scores = fold.decision_function(features[test])
        # A class absent from a training fold gets no score: it stays below every other.
        held_out[test] = scores.min() - 1.0
        held_out[np.ix_(test, [classes.index(c) for c in fold.classes_])] = scores
        weights.append((np.asarray(fold.coef_), np.asarray(fold.intercept_)))
    final = _fit(estimator(), features, labels, start[-1])
    weights.append((np.asarray(final.coef_), np.asarray(final.intercept_)))
    targets = np.asarray([classes.index(label) for label in labels], dtype=np.int64)
    beta = temperature(held_out, targets)
    coef = beta * np.asarray(final.coef_, dtype=np.float64)
    intercept = beta * np.asarray(final.intercept_, dtype=np.float64)
    return StackedModel(np.asarray(final.classes_), coef, intercept), weights


class BaseCache:
    """Bases on disk, one joblib file per key; a failure only costs a cold fit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> IntentBase | None:
        """The cached base of `key`, or None (missing, unreadable, or of another layout)."""
        import joblib

        path = self.directory / f"{key}.joblib"
        try:
            base = joblib.load(path)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - an unreadable cache file is only a cache miss
            logger.warning("Ignoring the unreadable intent cache %s", path, exc_info=True)
            return None
        if not isinstance(base, IntentBase):
            return None
        path.touch()  # recently used: kept by `save`'s pruning
        return base

    def save(self, key: str, base: IntentBase) -> None:
        """Writes the base atomically and keeps only the most recently used files."""
        import joblib

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{os.getpid()}.tmp"
            joblib.dump(base, tmp)
            tmp.replace(self.directory / f"{key}.joblib")
            files = sorted(self.directory.glob("*.joblib"), key=lambda p: p.stat().st_mtime)
            for old in files[:-BASE_CACHE_KEEP]:
                old.unlink(missing_ok=True)
        except OSError:
            logger.warning("Cannot write the intent cache in %s", self.directory, exc_info=True)

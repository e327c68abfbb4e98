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

from index.intents import FEATURES_VERSION, Example, IntentClassifier, question_coverage
from index.lexicon import Lexicon, TermStats
from index.question import analyse
from index.textnorm import fold_diacritics

logger = logging.getLogger(__name__)

#: Inverse regularisation of the logistic regression. Chosen by 5-fold grouped cross-
#: validation on intents.yaml (log-loss 0.01-100; see `scripts.calibration`).
REGULARISATION_C = 10.0
#: Folds of the held-out predictions the temperature is fitted on.
CALIBRATION_FOLDS = 5
#: Examples embedded to fingerprint the model in the key of a cached base.
PROBE_EXAMPLES = 4

Embed = Callable[[Sequence[str]], np.ndarray]

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


def example_queries(
    examples: Sequence[Example],
    lexicon: Lexicon,
    *,
    restore_accents: bool = False,
    restorer: Callable[[str], str] | None = None,
) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    """What each example looks like at question time: dense text, classifier text, tokens."""
    dense, texts, tokens = [], [], []
    for example in examples:
        query = analyse(
            example.text, lexicon, restore_accents=restore_accents, restorer=restorer
        )
        dense.append(query.dense_text)
        texts.append(query.expanded)
        tokens.append(query.scope_tokens)
    return dense, texts, tokens


def example_inputs(
    examples: Sequence[Example],
    lexicon: Lexicon,
    stats: TermStats | None,
    *,
    restore_accents: bool = False,
    restorer: Callable[[str], str] | None = None,
) -> tuple[list[str], list[str], list[float]]:
    """What each example looks like at question time: dense text, classifier text, coverage."""
    dense, texts, tokens = example_queries(
        examples, lexicon, restore_accents=restore_accents, restorer=restorer
    )
    return dense, texts, [question_coverage(t, stats) for t in tokens]


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(
        analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), sublinear_tf=True
    )
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return words, chars


def _estimator(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced")


def fit_classifier(
    examples: Sequence[Example],
    embed: Embed,
    lexicon: Lexicon,
    stats: TermStats | None,
    *,
    c: float = REGULARISATION_C,
    restore_accents: bool = False,
    restorer: Callable[[str], str] | None = None,
    cache: BaseCache | None = None,
    embedding_id: str = "",
) -> IntentClassifier:
    """Fits and calibrates the classifier on the examples of intents.yaml.

    What does not depend on the index (example vectors, TF-IDF vocabularies, the weights
    the fits start from) is read from `cache` when it holds a base for the same inputs
    (`index.intent_fit`); the fits themselves run every time, the coverage being new.

    Args:
        examples: From `read_examples`.
        embed: Encodes texts as query embeddings (`encode_queries` with the index's model).
        lexicon: For abbreviations and English glossary handling, as at question time.
        stats: IDF statistics of the index, for the coverage feature.
        c: Inverse regularisation strength.
        restore_accents: Embed unaccented examples with guessed diacritics, as questions
            are when `Settings.restore_diacritics` is on.
        restorer: What guesses them (see `index.question.analyse`).
        cache: Where fitted bases are kept between builds (None: always fit).
        embedding_id: Names the model and backend behind `embed` in the cache key.

    Returns:
        The fitted classifier; `info["base_cached"]` tells whether a cached base was used.
    """
    import sklearn

    dense, texts, tokens = example_queries(
        examples, lexicon, restore_accents=restore_accents, restorer=restorer
    )
    labels = np.asarray([e.label for e in examples])
    groups = {e.label: e.group for e in examples}
    # The vectors of a few examples join the key: a base is only reused with the model that
    # made it, even when a caller passes another model under the same settings (tests do).
    probe = np.round(np.asarray(embed(dense[:PROBE_EXAMPLES]), dtype=np.float64), 4)
    key = base_key(
        [
            FEATURES_VERSION, sklearn.__version__, c, CALIBRATION_FOLDS, embedding_id,
            hashlib.sha256(probe.tobytes()).hexdigest(),
            [[d, t, e.label, e.source] for d, t, e in zip(dense, texts, examples, strict=True)],
        ]
    )  # fmt: skip
    base = cache.load(key) if cache is not None else None
    cached = base is not None
    if base is None:
        words, chars = _vectorizers()
        folded = [fold_diacritics(t).casefold() for t in texts]
        words.fit(folded)
        chars.fit(folded)
        base = IntentBase(np.asarray(embed(dense), dtype=np.float32), words, chars)
    coverage = [question_coverage(t, stats) for t in tokens]
    classifier = IntentClassifier(None, base.words, base.chars, tuple(sorted(groups)), groups)
    features = classifier.features(base.vectors, texts, coverage)
    classifier.model, weights = fit_calibrated(
        features, labels, [e.source for e in examples], lambda: _estimator(c),
        CALIBRATION_FOLDS, base.weights,
    )  # fmt: skip
    if cache is not None:
        # The next build starts from this one: knowledge changes a little between builds,
        # and the optimum is the same from any start (within the solver's tolerance).
        base.weights = weights
        cache.save(key, base)
    classifier.info = {
        "sklearn": sklearn.__version__,
        "features_version": FEATURES_VERSION,
        "labels": list(classifier.labels),
        "examples": len(examples),
        "c": c,
        "restore_accents": restore_accents,
        "base_key": key,
        "base_cached": cached,
    }
    return classifier

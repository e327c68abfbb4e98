"""The intent classifier's fitted weights, evaluated directly for one message.

scikit-learn validates its input at every `predict_proba` call; on one short message that was
most of the classifier's cost in `answer()`. `FastPath` does the same arithmetic with the
fitted weights, and `fast_path` checks it against scikit-learn once before it is used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from index.textnorm import fold_diacritics

if TYPE_CHECKING:
    from index.intents import IntentClassifier

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FastPath:
    """The calibrated logistic regression evaluated directly for one message.

    scikit-learn's `predict_proba` validates its input at every call; on one short message
    that took 3-4 ms of the 10 ms of `answer()` (cProfile over the tuning and dev questions),
    more than the retrieval. The same arithmetic with the fitted weights takes a fraction of
    a millisecond: TF-IDF of the message (sublinear tf, idf, l2, as the vectorizers do),
    logits, then the softmax of the temperature-scaled logits.
    """

    dense: np.ndarray  # (classes, embedding dim)
    words: Any  # (analyzer, vocabulary, idf, weights (classes, vocabulary))
    chars: Any
    coverage: np.ndarray  # (classes,)
    intercept: np.ndarray
    beta: float

    @staticmethod
    def _tfidf(part: Any, text: str) -> np.ndarray:
        analyzer, vocabulary, idf, weights = part
        counts: dict[int, int] = {}
        for term in analyzer(text):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return np.zeros(weights.shape[0])
        columns = np.fromiter(counts, dtype=np.int64)
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * idf[columns]
        values /= np.linalg.norm(values)
        return np.asarray(weights[:, columns] @ values).reshape(-1)

    def probabilities(self, vector: np.ndarray, text: str, coverage: float) -> np.ndarray:
        folded = fold_diacritics(text).casefold()
        logits = (
            self.dense @ np.asarray(vector, dtype=np.float64)
            + self._tfidf(self.words, folded)
            + self._tfidf(self.chars, folded)
            + self.coverage * coverage
            + self.intercept
        )
        z = self.beta * logits
        z -= z.max()
        e = np.exp(z)
        return np.asarray(e / e.sum())


def fast_path(
    classifier: IntentClassifier, vector: np.ndarray, text: str, coverage: float
) -> FastPath | bool:
    """Reads the fitted weights out of the calibrated model, checked on one message.

    Returns False (use scikit-learn) for any model this arithmetic does not reproduce.
    """
    try:
        coef = np.asarray(classifier.model.coef_, dtype=np.float64)
        intercept = np.asarray(classifier.model.intercept_, dtype=np.float64)
        beta = 1.0  # the stack's temperature is folded into coef_ and intercept_
        if coef.shape[0] != len(classifier.model.classes_):
            return False
        dim = int(vector.shape[-1])
        n_words = len(classifier.words.vocabulary_)
        n_chars = len(classifier.chars.vocabulary_)
        if coef.shape[1] != dim + n_words + n_chars + 1:
            return False

        def part(vectorizer: Any, start: int, size: int) -> tuple[Any, ...]:
            return (
                vectorizer.build_analyzer(),
                vectorizer.vocabulary_,
                np.asarray(vectorizer.idf_, dtype=np.float64),
                coef[:, start : start + size],
            )

        fast = FastPath(
            coef[:, :dim],
            part(classifier.words, dim, n_words),
            part(classifier.chars, dim + n_words, n_chars),
            coef[:, -1],
            intercept,
            beta,
        )
        row = classifier.features(vector.reshape(1, -1), [text], [coverage])
        expected = classifier.model.predict_proba(row)[0]
        if not np.allclose(fast.probabilities(vector, text, coverage), expected, atol=1e-6):
            logger.warning("The intent model's fast path disagrees with scikit-learn; not used")
            return False
        return fast
    except (AttributeError, IndexError, TypeError, ValueError):
        return False

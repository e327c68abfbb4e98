"""The intent and scope classifier: is a message an in-scope question, an out-of-scope one, or
a request for an action?

It is a logistic regression (scikit-learn) over the e5 embedding of the question plus
lexical features (TF-IDF of folded words and character n-grams, and how much of the question
the knowledge base's vocabulary covers), calibrated on held-out folds. It is fitted on the
labelled examples of `knowledge/intents.yaml` at every index build (what does not depend on
the index is cached; the fit is `index.intent_fit`), and saved with the index (`intents.joblib`,
described in the manifest).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from index import yaml_text
from index.errors import KhuyenCongError
from index.intent_weights import fast_path
from index.lexicon import TermStats
from index.textnorm import fold_diacritics

logger = logging.getLogger(__name__)

INTENTS_FILE = "intents.yaml"
MODEL_NAME = "intents.joblib"
#: Bumped when the features change: an index saved with other features must be rebuilt.
FEATURES_VERSION = 5  # 5: accent restorer from the index + the cached, warm-started fit
GROUPS = ("in_scope", "out_of_scope", "actions")
#: Actions and the flows they start (see bot/handlers and bot/answer_views).
ACTIONS = ("register", "talk_to_staff", "check_eligibility", "delete_data", "help", "greeting")


class IntentModelError(KhuyenCongError):
    """The saved intent classifier is missing or was made by other code."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled utterance of intents.yaml."""

    text: str
    label: str
    group: str
    #: Index of the written example; its unaccented copy shares it (for grouped folds).
    source: int


@dataclass(frozen=True, slots=True)
class IntentPrediction:
    """Calibrated probabilities for one message."""

    probabilities: dict[str, float]
    groups: dict[str, float]

    @property
    def label(self) -> str:
        """The most probable intent."""
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def confidence(self) -> float:
        """Probability of the most probable intent."""
        return self.probabilities[self.label]

    def group_of(self, label: str) -> str:
        """Group of one of the predicted labels."""
        return _GROUP_OF.get(label, "in_scope")

    @property
    def in_scope(self) -> float:
        """Probability that the message is a question the documents cover."""
        return self.groups.get("in_scope", 0.0)

    @property
    def asks_value(self) -> float:
        """Probability that an in-scope question asks for a value (a level, count or date)."""
        inside = self.in_scope
        value = self.probabilities.get("ask_level", 0.0) + self.probabilities.get("ask_quantity", 0.0)
        return value / inside if inside > 0 else 0.0

    @property
    def asks_list(self) -> float:
        """Probability that an in-scope question asks for the items of a list.

        An intents file without `ask_list` examples gives the old reading: any question that
        does not ask for a value.
        """
        inside = self.in_scope
        if "ask_list" not in self.probabilities:
            return 1.0 - self.asks_value
        return self.probabilities["ask_list"] / inside if inside > 0 else 0.0

    @property
    def asks_level(self) -> float:
        """Probability that an in-scope question asks for a support level (amount, %, cap)."""
        inside = self.in_scope
        return self.probabilities.get("ask_level", 0.0) / inside if inside > 0 else 0.0


_GROUP_OF: dict[str, str] = {}


def read_examples(path: Path) -> list[Example]:
    """Reads intents.yaml into examples, adding an unaccented copy of accented ones.

    Args:
        path: The intents file.

    Returns:
        The examples, in file order.

    Raises:
        IntentModelError: The file is missing or malformed.
    """
    try:
        data = yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise IntentModelError(f"Cannot read {path}: {exc}. Fix the file, then reindex.") from exc
    examples: list[Example] = []
    source = 0
    for group in GROUPS:
        for label, texts in (data.get(group) or {}).items():
            if not isinstance(texts, list) or not texts:
                raise IntentModelError(f"{path}: {group}.{label} needs a list of examples.")
            _GROUP_OF[str(label)] = group
            for text in texts:
                text = str(text).strip()
                if not text:
                    continue
                examples.append(Example(text, str(label), group, source))
                folded = fold_diacritics(text)
                if folded != text:
                    examples.append(Example(folded, str(label), group, source))
                source += 1
    if len({e.label for e in examples}) < 2:
        raise IntentModelError(f"{path}: needs examples of at least two intents.")
    return examples


def file_hash(path: Path) -> str:
    """Content hash of the intents file, recorded in the manifest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _coverage(tokens: Sequence[str], stats: TermStats | None) -> float:
    # How much of the question the knowledge base's vocabulary knows, IDF-weighted: a
    # question about "giá vàng" or "hộ chiếu" is mostly words the documents never use.
    if not tokens or stats is None:
        return 0.0
    weights = [stats.idf(t) for t in tokens]
    known = sum(w for t, w in zip(tokens, weights, strict=True) if stats.known(t))
    return known / sum(weights)


@dataclass
class IntentClassifier:
    """Predicts intents from the e5 embedding and lexical features of a message."""

    model: Any  # index.intent_fit.StackedModel
    words: Any  # TfidfVectorizer over folded words
    chars: Any  # TfidfVectorizer over folded character n-grams
    labels: tuple[str, ...]
    groups: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    #: The fitted weights read out for one-message prediction (`index.intent_weights`); False
    #: when they do not reproduce scikit-learn's probabilities.
    _fast: Any = field(default=None, repr=False)

    def features(
        self, vectors: np.ndarray, texts: Sequence[str], coverage: Sequence[float]
    ) -> Any:
        """The feature matrix: embedding | word TF-IDF | char TF-IDF | coverage."""
        from scipy import sparse

        folded = [fold_diacritics(t).casefold() for t in texts]
        cov = sparse.csr_matrix(np.asarray(coverage, dtype=np.float64).reshape(-1, 1))
        return sparse.hstack(
            [
                sparse.csr_matrix(np.asarray(vectors, dtype=np.float64)),
                self.words.transform(folded),
                self.chars.transform(folded),
                cov,
            ],
            format="csr",
        )

    def predict(self, vector: np.ndarray, text: str, coverage: float) -> IntentPrediction:
        """Calibrated probabilities of every intent for one message.

        Args:
            vector: The message's query embedding (the one retrieval used).
            text: The message as the classifier reads it (abbreviations expanded).
            coverage: Knowledge-base vocabulary coverage of its tokens.

        Returns:
            Probabilities per intent and per group.
        """
        if self._fast is None:
            self._fast = fast_path(self, np.asarray(vector).reshape(-1), text, coverage)
        if self._fast is not False:
            probs = self._fast.probabilities(np.asarray(vector).reshape(-1), text, coverage)
        else:
            row = self.features(np.asarray(vector).reshape(1, -1), [text], [coverage])
            probs = self.model.predict_proba(row)[0]
        by_label = {str(label): float(p) for label, p in zip(self.model.classes_, probs, strict=True)}
        groups: dict[str, float] = {}
        for label, p in by_label.items():
            group = self.groups.get(label, "in_scope")
            groups[group] = groups.get(group, 0.0) + p
        return IntentPrediction(by_label, groups)

    def save(self, directory: Path) -> None:
        """Writes the model into a version directory."""
        import joblib

        joblib.dump(
            {
                "model": self.model,
                "words": self.words,
                "chars": self.chars,
                "labels": self.labels,
                "groups": self.groups,
                "info": self.info,
            },
            directory / MODEL_NAME,
        )

    @classmethod
    def load(cls, directory: Path, expected: dict[str, Any]) -> IntentClassifier:
        """Reads a saved model and checks it against the manifest entry.

        Raises:
            IntentModelError: Missing file, or saved by another scikit-learn or features
                version (the message names the fix).
        """
        import joblib
        import sklearn

        if expected.get("sklearn") != sklearn.__version__ or (
            expected.get("features_version") != FEATURES_VERSION
        ):
            raise IntentModelError(
                f"The intent classifier was saved with scikit-learn {expected.get('sklearn')} "
                f"(features v{expected.get('features_version')}); this code runs "
                f"{sklearn.__version__} (v{FEATURES_VERSION}): run `python -m scripts reindex --full`."
            )
        try:
            data = joblib.load(directory / MODEL_NAME)
        except (OSError, ValueError, EOFError) as exc:
            raise IntentModelError(
                f"{directory / MODEL_NAME} is unreadable ({exc}): run `python -m scripts reindex --full`."
            ) from exc
        classifier = cls(
            data["model"], data["words"], data["chars"], tuple(data["labels"]),
            dict(data["groups"]), dict(data["info"]),
        )  # fmt: skip
        if list(classifier.labels) != list(expected.get("labels", classifier.labels)):
            raise IntentModelError(f"{directory / MODEL_NAME} does not match its manifest.")
        _GROUP_OF.update(classifier.groups)
        return classifier


def question_coverage(tokens: Sequence[str], stats: TermStats | None) -> float:
    """Vocabulary coverage of a question's tokens (the classifier's lexical feature)."""
    return _coverage(tokens, stats)

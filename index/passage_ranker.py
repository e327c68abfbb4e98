"""Ordering the head of a fused retrieval list with a small fitted model.

Fusion scores how much of the question a chunk shares; it cannot tell which of two chunks
that share it is the one to cite. Over the knowledge base plus real legal texts the common
case is our own guide, which summarises a law, outscoring the article of that law the
question is about; or a chunk of another document outscoring the one the question names
("theo Thông tư 46 ..."). A handful of features that say what a chunk *is* (a guide, an
article, the document the question names, one no longer in force) next to the retrieval
scores lets a logistic regression learn that preference from tuning questions instead of
hand-set bonuses. The weights are data (`knowledge/passage_ranker.json`, written by
`python -m scripts.fit_ranker`); without the file the ranker reproduces the earlier
hand-set rerank (fused score + best unit match + a province bonus).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RANKER_FILE = "passage_ranker.json"

FEATURES = (
    # Retrieval evidence.
    "fused",  # fused score / best fused score of the head
    "unit_match",  # IDF-weighted share of the question in the chunk's best unit
    "unit_cosine_gap",  # best unit cosine of the chunk minus the head's best
    "heading_match",  # IDF-weighted share of the question in the chunk's innermost heading
    "dense_gap",  # cosine minus the best cosine of the pool (the pool's worst when absent)
    "bm25",  # BM25 score / best BM25 score of the pool (0 when absent)
    "english_dense_gap",  # dense_gap for an English question (BM25 sees glossary terms only)
    # The same for other evidence: an English question reaches Vietnamese passages through
    # its glossary terms, so each kind of evidence may deserve another weight (issue 8).
    "english_fused",  # fused, for an English question (0 otherwise)
    "english_unit_match",  # unit_match of the glossary terms, for an English question
    "english_unit_cosine_gap",  # unit_cosine_gap, for an English question
    "english_bm25",  # bm25, for an English question
    "english_heading_match",  # heading_match, for an English question
    "english_article",  # article, for an English question
    "english_news",  # news, for an English question
    # What the chunk is.
    "guide",  # one of our own guides (doc_type guide)
    "article",  # the chunk sits in an article (path holds "Điều N")
    "news",  # a news item
    "not_in_force",  # its document is superseded or expired
    # How it relates to the question and the other candidates.
    "named",  # the question names this chunk's document by number
    "names_other",  # the question names a document, and not this one (nor a guide on it)
    "guide_on_named",  # a guide based on the document the question names
    "province",  # the question names the document's province
    # No "type_other" (a type named, and another): within one question it is 1 - type_named
    # whenever a type is named, so the ranking difference it adds is type_named's, negated.
    "type_named",  # the question names this chunk's document type ("theo thông tư …")
    "guide_law_in_head",  # a guide whose based_on law also has a chunk in the head
    "law_guide_in_head",  # a law chunk summarised by a guide that is also in the head
)

#: The hand-set rerank this model replaces: fused score + 1.0 x unit match + 0.5 when the
#: question names the document's province (its values, measured on the dev set before).
DEFAULT_WEIGHTS = {"fused": 1.0, "unit_match": 1.0, "province": 0.5}

#: English interaction features: each copies a base feature for an English question.
ENGLISH_COPIES = {
    "english_dense_gap": "dense_gap",
    "english_fused": "fused",
    "english_unit_match": "unit_match",
    "english_unit_cosine_gap": "unit_cosine_gap",
    "english_bm25": "bm25",
    "english_heading_match": "heading_match",
    "english_article": "article",
    "english_news": "news",
}


@dataclass(frozen=True, slots=True)
class PassageRanker:
    """Linear weights over `FEATURES`; a higher score ranks first."""

    weights: dict[str, float]
    bias: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def scores(self, features: np.ndarray) -> np.ndarray:
        """The ranking score of each row of a (n, len(FEATURES)) matrix."""
        w = np.asarray([self.weights.get(name, 0.0) for name in FEATURES], dtype=np.float64)
        return np.asarray(features, dtype=np.float64).reshape(-1, len(FEATURES)) @ w + self.bias

    @property
    def used(self) -> frozenset[str]:
        """The features with a non-zero weight (the others need not be computed)."""
        return frozenset(name for name in FEATURES if self.weights.get(name, 0.0))

    @property
    def fitted(self) -> bool:
        """Whether the weights come from a fit (not the hand-set default)."""
        return bool(self.info.get("fitted"))

    def save(self, path: Path) -> None:
        """Writes the weights as readable JSON."""
        data = {"features": list(FEATURES), "weights": self.weights, "bias": self.bias, **self.info}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> PassageRanker:
        """Reads weights written by `save`; an absent file gives the hand-set default."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default_ranker()
        weights = {str(k): float(v) for k, v in data.get("weights", {}).items()}
        info = {k: v for k, v in data.items() if k not in ("features", "weights", "bias")}
        return cls(weights, float(data.get("bias", 0.0)), info)


def default_ranker() -> PassageRanker:
    """The earlier hand-set rerank, used until weights are fitted."""
    return PassageRanker(dict(DEFAULT_WEIGHTS), 0.0, {"fitted": False})


def with_english_copies(
    values: Mapping[str, float], copies: Mapping[str, str], *, english: bool
) -> dict[str, float]:
    """The feature values plus their English copies (name -> base feature), 0 unless English.

    An English question is searched through its glossary terms and a cross-lingual
    embedding, so how much each kind of evidence says about the answer differs from a
    Vietnamese question's; the copies let a fit weigh it separately (issue 8). The passage
    ranker (`ENGLISH_COPIES`) and the unit scorer (`index.unit_scorer.ENGLISH_COPIES`) both
    use it.
    """
    return {**values, **{name: values[base] if english else 0.0 for name, base in copies.items()}}


def feature_row(values: dict[str, float]) -> np.ndarray:
    """One feature row in `FEATURES` order (missing names are 0)."""
    return np.asarray([float(values.get(name, 0.0)) for name in FEATURES], dtype=np.float64)


def order(scores: Sequence[float]) -> list[int]:
    """Indices by descending score; ties keep the fused order (stable sort)."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])

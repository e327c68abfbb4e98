"""The fitted "value unknown" decision: a logistic regression over what the best units state.

A value question (a level, cap, count, date) is answered "not confirmed" when P(unknown) of
the features of its best units reaches the threshold. Weights, threshold and the
cross-validated operating point they were chosen at live in `knowledge/unknown_model.json`,
written by `python -m scripts.fit_unknowns` (its command is stored in the file).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.intents import IntentPrediction
from index.lexicon import Lexicon
from index.question import Query
from index.unit_scorer import Candidate
from index.unknowns import (
    MAX_UNITS,
    current_for,
    distinct,
    is_about,
    tiers,
    wanted_keys,
    years_of,
)
from index.value_mentions import has_amount, has_value

#: The model's file in the knowledge directory.
UNKNOWN_FILE = "unknown_model.json"
#: The file shipped with the code: answers built without a knowledge directory use it.
SHIPPED = Path(__file__).resolve().parents[1] / "knowledge" / UNKNOWN_FILE

#: What `unknown_features` computes (see there); the fit weighs a subset of them (the others
#: get weight 0, see knowledge/unknown_model.json). Backward elimination on held-out log-loss
#: (`scripts.fit_unknowns --select backward`) dropped the other features the hand rules used:
#: the "chưa tìm được" line about the item, a unit about the item alone stating an amount, the
#: year asked and units about it, a document not in force (first fit, 517 tuning rows:
#: held-out log-loss 0.269 with these 11 features, 0.29 with all 23). `province_level` and
#: `joint_level` (an amount, weighed by P(level)) were added for the legal corpus, whose partial
#: texts' dated headers are values but no level: 547 rows, held-out log-loss 0.307 → 0.289.
FEATURES = (
    "asks_level",
    "item_unknown",
    "province_asked",
    "province_value",
    "province_level",
    "doc_asked",
    "doc_amount",
    "doc_partial",
    "joint_value",
    "joint_level",
    "top_amount",
    "top_value",
    "top_score",
    "tier_asked",
    "tier_value",
    "tier_other",
    "year_asked",
    "year_unstated",
    "news_level",
)

#: The features the fit weighs (`scripts.fit_unknowns --select fixed`, the default): the set
#: backward elimination chose on 2026-12-03 (547 tuning rows, held-out log-loss 0.289, legal
#: held-out unknown_honesty 0.625 → 0.688), and `tier_other` (the best unit stating a value
#: names only other tiers than the one asked: "cấp vùng và cấp quốc gia" for "cấp huyện"):
#: 567 rows with tuning_legal_unknowns2.jsonl, held-out log-loss 0.291 → 0.234, cost 73 → 50;
#: `tier_asked` alone reached 0.266, both 0.237, `tier_value` 0.283. Fixed, so that a refit
#: on a changed tree moves weights, not the set: the elimination rerun on the merged tree
#: kept 7 of the 9 and measured worse (legal_dev answer_hit 0.815 → 0.778).
#: `year_unstated` and `news_level` are computed but not weighed: with them, 602 rows (with
#: tuning_legal_unknowns3.jsonl), held-out log-loss 0.238 → 0.226, cost 60 → 54, but legal
#: held-out unknown_honesty 0.750 → 0.625 (2026-12-04).
FIT_FEATURES = (
    "asks_level",
    "item_unknown",
    "province_asked",
    "province_value",
    "province_level",
    "doc_asked",
    "doc_amount",
    "joint_level",
    "top_score",
    "tier_other",
)


@dataclass(slots=True)
class UnknownModel:
    """Logistic regression weights over `FEATURES`, and the decision threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    info: dict[str, Any] = field(default_factory=dict)

    def probability(self, features: Mapping[str, float]) -> float:
        """P(the value asked is not in the documents)."""
        z = self.bias + sum(w * float(features.get(name, 0.0)) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def unknown(self, features: Mapping[str, float]) -> bool:
        """Whether the answer says the value is not confirmed."""
        return self.probability(features) >= self.threshold

    def save(self, path: Path) -> None:
        """Writes the weights as readable JSON."""
        data = {
            "features": list(FEATURES),
            "weights": self.weights,
            "bias": self.bias,
            "threshold": self.threshold,
            **self.info,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> UnknownModel:
        """Reads a model written by `save`; an absent file gives the shipped one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if path.resolve() == SHIPPED:
                raise
            return shipped_model()
        weights = {str(k): float(v) for k, v in data.get("weights", {}).items() if k in FEATURES}
        skip = {"features", "weights", "bias", "threshold"}
        info = {k: v for k, v in data.items() if k not in skip}
        return cls(weights, float(data.get("bias", 0.0)), float(data.get("threshold", 0.5)), info)


def shipped_model() -> UnknownModel:
    """The model in the repository's knowledge directory."""
    return UnknownModel.load(SHIPPED)


def value_unknown(
    query: Query, ranked: Sequence[Candidate], prediction: IntentPrediction, lexicon: Lexicon,
    model: UnknownModel,
) -> bool:
    """Tells whether the value asked for is not in the documents: the fitted decision."""
    if not any(c.unit.kind != "list" for c in ranked):
        return True
    return model.unknown(unknown_features(query, ranked, prediction, lexicon))


def unknown_features(
    query: Query, ranked: Sequence[Candidate], prediction: IntentPrediction, lexicon: Lexicon
) -> dict[str, float]:
    """What the fitted decision weighs (`index.unknown_model.FEATURES`).

    Whether criteria.yaml marks the item asked as not found; whether a unit about the
    province (document) asked, or about all of item, province and document, states a value
    (an amount) from a document in force or the one asked, and the amount weighed by P(a level
    is asked); the best unit's figures and score.
    """
    features = dict.fromkeys(FEATURES, 0.0)
    features["asks_level"] = prediction.asks_level
    singles = distinct([c for c in ranked if c.unit.kind != "list"])[: MAX_UNITS * 3]
    if not singles:
        return features
    top = singles[0]
    features["top_amount"] = float(has_amount(top.unit.embed_text))
    features["top_value"] = float(has_value(top.unit.embed_text))
    features["top_score"] = float(top.score)
    item = query.entities.first("item")
    features["item_unknown"] = float(item is not None and item.key in lexicon.unknown_items)
    # A province's (a document's) own figure is stated by a unit about it: the national
    # maximum is not that province's level, nor another document's cap the one of "theo Nghị
    # quyết 23/2025 …".
    if wanted_keys(query, "province"):
        local = [c for c in singles if is_about(c, query, "province")]
        features["province_asked"] = 1.0
        features["province_value"] = float(_states(local, query, has_value))
        # A partial legal text's own lines state dates and numbers ("Số: 23/2025/NQ-HĐND …,
        # ngày 28 tháng 10 năm 2025", "hiệu lực sau 10 ngày"), which answer no level asked:
        # P(a level is asked) times "a unit about it states an amount".
        features["province_level"] = prediction.asks_level * _states(local, query, has_amount)
    if wanted_keys(query, "doc"):
        local = [c for c in singles if is_about(c, query, "doc")]
        features["doc_asked"] = 1.0
        features["doc_amount"] = float(_states(local, query, has_amount))
        # The corpus banner of a source that was cut ("PARTIAL TEXT — only the beginning …").
        features["doc_partial"] = float(any("PARTIAL TEXT" in c.passage.chunk.text for c in local))
    # A tier asked ("cấp huyện") and a unit naming it that states a value: the caps of
    # "cấp khu vực" and "cấp quốc gia" answer no question about "cấp huyện".
    stating = [c for c in singles[:MAX_UNITS] if has_value(c.unit.embed_text)]
    asked = tiers(query.lexical_text)
    if asked:
        features["tier_asked"] = 1.0
        local = [c for c in singles if tiers(c.unit.embed_text) & asked]
        features["tier_value"] = float(_states(local, query, has_value))
        # The best unit stating a value names other tiers only ("cấp vùng và cấp quốc gia").
        named = tiers(stating[0].unit.embed_text) if stating else frozenset()
        features["tier_other"] = float(bool(named) and not named & asked)
    # The best unit stating a value: is it of the year asked, or of no stated year at all
    # (a news total whose date the text never gives)? And is it a news item's figure, read as
    # the level asked (a province's total spending is no support level)?
    years = wanted_keys(query, "year")
    if years:
        features["year_asked"] = 1.0
        features["year_unstated"] = float(bool(stating) and not years_of(stating[0]) & years)
    if stating:
        news = stating[0].passage.doc.doc_type == "news"
        features["news_level"] = prediction.asks_level * float(news)
    kinds = [k for k in ("item", "province", "doc") if wanted_keys(query, k)]
    joint = [c for c in singles if all(is_about(c, query, k) for k in kinds)]
    features["joint_value"] = float(_states(joint, query, has_value))
    features["joint_level"] = prediction.asks_level * _states(joint, query, has_amount)
    return features


def _states(units: Sequence[Candidate], query: Query, test: Callable[[str], bool]) -> bool:
    return any(test(c.unit.embed_text) and current_for(c, query) for c in units)

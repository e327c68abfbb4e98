"""Honest unknowns: does a selected unit give the value asked, for the item asked?

A question may ask for a value (a level, cap, percentage, count, date) of one support item,
province, year or document. Whether the documents give it is decided by a fitted logistic
regression (`index.unknown_model`) over what this module finds about the best units: the
knowledge base's own "chưa tìm được" line about the item, units about that item, province,
year or document that state a figure. Then the answer says so first, shows what is known,
and never another item's, place's or year's figure (`index.answering` words nothing: the
adapters render the outcome).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.intents import IntentPrediction
from index.lexicon import Lexicon
from index.question import Query
from index.schema import NOT_IN_FORCE
from index.textnorm import legal_number_tokens
from index.unit_scorer import Candidate, has_amount, has_value
from index.unknown_model import FEATURES, UnknownModel, shipped_model

#: The banner of a corpus source that was cut (see /work/shared/corpus/README.md).
PARTIAL_BANNER = "PARTIAL TEXT"
#: Units in one answer (shown by `index.answering`, and weighed here).
MAX_UNITS = 3


def _names(candidate: Candidate, kind: str) -> frozenset[str]:
    """What a unit is about, of one kind: its own names, and its document's for provinces."""
    keys = candidate.entities.keys(kind)
    if kind == "year":
        # A figure's year is often in its heading ("Đồng Tháp: kết quả 2016–2020").
        keys = keys | candidate.context.keys(kind)
    if kind == "province":
        keys = keys | candidate.entities.parents() | candidate.context.keys(kind)
        keys = keys | candidate.context.parents()
    return keys


def _wanted(query: Query, kind: str) -> frozenset[str]:
    keys = query.entities.keys(kind)
    return keys | query.entities.parents() if kind == "province" and keys else keys


def _about(candidate: Candidate, query: Query, kind: str) -> bool:
    names = _names(candidate, kind)
    if kind == "doc":
        # Of the document named by number, or naming it ("theo Nghị quyết 23/2025 …").
        names = names | candidate.context.keys(kind) | _number_keys(candidate)
    return bool(names & _wanted(query, kind))


def _number_keys(candidate: Candidate) -> frozenset[str]:
    return frozenset(legal_number_tokens(candidate.passage.doc.number or ""))


def conflicts(candidate: Candidate, query: Query) -> bool:
    """The unit names another province, support item or year than the one asked, and not it."""
    for kind in ("province", "item", "year"):
        wanted = _wanted(query, kind)
        named = _names(candidate, kind)
        if wanted and named and not named & wanted:
            return True
    return False


def _marked(candidate: Candidate, lexicon: Lexicon) -> bool:
    # A whole list mixes items: only a sentence or an item can say its value is not found.
    return candidate.unit.kind != "list" and lexicon.says_not_found(candidate.unit.embed_text)


def _current_for(candidate: Candidate, query: Query) -> bool:
    """A figure counts as the answer when its document is in force, or is the one asked."""
    if candidate.passage.doc.status not in NOT_IN_FORCE:
        return True
    return bool(_number_keys(candidate) & _wanted(query, "doc"))


def _distinct(ranked: Sequence[Candidate]) -> list[Candidate]:
    # An item and its own sentences are one piece of evidence: counted once, the units
    # weighed below reach as far down the ranking as they did before items were kept whole.
    kept: list[Candidate] = []
    for candidate in ranked:
        if not any(k.unit.repeats(candidate.unit) for k in kept):
            kept.append(candidate)
    return kept


def unknown_features(
    query: Query, ranked: Sequence[Candidate], prediction: IntentPrediction, lexicon: Lexicon
) -> dict[str, float]:
    """What the fitted decision (`index.unknown_model.FEATURES`) weighs about the best units.

    Whether the item asked is one criteria.yaml marks as not found; whether a province or a
    document was asked, and a unit about it states a value (an amount); whether one unit about
    every item, province and document asked states a value; the best unit's figures, score
    and partial text; and the intent classifier's P(level). Figures count from documents in
    force, or from the one asked.
    """
    features = dict.fromkeys(FEATURES, 0.0)
    features["asks_level"] = prediction.asks_level
    singles = _distinct([c for c in ranked if c.unit.kind != "list"])[: MAX_UNITS * 3]
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
    if _wanted(query, "province"):
        local = [c for c in singles if _about(c, query, "province")]
        features["province_asked"] = 1.0
        features["province_value"] = float(_states(local, query, has_value))
    if _wanted(query, "doc"):
        local = [c for c in singles if _about(c, query, "doc")]
        features["doc_asked"] = 1.0
        features["doc_amount"] = float(_states(local, query, has_amount))
        # The corpus banner of a source that was cut ("PARTIAL TEXT — only the beginning …").
        features["doc_partial"] = float(any(PARTIAL_BANNER in c.passage.chunk.text for c in local))
    kinds = [k for k in ("item", "province", "doc") if _wanted(query, k)]
    joint = [c for c in singles if all(_about(c, query, k) for k in kinds)]
    features["joint_value"] = float(_states(joint, query, has_value))
    return features


def _states(units: Sequence[Candidate], query: Query, test: Callable[[str], bool]) -> bool:
    return any(test(c.unit.embed_text) and _current_for(c, query) for c in units)


def value_unknown(
    query: Query,
    ranked: Sequence[Candidate],
    prediction: IntentPrediction,
    lexicon: Lexicon,
    model: UnknownModel | None = None,
) -> bool:
    """Tells whether the value asked for is not in the documents for the item asked.

    The fitted decision over `unknown_features` (the shipped model when `model` is None).
    """
    singles = [c for c in ranked if c.unit.kind != "list"]
    if not singles:
        return True
    decide = model if model is not None else shipped_model()
    return decide.unknown(unknown_features(query, ranked, prediction, lexicon))


def known_units(query: Query, ranked: Sequence[Candidate], lexicon: Lexicon) -> list[Candidate]:
    """What is known about the item asked: its own units, the not-found line first.

    A figure from a document no longer in force is left out unless that document was asked
    about: shown as "what is known", it would read as the answer.
    """
    singles = [
        c
        for c in ranked
        if c.unit.kind != "list" and (_current_for(c, query) or not has_amount(c.unit.embed_text))
    ]
    if query.entities.first("item") is not None:
        about = [c for c in singles if _about(c, query, "item") and len(_names(c, "item")) == 1]
    elif query.entities.first("province") is not None:
        # About the province, then general guidance that states no figure.
        about = [c for c in singles if _about(c, query, "province")]
        about += [c for c in singles if c not in about and not has_amount(c.unit.embed_text)]
    else:
        about = [c for c in singles if _marked(c, lexicon)]
    for kind in ("province", "year", "doc"):
        if _wanted(query, kind):
            # A figure of another place, time or document (the national cap, the 2016-2020 result)
            # shown under "what is known" would still read as the answer.
            about = [c for c in about if _about(c, query, kind) or not has_value(c.unit.embed_text)]
    about.sort(key=lambda c: not _marked(c, lexicon))
    return about[:MAX_UNITS]

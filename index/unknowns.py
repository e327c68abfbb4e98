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

    The item asked and whether its best unit is the knowledge base saying the value was not
    found (criteria.yaml, "chưa tìm được"); whether a unit about that item alone, or about the
    province, year or document asked, states an amount or a value from a document in force;
    the best unit's own figures, score and status; and the intent classifier's P(level).
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
    features["top_not_in_force"] = float(top.passage.doc.status in NOT_IN_FORCE)
    features["top_partial"] = float(_partial(top))
    item = query.entities.first("item")
    about = [c for c in singles if item is None or _about(c, query, "item")]
    # The knowledge base's own line about this item (or, no item named, the best unit).
    marked = bool(about) and _marked(about[0], lexicon) and (item is not None or about[0] is top)
    features["marked"] = float(marked)
    if item is not None:
        features["item_named"] = 1.0
        features["item_unknown"] = float(item.key in lexicon.unknown_items)
        # Only a unit about this item alone states its level.
        alone = [c for c in about if len(_names(c, "item")) == 1 and not _marked(c, lexicon)]
        features["item_amount"] = float(_states(alone, query, has_amount))
    for kind in ("province", "year", "doc"):
        if query.entities.first(kind) is None and not (kind != "province" and _wanted(query, kind)):
            continue
        # A province's (or a year's, a document's) own figure is stated by a unit about it;
        # the national maximum is not that province's level, nor a 2016-2020 result the 2021
        # one, nor another document's cap the one of "theo Nghị quyết 23/2025 …". Figures
        # rarely repeat their year: any unit left by `conflicts` is about the year asked.
        local = singles if kind == "year" else [c for c in singles if _about(c, query, kind)]
        features[f"{kind}_asked"] = 1.0
        features[f"{kind}_amount"] = float(_states(local, query, has_amount))
        features[f"{kind}_value"] = float(_states(local, query, has_value))
        if kind == "doc":
            features["doc_partial"] = float(any(_partial(c) for c in local))
        if kind == "year":
            named = [c for c in singles if _about(c, query, kind)]
            features["year_named_value"] = float(_states(named, query, has_value))
    # One unit about every item, province and document asked at once, stating a figure.
    kinds = [k for k in ("item", "province", "doc") if _wanted(query, k)]
    joint = [c for c in singles if all(_about(c, query, k) for k in kinds)]
    features["joint_amount"] = float(_states(joint, query, has_amount))
    features["joint_value"] = float(_states(joint, query, has_value))
    return features


def _states(units: Sequence[Candidate], query: Query, test: Callable[[str], bool]) -> bool:
    return any(test(c.unit.embed_text) and _current_for(c, query) for c in units)


def _partial(candidate: Candidate) -> bool:
    # The corpus banner of a source that was cut ("PARTIAL TEXT — only the beginning …").
    return PARTIAL_BANNER in candidate.passage.chunk.text


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

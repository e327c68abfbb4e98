"""Honest unknowns: does a selected unit give the value asked, for the item asked?

A question may ask for a value (a level, cap, percentage, count, date) of one support item,
province or year. It is unknown when the knowledge base's own line about that item says the
value was not found (criteria.yaml, "chưa tìm được"), or when no unit about that item,
province or year states one. Then the answer says so first, shows what is known about that
item, and never another item's, place's or year's figure (`index.answering` words nothing:
the adapters render the outcome).
"""

from __future__ import annotations

from collections.abc import Sequence

from index.intents import IntentPrediction
from index.lexicon import Lexicon
from index.question import Query
from index.schema import NOT_IN_FORCE
from index.textnorm import legal_number_tokens
from index.unit_scorer import Candidate, has_amount, has_value

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


def value_unknown(
    query: Query, ranked: Sequence[Candidate], prediction: IntentPrediction, lexicon: Lexicon
) -> bool:
    """Tells whether the value asked for is not in the documents for the item asked.

    It is when the best unit about the item (or, with no item named, the best unit) is the
    knowledge base saying the value was not found; or when the question asks for the level of
    an item that criteria.yaml marks as not found and no unit about that item states an
    amount.
    """
    singles = _distinct([c for c in ranked if c.unit.kind != "list"])[: MAX_UNITS * 3]
    if not singles:
        return True
    item = query.entities.first("item")
    about = [c for c in singles if item is None or _about(c, query, "item")]
    if about and _marked(about[0], lexicon) and (item is not None or about[0] is singles[0]):
        # The knowledge base's own line about this item says the value was not found.
        return True
    if item is not None and item.key in lexicon.unknown_items and prediction.asks_level >= 0.5:
        # Only a unit about this item alone can state its level.
        alone = [c for c in about if len(_names(c, "item")) == 1 and not _marked(c, lexicon)]
        return not any(has_amount(c.unit.embed_text) and _current_for(c, query) for c in alone)
    for kind in ("province", "year", "doc"):
        if query.entities.first(kind) is None and not (kind != "province" and _wanted(query, kind)):
            continue
        # A province's (or a year's) own figure is stated by a unit about that province or
        # year (or in its documents); the national maximum is not that province's level,
        # nor a 2016-2020 result the 2021 one.
        # Figures rarely repeat their year: a unit is about the year asked unless it (or
        # its document) names only others, and those were filtered out by `conflicts`.
        # Likewise "theo Nghị quyết 23/2025 …, tối đa bao nhiêu?" asks that document's figure,
        # not another document's cap.
        local = singles if kind == "year" else [c for c in singles if _about(c, query, kind)]
        if prediction.asks_level >= 0.5:
            stated = [c for c in local if has_amount(c.unit.embed_text)]
        else:
            stated = [c for c in local if has_value(c.unit.embed_text)]
        if not any(_current_for(c, query) for c in stated):
            return True
    return False


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

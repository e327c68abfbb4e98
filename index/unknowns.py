"""Honest unknowns: does a selected unit give the value asked, for the item asked?

A question may ask for a value (a level, cap, percentage, count, date) of one support item,
province, year or document. A fitted logistic regression (`index.unknown_model`) over what
units are about decides whether the documents give it. If not, the
answer says so first, shows what is known, and never another item's, place's or year's
figure (`index.answering` words nothing: the adapters render the outcome).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from index.lexicon import Lexicon
from index.question import Query
from index.schema import NOT_IN_FORCE, Chunk, DocumentMeta
from index.textnorm import fold_words, legal_number_tokens
from index.unit_scorer import Candidate
from index.value_mentions import has_amount, has_value

#: Units in one answer (shown by `index.answering`, and weighed here).
MAX_UNITS = 3
#: The banner the corpus puts at the start of a text it has only the beginning of
#: (`complete: false` with the body cut; /work/shared/corpus/README.md).
PARTIAL_BANNER = "PARTIAL TEXT"


#: The administrative tiers a support level is set for ("bình chọn cấp khu vực", "hiệp hội
#: cấp vùng"): a figure of one tier is not the answer for another.
_TIER = re.compile(r"\bcap (xa|huyen|tinh|khu vuc|vung|quoc gia)\b")


def tiers(text: str) -> frozenset[str]:
    """The tiers a text names ("cấp huyện" → "huyen"), accents folded."""
    return frozenset(m.group(1) for m in _TIER.finditer(fold_words(text)))


def _of_tier(candidate: Candidate, asked: frozenset[str]) -> bool:
    named = tiers(candidate.unit.embed_text)
    return not named or bool(named & asked)


def partial_documents(
    chunks: Iterable[Chunk], docs: Iterable[DocumentMeta] = ()
) -> frozenset[str]:
    """The ids of the documents only partly in the library: `complete: false` in their
    metadata (the same flag the citation notice reads), or the partial-text banner in a text
    imported without metadata."""
    flagged = {doc.doc_id for doc in docs if not doc.complete}
    return frozenset(flagged | {c.doc_id for c in chunks if PARTIAL_BANNER in c.text[:200]})


def partial_asked(query: Query, ranked: Sequence[Candidate], partial: frozenset[str]) -> bool:
    """A document the question names (or, naming none, one of the province asked) is partial."""
    for kind in ("doc", "province"):
        if wanted_keys(query, kind):
            near = distinct(ranked)[: MAX_UNITS * 3]  # the units the decision weighed
            return any(c.passage.doc.doc_id in partial and is_about(c, query, kind) for c in near)
    return False


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


def years_of(candidate: Candidate) -> frozenset[str]:
    """The years a unit is about: named by it or its headings, or its document's issue year."""
    issued = (candidate.passage.doc.issued or "")[:4]
    return _names(candidate, "year") | ({issued} if issued.isdigit() else set())


def wanted_keys(query: Query, kind: str) -> frozenset[str]:
    """What the question asks about, of one kind (a province with its parents)."""
    keys = query.entities.keys(kind)
    return keys | query.entities.parents() if kind == "province" and keys else keys


def is_about(candidate: Candidate, query: Query, kind: str) -> bool:
    """The unit (or its document) names what the question asks about, of one kind."""
    names = _names(candidate, kind)
    if kind == "doc":
        # Of the document named by number, or naming it ("theo Nghị quyết 23/2025 …").
        names = names | candidate.context.keys(kind) | _number_keys(candidate)
    return bool(names & wanted_keys(query, kind))


def _number_keys(candidate: Candidate) -> frozenset[str]:
    return frozenset(legal_number_tokens(candidate.passage.doc.number or ""))


def conflicts(candidate: Candidate, query: Query) -> bool:
    """The unit names another province, support item or year than the one asked, and not it."""
    for kind in ("province", "item", "year"):
        wanted = wanted_keys(query, kind)
        named = _names(candidate, kind)
        if wanted and named and not named & wanted:
            return True
    return False


def _marked(candidate: Candidate, lexicon: Lexicon) -> bool:
    # A whole list mixes items: only a sentence or an item can say its value is not found.
    return candidate.unit.kind != "list" and lexicon.says_not_found(candidate.unit.embed_text)


def current_for(candidate: Candidate, query: Query) -> bool:
    """A figure counts as the answer when its document is in force, or is the one asked."""
    if candidate.passage.doc.status not in NOT_IN_FORCE:
        return True
    return bool(_number_keys(candidate) & wanted_keys(query, "doc"))


def distinct(ranked: Sequence[Candidate]) -> list[Candidate]:
    """The units, an item and its own sentences counted once (one piece of evidence)."""
    # Counted once, the units weighed reach as far down the ranking as they did before
    # items were kept whole.
    kept: list[Candidate] = []
    for candidate in ranked:
        if not any(k.unit.repeats(candidate.unit) for k in kept):
            kept.append(candidate)
    return kept


def known_units(query: Query, ranked: Sequence[Candidate], lexicon: Lexicon) -> list[Candidate]:
    """What is known about the item asked: its own units, the not-found line first.

    A figure from a document no longer in force is left out unless that document was asked
    about: shown as "what is known", it would read as the answer.
    """
    singles = [
        c
        for c in ranked
        if c.unit.kind != "list" and (current_for(c, query) or not has_amount(c.unit.embed_text))
    ]
    if query.entities.first("item") is not None:
        about = [c for c in singles if is_about(c, query, "item") and len(_names(c, "item")) == 1]
    elif query.entities.first("province") is not None:
        # About the province, then general guidance that states no figure.
        about = [c for c in singles if is_about(c, query, "province")]
        about += [c for c in singles if c not in about and not has_amount(c.unit.embed_text)]
    else:
        about = [c for c in singles if _marked(c, lexicon)]
    for kind in ("province", "year", "doc"):
        if wanted_keys(query, kind):
            # A figure of another place, time or document (the national cap, the 2016-2020 result)
            # shown under "what is known" would still read as the answer.
            about = [c for c in about if is_about(c, query, kind) or not has_value(c.unit.embed_text)]
    asked = tiers(query.lexical_text)
    if asked:
        # Nor the figure of another tier ("cấp vùng" for a question about "cấp huyện").
        about = [c for c in about if _of_tier(c, asked) or not has_value(c.unit.embed_text)]
    about.sort(key=lambda c: not _marked(c, lexicon))
    return about[:MAX_UNITS]

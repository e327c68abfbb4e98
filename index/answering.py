"""Deciding what to do with a question and building the answer: answered, unknown, refused or
routed to an action.

The decision reads two measured models: the intent classifier (`index.intents`, calibrated
probabilities of in-scope / out-of-scope / action) and the unit scorer (`index.unit_scorer`,
the probability that a unit of the top passages answers the question). The answer is
extractive: every unit shown is copied from a retrieved passage, so the bot never states a
fact that is not in the knowledge base. The core returns outcome codes; `bot/texts/` words
refusals, unknowns and actions for every adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.accents import AccentRestorer
from index.intents import ACTIONS, IntentClassifier, IntentPrediction
from index.legal import article_label
from index.lexicon import Entities, Lexicon, TermStats
from index.lifecycle import with_basis
from index.question import Query
from index.schema import Answer, Citation, DocumentMeta, Passage
from index.unit_entities import entity_text
from index.unit_scorer import (
    CANDIDATE_PASSAGES,
    Candidate,
    UnitFacts,
    UnitScorer,
    candidates,
    context_of,
    unit_facts,
)
from index.units import AnswerUnit, UnitStore
from index.unknown_model import UnknownModel, shipped_model, value_unknown
from index.unknowns import MAX_UNITS, conflicts, known_units, partial_asked

#: Upper bound of the answer body, in characters: about what a phone shows without scrolling
#: (the old selector's budget; answer_chars_p50 of the dev set is well below it).
MAX_ANSWER_CHARS = 700


@dataclass(frozen=True, slots=True)
class Selection:
    """How units are picked; fitted with the scorer (see `scripts.fit_scorer`)."""

    #: Weight of relevance against redundancy in maximal marginal relevance.
    mmr_lambda: float = 0.7
    #: A question whose best unit scores below this is refused as "no_match".
    answer_floor: float = 0.05
    #: Further units are shown while they score at least this share of the best one.
    relative_floor: float = 0.5

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Selection:
        """Reads the fitted values stored beside the scorer weights."""
        fitted = info.get("selection") or {}
        return cls(**{k: float(v) for k, v in fitted.items() if k in cls.__dataclass_fields__})


@dataclass
class AnswerModels:
    """What the answer layer needs besides the retrieved passages; one per index version."""

    units: UnitStore
    stats: TermStats
    lexicon: Lexicon
    scorer: UnitScorer
    classifier: IntentClassifier | None
    selection: Selection = field(default_factory=Selection)
    #: The fitted "value unknown" decision (`knowledge/unknown_model.json`).
    unknown: UnknownModel = field(default_factory=shipped_model)
    #: The documents only partly in the index (`index.unknowns.partial_documents`).
    partial_docs: frozenset[str] = frozenset()
    #: Guesses the diacritics of unaccented questions (pyvi's ViDiac when None).
    restorer: AccentRestorer | None = None
    #: The units' entities saved with the index (`index.unit_entities`), by row; empty for
    #: an index without them, which are then found here.
    saved_entities: Sequence[Entities] = ()
    _contexts: dict[int, tuple[frozenset[str], Entities]] = field(default_factory=dict)
    _entities: dict[int, Entities] = field(default_factory=dict)
    _facts: dict[int, UnitFacts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every unit's facts and entities up front (about 0.4 ms a unit): found lazily, the
        # first questions over each passage paid for them, and made the slowest 5% of
        # answers (the p95 the benchmark compares with one query embedding).
        self._entities.update(enumerate(self.saved_entities))
        for row in range(len(self.units)):
            self.unit_facts(row)
            self.unit_entities(row)

    def unit_facts(self, row: int) -> UnitFacts:
        """Question-independent facts of one unit, computed once per index version."""
        found = self._facts.get(row)
        if found is None:
            found = unit_facts(self.units.units[row], self.stats, self.lexicon)
            self._facts[row] = found
        return found

    def unit_entities(self, row: int) -> Entities:
        """Entities named by one unit, found once per index version."""
        found = self._entities.get(row)
        if found is None:
            found = self.lexicon.find(entity_text(self.units.units[row]))
            self._entities[row] = found
        return found

    def contexts(self, passages: Sequence[Passage]) -> dict[int, tuple[frozenset[str], Entities]]:
        """Context tokens and entities of each passage, computed once per chunk."""
        for passage in passages:
            cid = passage.chunk.chunk_id
            if cid not in self._contexts:
                self._contexts[cid] = context_of(passage, self.lexicon)
        return self._contexts


def document_citation(doc: DocumentMeta, *, article: str | None = None) -> Citation:
    """The citation of a document (and optionally one of its articles), with its status."""
    return Citation(
        title=doc.title,
        number=doc.number,
        issued=doc.issued,
        url=doc.url,
        doc_id=doc.doc_id,
        article=article,
        doc_type=doc.doc_type,
        status=doc.status,
        amended_by=doc.amended_by,
        superseded_by=doc.superseded_by,
        expired_on=doc.expired_on,
        complete=doc.complete,
    )


def citation_for(passage: Passage) -> Citation:
    """The citation shown for a passage: its article ("Điều 5 khoản 1"), document and status."""
    return document_citation(passage.doc, article=article_label(passage.chunk.path))


def refusal(question: str, reason: str) -> Answer:
    """The answer for a question that cannot be searched ("empty" or "too_long")."""
    return Answer(question=question, text="", confident=False, reason=reason, outcome="invalid")


def _render_unit(unit: AnswerUnit, budget: int) -> str:
    """A unit as shown: a list whole, or cut with "…" at an item boundary."""
    if unit.kind != "list":
        return f"{unit.label}\n- {unit.text}" if unit.label else unit.text
    lines = [unit.text] if unit.text else []
    used = len(unit.text)
    for number, item in enumerate(unit.items):
        if number and used + len(item) + 3 > budget:
            lines.append("…")
            break
        lines.append(f"- {item}")
        used += len(item) + 3
    return "\n".join(lines)


def _similarity(models: AnswerModels, left: int, right: int) -> float:
    return float(models.units.vectors[left] @ models.units.vectors[right])


def _covers(chosen: AnswerUnit, other: AnswerUnit) -> bool:
    # A whole list already shows its items, and an item's list would repeat it; two items
    # of one list are different answers (the cap for one machine, the cap for a line).
    listed = chosen.same_list(other) and "list" in (chosen.kind, other.kind)
    return listed or chosen.repeats(other)


def select_units(models: AnswerModels, ranked: Sequence[Candidate]) -> list[Candidate]:
    """Picks the units to show, best first, by maximal marginal relevance.

    Args:
        models: Unit vectors and the fitted selection values.
        ranked: Scored candidates, best first.

    Returns:
        Up to `MAX_UNITS` units within `MAX_ANSWER_CHARS`.
    """
    if not ranked:
        return []
    rule = models.selection
    chosen = [ranked[0]]
    used = ranked[0].unit.display_length
    pool = [c for c in ranked[1:] if c.score >= rule.relative_floor * ranked[0].score]
    while pool and len(chosen) < MAX_UNITS:
        pool = [c for c in pool if not any(_covers(x.unit, c.unit) for x in chosen)]

        def marginal(c: Candidate) -> float:
            redundancy = max(_similarity(models, c.row, x.row) for x in chosen)
            return rule.mmr_lambda * c.score - (1.0 - rule.mmr_lambda) * redundancy

        if not pool:
            break
        best = max(pool, key=marginal)
        pool.remove(best)
        if used + best.unit.display_length > MAX_ANSWER_CHARS:
            continue
        chosen.append(best)
        used += best.unit.display_length
    return chosen


def whole_items(chosen: Sequence[Candidate], ranked: Sequence[Candidate]) -> list[Candidate]:
    """Each chosen sentence of a list item shown as its whole item, when the item is a unit.

    The sentence won on its words; the item around it says what it is about ("Nghị định
    134/2004/NĐ-CP: nghị định trước đây. Tình trạng: đã được thay thế…").
    """
    shown: list[Candidate] = []
    for candidate in chosen:
        if candidate.unit.kind == "sentence":
            candidate = next(
                (w for w in ranked if w.unit.kind == "item" and w.unit.repeats(candidate.unit)),
                candidate,
            )
        if all(candidate.row != c.row for c in shown):
            shown.append(candidate)
    return shown


def _answer_text(chosen: Sequence[Candidate]) -> str:
    budget = MAX_ANSWER_CHARS
    paragraphs = []
    for candidate in chosen:
        text = _render_unit(candidate.unit, budget)
        budget -= len(text)
        paragraphs.append(text)
    return "\n\n".join(paragraphs)


def _citations(chosen: Sequence[Candidate], retrieved: Sequence[Passage]) -> list[Citation]:
    citations: list[Citation] = []
    # A retrieved article of the law behind one of our guides is cited ahead of the guide.
    for passage in with_basis([c.passage for c in chosen], retrieved):
        citation = citation_for(passage)
        if all((c.doc_id, c.article) != (citation.doc_id, citation.article) for c in citations):
            citations.append(citation)
    return citations


def answer_first_passages(
    chosen: Sequence[Candidate], retrieved: Sequence[Passage]
) -> list[Passage]:
    """The retrieved passages with those the chosen units come from first, in answer order.

    A law cited ahead of our guide (`index.lifecycle.with_basis`) is not moved up: the text
    shown comes from the guide, and the law's best passage need not say it.
    """
    first = list({c.passage.chunk.chunk_id: c.passage for c in chosen}.values())
    seen = {p.chunk.chunk_id for p in first}
    return [*first, *(p for p in retrieved if p.chunk.chunk_id not in seen)]


def rank_units(
    query: Query,
    passages: Sequence[Passage],
    query_vector: np.ndarray | None,
    asks_value: float,
    models: AnswerModels,
    asks_list: float | None = None,
) -> list[Candidate]:
    """Scores every unit of the top passages; best first.

    Args:
        query: The analysed question.
        passages: Retrieved passages, best first.
        query_vector: The question's embedding (None in BM25-only mode).
        asks_value: Calibrated P(the question asks for a value).
        models: Units, statistics, lexicon, scorer.
        asks_list: Calibrated P(the question asks for a list); None reads it off asks_value.

    Returns:
        The candidates with `score` set, best first.
    """
    found = candidates(
        query, query_vector, passages, models.units, models.stats, models.lexicon,
        asks_value=asks_value, asks_list=asks_list, contexts=models.contexts(passages[:CANDIDATE_PASSAGES]),
        entities_of=models.unit_entities, facts_of=models.unit_facts,
    )  # fmt: skip
    if found:
        matrix = np.vstack([c.features for c in found])
        scores = models.scorer.probability(matrix)
        orders = models.scorer.probability(matrix, ordering=True)
        for candidate, score, order in zip(found, scores, orders, strict=True):
            candidate.score, candidate.order = float(score), float(order)
    return sorted(found, key=lambda c: (-c.order, c.rank, c.unit.position))


def compose_answer(
    query: Query,
    passages: Sequence[Passage],
    query_vector: np.ndarray | None,
    prediction: IntentPrediction | None,
    models: AnswerModels,
    *,
    refuse_below: float | None = None,
) -> Answer:
    """Decides the outcome of a question and builds the answer.

    Args:
        query: The analysed question.
        passages: Retrieved passages, best first.
        query_vector: The question's embedding (None in BM25-only mode).
        prediction: The intent classifier's output (None when the index has no classifier).
        models: Units, statistics, lexicon, scorer.
        refuse_below: `Settings.abstain_threshold`: refuse when P(in scope) is below it;
            None uses the classifier's most probable group.

    Returns:
        An `Answer` with `outcome` answered, unknown, refused or routed.
    """
    base: dict[str, Any] = {"question": query.text, "passages": list(passages)}
    if prediction is not None:
        groups = prediction.groups
        top_group = max(groups, key=groups.__getitem__)
        if top_group == "actions" and prediction.label in ACTIONS:
            return Answer(
                **base, text="", confident=False, outcome="routed", intent=prediction.label,
                confidence=prediction.confidence, reason="action",
            )  # fmt: skip
        refuse = (
            prediction.in_scope < refuse_below
            if refuse_below is not None
            else top_group == "out_of_scope"
        )
        if refuse:
            return Answer(
                **base, text="", confident=False, outcome="refused", intent=prediction.label,
                confidence=prediction.in_scope, reason="out_of_scope",
            )  # fmt: skip
    asks_value = prediction.asks_value if prediction is not None else 0.0
    asks_list = prediction.asks_list if prediction is not None else None
    ranked = rank_units(query, passages, query_vector, asks_value, models, asks_list)
    in_scope = prediction.in_scope if prediction is not None else 1.0
    if not ranked or ranked[0].score < models.selection.answer_floor:
        return Answer(
            **base, text="", confident=False, outcome="refused", reason="no_match",
            confidence=in_scope * (ranked[0].score if ranked else 0.0),
        )  # fmt: skip
    chosen: list[Candidate] | None = None
    unknown = False
    reason: str | None = None
    if prediction is not None and prediction.asks_value >= 0.5:
        # Never another province's or item's figure as the answer to a value question.
        ranked = [c for c in ranked if not conflicts(c, query)]
        unknown = not ranked or value_unknown(query, ranked, prediction, models.lexicon, models.unknown)
        if unknown:
            # Nothing known about the item: the honest line and who to ask, no other figure.
            chosen = known_units(query, ranked, models.lexicon)
            if partial_asked(query, ranked, models.partial_docs):
                reason = "partial_text"  # said first: the text in the library is cut
    if chosen is None:
        if not ranked:
            return Answer(
                **base, text="", confident=False, outcome="refused", reason="no_match",
                confidence=0.0,
            )  # fmt: skip
        chosen = whole_items(select_units(models, ranked), ranked)
    # The sources the answer is built from come first ("Xem thêm nguồn" shows the clause
    # each unit was copied from), then the other retrieved passages.
    base["passages"] = answer_first_passages(chosen, passages)
    return Answer(
        **base,
        text=_answer_text(chosen),
        confident=True,
        citations=_citations(chosen, passages),
        outcome="unknown" if unknown else "answered",
        reason=reason,
        intent=prediction.label if prediction is not None else None,
        confidence=in_scope * (ranked[0].score if ranked else 0.0),
    )

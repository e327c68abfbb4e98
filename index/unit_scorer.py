"""Scoring answer units: which sentence or list item of the top passages answers the question.

A small logistic regression over a handful of features gives each candidate unit the
probability that it holds the answer. Its weights are fitted on a tuning file (`python -m
scripts fit-scorer`, which writes `knowledge/answer_scorer.json`) and are data, not code:
the features are named, so the file says what the model learnt.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import passage_ranker
from index.lexicon import Entities, Lexicon, TermStats
from index.question import Query, bigrams_of
from index.schema import Passage
from index.textnorm import compare_key, content_tokens, fold_key
from index.units import AnswerUnit
from index.value_mentions import count_pattern, counted_nouns, has_value

SCORER_FILE = "answer_scorer.json"
#: A whole list competes only when it can be shown whole: within the answer budget of
#: `index.answering.MAX_ANSWER_CHARS` (700), with no item longer than the old sentence cut
#: (320 characters). Over the knowledge base plus the legal corpus, longer lists won and were
#: cut before the item that answered (tuning answer_first 0.78 with 1,400 characters); their
#: items and sentences compete instead.
LIST_MAX_CHARS, LIST_ITEM_MAX_CHARS = 700, 320
#: Passages (best first) whose units compete for the answer. With 5 the first hit is in the
#: candidates for every answerable tuning question (hit@5 = 1.0 on the tuning sets).
CANDIDATE_PASSAGES = 5

FEATURES = (
    "cosine",
    "cosine_gap",
    "overlap",
    "precision",
    "context_overlap",
    "label_match",
    "passage_score",
    "passage_rank",
    "entity_agree",
    "entity_conflict",
    "value_for_value_question",
    "list_for_list_question",
    "not_found",
    "log_length",
    "focus_overlap",
    "phrase_overlap",
    "entity_missing",
    "counted_value",
    # The passage ranker's score of the unit's passage minus the best one's: how sure the
    # ranker was, where passage_rank only says in which order it put them.
    "ranker_gap",
    # `label_match` again, for an English question only (see `ENGLISH_COPIES`).
    "english_label_match",
)

#: English interaction features: each copies a base feature for an English question (0
#: otherwise), as the passage ranker's do (`index.passage_ranker.ENGLISH_COPIES`). An English
#: question's words are its glossary terms, which name a law's article headings more often
#: than a Vietnamese question's own words do: `label_match` weighs -3.7 for Vietnamese
#: questions, and its English copy (offset-fitted, see the scorer file's `offset_fits`) gives
#: English questions back the unit under the heading they name.
ENGLISH_COPIES = {"english_label_match": "label_match"}

#: Features that order the units without entering their probability. In the probability,
#: `ranker_gap` (weight 1.5) pushed the units of other passages under the selection's
#: relative floor: answers lost their second unit (legal_holdout answer_hit 0.670 -> 0.629).
#: The probability stays what the floors, the confidence and the unknown decision read.
#: The English copies are fitted by `scripts.fit_unit_offset`, on hit@1 alone, so they too
#: only order: what the floors read for English answers was not part of that fit.
ORDER_ONLY = frozenset({"ranker_gap", *ENGLISH_COPIES})

@dataclass(slots=True)
class Candidate:
    """A unit of one of the top passages, with its features and score."""

    row: int
    unit: AnswerUnit
    passage: Passage
    rank: int
    features: np.ndarray
    entities: Entities
    #: Entities of the passage's document title and headings.
    context: Entities = Entities()
    score: float = 0.0
    #: What orders the candidates: `score` with the `ORDER_ONLY` features counted too.
    order: float = 0.0


@dataclass(slots=True)
class UnitScorer:
    """Logistic regression weights over `FEATURES`."""

    weights: dict[str, float]
    bias: float
    info: dict[str, Any] = field(default_factory=dict)

    def probability(self, features: np.ndarray, *, ordering: bool = False) -> np.ndarray:
        """P(unit answers the question) for a (n, len(FEATURES)) feature matrix.

        With `ordering`, the `ORDER_ONLY` features count too: the key that ranks units.
        """
        w = np.asarray(
            [self.weights.get(n, 0.0) if ordering or n not in ORDER_ONLY else 0.0 for n in FEATURES],
            dtype=np.float64,
        )
        z = np.asarray(features, dtype=np.float64) @ w + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, path: Path) -> None:
        """Writes the weights as readable JSON."""
        data = {"features": list(FEATURES), "weights": self.weights, "bias": self.bias, **self.info}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> UnitScorer:
        """Reads weights written by `save`; an absent file gives the untuned default."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default_scorer()
        weights = {str(k): float(v) for k, v in data.get("weights", {}).items()}
        info = {k: v for k, v in data.items() if k not in ("features", "weights", "bias")}
        return cls(weights, float(data.get("bias", 0.0)), info)


def default_scorer() -> UnitScorer:
    """Cosine and overlap only: the untuned selector, used until weights are fitted."""
    return UnitScorer({"cosine": 20.0, "overlap": 4.0}, -20.0, {"fitted": False})


def _share(tokens: Sequence[str], present: set[str] | frozenset[str], idf: dict[str, float]) -> float:
    total = sum(idf[t] for t in tokens)
    return sum(idf[t] for t in tokens if t in present) / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What a unit says regardless of the question; computed once per unit and index."""

    shown: str
    tokens: frozenset[str]
    idf_total: float
    has_value: bool
    not_found: bool
    log_length: float
    #: Adjacent pairs of the unit's tokens (see `index.question.bigrams_of`).
    bigrams: frozenset[tuple[str, str]] = frozenset()
    #: The shown text as `compare_key` and `fold_key` give it (for `count_pattern`).
    lower: str = ""
    folded: str = ""


def unit_facts(unit: AnswerUnit, stats: TermStats, lexicon: Lexicon) -> UnitFacts:
    """The question-independent features of a unit."""
    shown = " ".join([unit.label, unit.text, *unit.items])
    tokens = frozenset(unit.tokens)
    return UnitFacts(
        shown=shown,
        tokens=tokens,
        idf_total=sum(stats.idf(t) for t in tokens),
        has_value=has_value(shown),
        not_found=lexicon.says_not_found(shown),
        log_length=math.log1p(len(shown)) / 8.0,
        bigrams=bigrams_of(unit.tokens),
        lower=compare_key(shown),
        folded=fold_key(shown),
    )


def _precision(facts: UnitFacts, question: set[str], stats: TermStats) -> float:
    # Share of the unit's own (IDF-weighted) words that the question asks about: a long
    # paragraph that mentions everything covers the question but is not about it.
    if facts.idf_total <= 0:
        return 0.0
    return sum(stats.idf(t) for t in facts.tokens & question) / facts.idf_total


def _phrase_share(
    pairs: frozenset[tuple[str, str]], present: frozenset[tuple[str, str]], idf: dict[str, float]
) -> float:
    # IDF-weighted share of the question's two-syllable words that the unit has as words:
    # "chuyển đổi số" is not "đổi" in one place and "số" in another.
    total = sum(idf.get(a, 0.0) + idf.get(b, 0.0) for a, b in pairs)
    if total <= 0:
        return 0.0
    return sum(idf.get(a, 0.0) + idf.get(b, 0.0) for a, b in pairs & present) / total


def _entity_features(
    question: Entities, unit: Entities, context: Entities
) -> tuple[int, int, int]:
    # For each kind the question names (province, item, document, year): does the unit (or,
    # for provinces and documents, its passage's document) name it, name only others, or
    # name none of that kind (missing: the unit may be about anything)?
    agree = conflict = missing = 0
    for kind in ("province", "item", "doc", "year"):
        wanted = question.keys(kind)
        if not wanted:
            continue
        seen = unit.keys(kind) | (context.keys(kind) if kind in ("province", "doc") else set())
        if kind == "province":
            wanted = wanted | question.parents()
            seen = seen | unit.parents() | context.parents()
        if seen & wanted:
            agree += 1
        else:
            missing += 1
        # Naming others too is a conflict: a list of every item's cap is not the answer
        # about one item, and a figure next to another item's name is that item's.
        if seen - wanted and (kind != "province" or not seen & wanted):
            conflict += 1
    return agree, conflict, missing


def with_english_copies(values: Sequence[float], *, english: bool) -> list[float]:
    """A unit's base feature values (`FEATURES` before the copies) plus the English copies,
    which repeat their base value for an English question and are 0 otherwise."""
    named = dict(zip(FEATURES, values, strict=False))
    full = passage_ranker.with_english_copies(named, ENGLISH_COPIES, english=english)
    return [full[name] for name in FEATURES if name in full]


def ranker_gaps(passages: Sequence[Passage]) -> list[float]:
    """Each passage's ranker score minus the best one's (0 when none was scored).

    A passage the ranker did not score (beyond its head) gets the worst scored one's gap.
    """
    scored = [p.rank_score for p in passages if p.rank_score is not None]
    if not scored:
        return [0.0] * len(passages)
    best, worst = max(scored), min(scored)
    return [(p.rank_score if p.rank_score is not None else worst) - best for p in passages]


def candidates(
    query: Query,
    query_vector: np.ndarray | None,
    passages: Sequence[Passage],
    units: Any,  # index.units.UnitStore
    stats: TermStats,
    lexicon: Lexicon,
    *,
    asks_value: float,
    asks_list: float | None = None,
    contexts: dict[int, tuple[frozenset[str], Entities]],
    entities_of: Callable[[int], Entities] | None = None,
    facts_of: Callable[[int], UnitFacts] | None = None,
) -> list[Candidate]:
    """Builds the feature rows of every unit of the top passages.

    Args:
        query: The analysed question.
        query_vector: Its embedding (None in BM25-only mode: cosine features are 0).
        passages: Retrieved passages, best first.
        units: The index's unit store.
        stats: IDF statistics.
        lexicon: Entity names.
        asks_value: Calibrated probability that the question asks for a value.
        asks_list: Calibrated probability that it asks for a list (None: not a value).
        contexts: chunk_id -> (folded context tokens, entities) of title and headings.
        entities_of: Entities of a unit row, cached by the caller (found afresh when None).
        facts_of: Question-independent facts of a unit row, cached by the caller.

    Returns:
        One candidate per unit, in passage then document order.
    """
    top = list(passages[:CANDIDATE_PASSAGES])
    if not top:
        return []
    best = max(p.score for p in top) or 1.0
    gaps = ranker_gaps(top)
    tokens = list(query.tokens)
    # A question word no indexed text uses ("gi", "nhung" typed for "gì", "những"; an English
    # word without glossary term) matches no unit: weighted, it only shrinks every share.
    idf = {t: stats.idf(t) if stats.known(t) else 0.0 for t in tokens}
    rows = [(rank, p, row) for rank, p in enumerate(top) for row in units.rows_of(p.chunk.chunk_id)]
    if not rows:
        return []
    if query_vector is not None:
        matrix = units.vectors[[row for _, _, row in rows]]
        cosines = matrix @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
    else:
        cosines = np.zeros(len(rows), dtype=np.float32)
    best_cos = float(cosines.max())
    asks_list = 1.0 - asks_value if asks_list is None else asks_list
    question_set = set(tokens)
    focus = list(query.focus_tokens)
    for token in focus:
        idf.setdefault(token, stats.idf(token) if stats.known(token) else 0.0)
    counted = count_pattern(counted_nouns(query)) if query.english is None else None
    found: list[Candidate] = []
    for (rank, passage, row), cosine in zip(rows, cosines, strict=True):
        unit = units.units[row]
        if unit.kind == "list" and (
            unit.display_length > LIST_MAX_CHARS
            or max((len(i) for i in unit.items), default=0) > LIST_ITEM_MAX_CHARS
        ):
            continue
        context_tokens, context_entities = contexts.get(
            passage.chunk.chunk_id, (frozenset(), Entities())
        )
        facts = facts_of(row) if facts_of is not None else unit_facts(unit, stats, lexicon)
        unit_tokens = facts.tokens
        label_tokens = set(unit.label_tokens) | context_tokens
        entities = entities_of(row) if entities_of is not None else lexicon.find(facts.shown)
        agree, conflict, missing = _entity_features(query.entities, entities, context_entities)
        # The asked count in an article of a legal text. Not in our guides and news: fitted
        # there too, it lost a held-out question, since their caps lists state counts of many
        # items side by side (see the scorer file's listwise_offsets).
        count_found = (
            counted is not None
            and bool(passage.chunk.path)
            and counted.search(facts.folded if query.accentless else facts.lower) is not None
        )
        values = [
            float(cosine),
            float(cosine) - best_cos,
            _share(tokens, unit_tokens, idf),
            _precision(facts, question_set, stats),
            _share(tokens, context_tokens - unit_tokens, idf),
            _share(tokens, label_tokens, idf),
            passage.score / best,
            1.0 / (1.0 + rank),
            float(agree),
            float(conflict),
            asks_value * float(facts.has_value),
            asks_list * float(unit.kind == "list"),
            float(facts.not_found),
            facts.log_length,
            _share(focus, unit_tokens, idf),
            _phrase_share(query.bigrams, facts.bigrams, idf),
            float(missing),
            float(count_found),
            gaps[rank],
        ]
        features = np.asarray(
            with_english_copies(values, english=query.english is not None), dtype=np.float64
        )
        found.append(Candidate(row, unit, passage, rank, features, entities, context_entities))
    return found


def context_of(passage: Passage, lexicon: Lexicon) -> tuple[frozenset[str], Entities]:
    """Folded tokens and entities of a passage's document title, province and headings."""
    doc = passage.doc
    chunk = passage.chunk
    text = " ".join([doc.title, doc.province or "", *chunk.heading_path, *chunk.path])
    return frozenset(content_tokens(text)), lexicon.find(text)

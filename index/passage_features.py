"""What the passage ranker (`index.passage_ranker`) reads about each head candidate.

The retrieval scores (fused, cosine, BM25), the best answer unit's match with the question
(IDF-weighted words and word pairs in the unit, half credit for words near it) and what the
chunk is relative to the question and the other candidates: a guide, an article, the
document the question names, one no longer in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.glossary import Glossary, shipped_glossary
from index.header_meta import document_type, type_matches, types_named
from index.lexicon import TermStats
from index.lifecycle import named_documents, number_key
from index.passage_ranker import ENGLISH_COPIES, FEATURES, feature_row, with_english_copies
from index.schema import NOT_IN_FORCE, Chunk, DocumentMeta
from index.textnorm import content_tokens

if TYPE_CHECKING:
    from index.fusion import ScoredId


class HeadFeatures:
    """Feature rows of head candidates over one index (immutable once built).

    Args:
        chunks: chunk_id -> chunk.
        docs: doc_id -> document.
        stats: Word statistics of the index (IDF); no lexical features without them.
        units: The index's answer units (`index.units.UnitStore`), or None.
        glossary: Tells English questions apart; the shipped glossary when None.
    """

    def __init__(
        self, chunks: Mapping[int, Chunk], docs: Mapping[str, DocumentMeta],
        stats: TermStats | None, units: Any, *, glossary: Glossary | None = None,
    ) -> None:  # fmt: skip
        self._chunks = chunks
        self._docs = docs
        self.stats = stats
        self._units = units
        self._glossary = glossary or shipped_glossary()
        self._unit_tokens = _unit_tokens(units)
        self._context = {
            cid: frozenset(content_tokens(" ".join(_about(chunk, docs.get(chunk.doc_id)))))
            | frozenset(t for tokens, _ in self._unit_tokens.get(cid, ()) for t in tokens)
            for cid, chunk in chunks.items()
        }
        # The innermost heading (an article's "Điều 19. Hồ sơ quyết toán", a guide's section).
        self._heading = {
            cid: frozenset(content_tokens(chunk.heading_path[-1] if chunk.heading_path else ""))
            for cid, chunk in chunks.items()
        }

    def _doc_for(self, chunk_id: int) -> DocumentMeta:
        chunk = self._chunks.get(chunk_id)
        doc_id = chunk.doc_id if chunk is not None else ""
        return self._docs.get(doc_id) or DocumentMeta(doc_id=doc_id, title=doc_id)

    def rows(
        self,
        query: str,
        head: Sequence[ScoredId],
        tokens: Sequence[str] | None = None,
        *,
        dense: Sequence[tuple[int, float]] = (),
        bm25: Sequence[tuple[int, float]] = (),
        vector: np.ndarray | None = None,
        needed: frozenset[str] | None = None,
    ) -> np.ndarray:
        """The `index.passage_ranker.FEATURES` of each head result, one row each.

        `needed` names the features the ranker weighs (all when None); the costlier ones
        (unit cosines, named documents, the English test) are left 0 when not needed, so the
        hand-set default costs what the rerank it replaced did.
        """
        want = needed if needed is not None else frozenset(FEATURES)
        english = bool(want & ENGLISH_COPIES.keys()) and (
            self._glossary.english_terms(query) is not None
        )
        cosines_needed = "unit_cosine_gap" in want or (english and "english_unit_cosine_gap" in want)
        unit_cos = self._unit_cosines(head, vector) if cosines_needed else [0.0] * len(head)
        top = head[0].score if head and head[0].score > 0 else 1.0
        words = list(dict.fromkeys(tokens if tokens is not None else content_tokens(query)))
        idf = {w: self.stats.idf(w) for w in words} if self.stats is not None else {}
        idf_total = sum(idf.values()) or 1.0
        pairs = set(zip(words, words[1:], strict=False))
        query_words = f" {' '.join(words)} "
        named: set[str] = set()
        if want & {"named", "names_other", "guide_on_named"}:
            named = {doc.doc_id for doc in named_documents(query, self._docs.values())}
        named_numbers = {number_key(self._docs[d].number) for d in named}
        types = self._types_named(query) if "type_named" in want else frozenset()
        best_dense = max((s for _, s in dense), default=0.0)
        worst_dense = min((s for _, s in dense), default=0.0)
        best_bm25 = max((s for _, s in bm25), default=0.0)
        docs = [self._doc_for(item.chunk_id) for item in head]
        head_numbers = {number_key(d.number) for d in docs if d.doc_type != "guide" and d.number}
        guided = {number_key(n) for d in docs if d.doc_type == "guide" for n in d.based_on}
        rows: list[np.ndarray] = []
        for item, doc in zip(head, docs, strict=True):
            chunk = self._chunks.get(item.chunk_id)
            match = 0.0
            if chunk is not None and idf:
                match = _unit_match(
                    words, pairs, idf, self._unit_tokens.get(item.chunk_id, ()),
                    self._context.get(item.chunk_id, frozenset()),
                )  # fmt: skip
            guide = doc.doc_type == "guide"
            bases = {number_key(n) for n in doc.based_on} if guide else set()
            own = number_key(doc.number) if doc.number and not guide else ""
            cosine = item.dense_score if item.dense_score is not None else worst_dense
            gap = cosine - best_dense
            heading = self._heading.get(item.chunk_id, frozenset())
            own_type = document_type(doc.doc_type, doc.number) if types else None
            values = {
                "unit_cosine_gap": unit_cos[len(rows)],
                "heading_match": sum(v for w, v in idf.items() if w in heading) / idf_total,
                "fused": item.score / top,
                "unit_match": match,
                "dense_gap": gap,
                "bm25": (item.bm25_score or 0.0) / best_bm25 if best_bm25 > 0 else 0.0,
                "guide": float(guide),
                "article": float(chunk is not None and any(p.startswith("Điều") for p in chunk.path)),
                "news": float(doc.doc_type == "news"),
                "not_in_force": float(doc.status in NOT_IN_FORCE),
                "named": float(doc.doc_id in named),
                "names_other": float(bool(named) and doc.doc_id not in named
                                     and not bases & named_numbers),
                "guide_on_named": float(bool(bases & named_numbers)),
                "province": float(_names_province(query_words, doc.province)),
                "guide_law_in_head": float(bool(bases & head_numbers)),
                "law_guide_in_head": float(bool(own) and own in guided),
                "type_named": float(type_matches(types, own_type)),
            }  # fmt: skip
            rows.append(feature_row(with_english_copies(values, ENGLISH_COPIES, english=english)))
        return np.vstack(rows) if rows else np.zeros((0, len(FEATURES)))

    def _types_named(self, query: str) -> frozenset[str]:
        """The document types the question names, in Vietnamese or (by the glossary) English."""
        rendering = self._glossary.render_english(query)
        english = types_named(rendering.text) if rendering is not None else frozenset()
        return types_named(query) | english

    def _unit_cosines(self, head: Sequence[ScoredId], vector: np.ndarray | None) -> list[float]:
        """Best unit cosine of each head chunk minus the head's best (-0.1 without units)."""
        units = self._units
        vectors = getattr(units, "vectors", None)
        if vector is None or vectors is None or not len(getattr(units, "units", ())):
            return [0.0] * len(head)
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        best: list[float | None] = []
        for item in head:
            rows = units.rows_of(item.chunk_id)
            best.append(float(np.max(vectors[rows] @ query)) if rows else None)
        top = max((b for b in best if b is not None), default=0.0)
        return [(b - top) if b is not None else -0.1 for b in best]


def _names_province(query_words: str, province: str | None) -> bool:
    # `query_words` is " "-padded folded content words, so "nam" alone never matches.
    if not province or province == "national":
        return False
    name = " ".join(content_tokens(province))
    return bool(name) and f" {name} " in query_words


def _about(chunk: Chunk, doc: DocumentMeta | None) -> list[str]:
    about = [doc.title, doc.province or ""] if doc is not None else []
    return [*about, *chunk.heading_path]


def _unit_tokens(units: Any) -> dict[int, list[tuple[frozenset[str], frozenset[tuple[str, str]]]]]:
    """chunk_id -> (token set, adjacent pairs) of each stored unit."""
    found: dict[int, list[tuple[frozenset[str], frozenset[tuple[str, str]]]]] = {}
    for unit in getattr(units, "units", ()) or ():
        pairs = frozenset(zip(unit.tokens, unit.tokens[1:], strict=False))
        found.setdefault(unit.chunk_id, []).append((frozenset(unit.tokens), pairs))
    return found


#: Share of a query word's weight credited when it is near a unit (title, headings, other
#: units of the chunk) rather than in it (the value of the sentence-level rerank before).
CONTEXT_CREDIT = 0.5


def _unit_match(
    words: Sequence[str],
    pairs: set[tuple[str, str]],
    idf: dict[str, float],
    units: Sequence[tuple[frozenset[str], frozenset[tuple[str, str]]]],
    context: frozenset[str],
) -> float:
    """IDF-weighted share of the query found in the best unit, near it, and as pairs."""
    total = sum(idf.values())
    if total <= 0 or not units:
        return 0.0
    best = 0.0
    for tokens, unit_pairs in units:
        present = [w for w in words if w in tokens]
        if not present:
            continue
        matched = sum(idf[w] for w in present)
        matched += CONTEXT_CREDIT * sum(idf[w] for w in words if w in context and w not in tokens)
        matched += sum((idf[a] + idf[b]) / 2 for a, b in pairs & unit_pairs)
        best = max(best, matched / total)
    return best
